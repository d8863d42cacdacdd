"""Slice, Split, Gather, Expand, Tile, DepthToSpace and Resize lowerings: what they become in the IR,
the tables and loops the C gets, constant folding kept, and the errors a user's model can trigger.
(Numerics against onnxruntime: tests/unit/test_frontend.py on tests/onnx_cases.py, tests/host/test_resize.py.)"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from tests.helpers import graph_of, quantize_graph
from tests.onnx_cases import i64, one_node_model
from tinyc import ops, pipeline
from tinyc.errors import BadInput, UnsupportedOp
from tinyc.ops.resize import axis_taps
from tinyc.ops.tensor_ops import strided_loops


def _import(model, tmp_path):
    onnx.save(model, tmp_path / "m.onnx")
    return pipeline.frontend(str(tmp_path / "m.onnx"))


def test_tile_is_one_strided_copy_whose_repeat_dims_read_with_stride_zero(tmp_path):
    g = _import(one_node_model("Tile", [("x", (1, 2, 3)), ("r", i64(1, 2, 4))]), tmp_path)
    assert [n.op for n in g.nodes] == ["strided_copy", "reshape"]
    loops = strided_loops("t", g.nodes[0].attrs["shape"], g.nodes[0].attrs["strides"])
    assert loops["dims"].tolist() == [2, 2, 4, 3] and loops["input_strides"].tolist() == [0, 3, 0, 1]


def test_slice_with_negative_step_starts_at_the_clamped_end_and_walks_back(tmp_path):
    model = one_node_model("Slice", [("x", (2, 10)), ("s", i64(100)), ("e", i64(-100)), ("a", i64(1)),
                                     ("st", i64(-3))])
    attrs = _import(model, tmp_path).nodes[0].attrs
    assert attrs == {"shape": (2, 4), "strides": (10, -3), "offset": 9}


def test_gather_of_a_regular_index_set_is_a_strided_copy_and_an_irregular_one_a_gather(tmp_path):
    regular = one_node_model("Gather", [("x", (1, 6, 2)), ("i", i64(5, 3, 1))], {"axis": 1})
    assert _import(regular, tmp_path).nodes[0].attrs == {"shape": (1, 3, 2), "strides": (12, -4, 1), "offset": 10}
    irregular = one_node_model("Gather", [("x", (1, 6, 2)), ("i", i64(5, 3, 4))], {"axis": 1})
    node = _import(irregular, tmp_path).nodes[0]
    assert node.op == "gather" and node.attrs["indices"] == (5, 3, 4)


def test_shape_arithmetic_on_constants_still_folds(tmp_path):
    nodes = [helper.make_node("Shape", ["x"], ["s"]), helper.make_node("Gather", ["s", "zero"], ["c"], axis=0),
             helper.make_node("Slice", ["s", "one", "three"], ["hw"]),
             helper.make_node("Concat", ["hw", "c"], ["shape"], axis=0),
             helper.make_node("Reshape", ["x", "shape"], ["y0"])]
    inits = [onnx.numpy_helper.from_array(i64(1), "one"), onnx.numpy_helper.from_array(i64(0), "zero"),
             onnx.numpy_helper.from_array(i64(3), "three")]
    graph = helper.make_graph(nodes, "fold", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4])],
                              [helper.make_tensor_value_info("y0", TensorProto.FLOAT, [3, 4, 2])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    g = _import(model, tmp_path)
    assert [(n.op, n.attrs["shape"]) for n in g.nodes] == [("reshape", (3, 4, 2))]


def test_nearest_resize_has_one_tap_and_bilinear_two():
    index, weight, outside = axis_taps(4, 8, 2.0, mode="nearest", coord="asymmetric", nearest_mode="floor")
    assert index[:, 0].tolist() == [0, 0, 1, 1, 2, 2, 3, 3] and weight.shape == (8, 1) and not outside.any()
    index, weight, _ = axis_taps(4, 8, 2.0, mode="linear", coord="half_pixel")
    assert weight.shape == (8, 2) and np.allclose(weight.sum(axis=1), 1.0)
    assert index[0].tolist() == [0, 0] or weight[0, 1] == 0  # clamped at the edge: one sample


def test_resize_leaves_unscaled_axes_as_copies(tmp_path):
    model = one_node_model("Resize", [("x", (1, 3, 4, 5)), ("", None), ("s", np.array([1, 1, 2, 1], np.float32))],
                           {"mode": "linear"})
    axes = _import(model, tmp_path).nodes[0].attrs["axes"]
    assert [a is None for a in axes] == [True, True, False, True]


def test_int8_cubic_resize_is_unsupported_naming_nearest_and_linear():
    g = graph_of("resize", [("x", (1, 1, 2, 2))], {
        "shape": (1, 1, 4, 2), "mode": "cubic", "extrapolation_value": 0.0,
        "axes": (None, None, axis_taps(2, 4, 2.0, mode="cubic", coord="half_pixel"), None)})
    with pytest.raises(UnsupportedOp, match="nearest and linear"):
        quantize_graph(g, {"x": np.ones((2, 1, 1, 2, 2), np.float32)})


def test_int8_linear_resize_without_onnx_coordinates_rounds_its_weights():
    # no coord/scales attrs (an IR-built node): ONNX's float taps, weights rounded to 1/1024
    g = graph_of("resize", [("x", (1, 1, 3, 2))], {
        "shape": (1, 1, 7, 2), "mode": "linear", "extrapolation_value": 0.0,
        "axes": (None, None, axis_taps(3, 7, 7 / 3, mode="linear", coord="half_pixel"), None)})
    h = quantize_graph(g, {"x": np.random.default_rng(0).uniform(-1, 1, (4, 1, 1, 3, 2)).astype(np.float32)})
    (w,) = h.nodes[0].attrs["int8"]["weights"]
    assert np.array_equal(w.sum(axis=1), np.full(7, 1024))
    assert np.abs(w / 1024 - g.nodes[0].attrs["axes"][2][1]).max() <= 1 / 1024


def test_strided_copy_int8_keeps_input_q():
    g = graph_of("strided_copy", [("x", (1, 4))], {"shape": (2,), "strides": (-2,), "offset": 3})
    h = quantize_graph(g, {"x": np.random.default_rng(0).uniform(-1, 1, (3, 1, 4)).astype(np.float32)})
    assert h.tensors["y0"].q is h.tensors["x"].q
    assert ops.get("strided_copy").ref_int8(h.nodes[0], [np.arange(4, dtype=np.int8).reshape(1, 4)])[0].tolist() \
        == [3, 1]


@pytest.mark.parametrize("model,error,match", [
    (one_node_model("Resize", [("x", (1, 1, 2, 2)), ("", None), ("s", np.array([1, 1, 0.5, 0.5], np.float32))],
                    {"mode": "nearest", "antialias": 1}, 18), BadInput, "antialias"),
    (one_node_model("Gather", [("x", (3, 4)), ("i", (2,))]), UnsupportedOp, "indices must be constant or an int64"),
    (one_node_model("Resize", [("x", (1, 1, 2, 2)), ("", None), ("s", (4,))]), UnsupportedOp,
     "scales must be constant"),
])
def test_unsupported_forms_fail_with_one_line_naming_the_node(model, error, match, tmp_path):
    with pytest.raises(error, match=match) as e:
        _import(model, tmp_path)
    assert "\n" not in str(e.value) and "'node'" in str(e.value)
