"""ArgMax, ArgMin and TopK in the reference interpreter against onnxruntime, on seeded shapes and
attributes across opsets; their int64 results feed nothing but graph outputs (and views)."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from tests.onnx_cases import i64, one_node_model
from tinyc import pipeline, runners
from tinyc.errors import UnsupportedOp


def _build(model: onnx.ModelProto, tmp_path, dtype: str = "float32") -> pipeline.Compiled:
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    return pipeline.build(path, pipeline.Options(dtype=dtype, name="model"))


def _check_ref(model: onnx.ModelProto, tmp_path, x: np.ndarray) -> None:
    compiled = _build(model, tmp_path)
    got = runners.run(compiled, {"x": x}, "ref")
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    for i in range(len(x)):
        for name, exp in zip(compiled.graph.outputs, session.run(None, {"x": x[i]})):
            assert got[name][i].dtype == exp.dtype, name
            assert np.array_equal(got[name][i], exp), f"{name}: {got[name][i]} != {exp}"


def _ties(rng, shape) -> np.ndarray:
    """Small integers as floats: many equal values, so the tie rules are exercised."""
    return rng.integers(-3, 4, shape).astype(np.float32)


@pytest.mark.parametrize("seed", range(6))
def test_argmax_argmin_match_onnxruntime(seed, tmp_path):
    rng = np.random.default_rng(seed)
    rank = int(rng.integers(1, 5))
    shape = tuple(int(d) for d in rng.integers(1, 6, rank))
    op = ("ArgMax", "ArgMin")[seed % 2]
    opset = (1, 11, 12, 13)[seed % 4]
    attrs = {"axis": int(rng.integers(-rank, rank)) if opset >= 11 else int(rng.integers(0, rank)),
             "keepdims": int(rng.integers(0, 2))}
    if opset >= 12:
        attrs["select_last_index"] = int(rng.integers(0, 2))
    model = one_node_model(op, [("x", shape)], attrs, opset)
    _check_ref(model, tmp_path, _ties(rng, (4, *shape)))


@pytest.mark.parametrize("seed", range(6))
def test_topk_matches_onnxruntime(seed, tmp_path):
    rng = np.random.default_rng(100 + seed)
    rank = int(rng.integers(1, 4))
    shape = tuple(int(d) for d in rng.integers(1, 7, rank))
    axis = int(rng.integers(-rank, rank))
    k = int(rng.integers(0, shape[axis] + 1))
    if seed == 0:  # opset 1: k is an attribute
        model = one_node_model("TopK", [("x", shape)], {"axis": axis % rank, "k": k}, 1, 2)
    else:
        attrs = {"axis": axis, "largest": int(rng.integers(0, 2)), "sorted": 1}
        model = one_node_model("TopK", [("x", shape), ("k", i64(k))], attrs, 11, 2)
    x = _ties(rng, (3, *shape)) if seed % 2 else rng.standard_normal((3, *shape)).astype(np.float32)
    _check_ref(model, tmp_path, x)


def test_an_index_output_through_a_view_stays_int64(tmp_path):
    nodes = [helper.make_node("ArgMax", ["x"], ["a"], axis=1), helper.make_node("Flatten", ["a"], ["f"]),
             helper.make_node("Identity", ["f"], ["y"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.INT64, [1, 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    assert _build(model, tmp_path).graph.tensors["y"].dtype == "int64"
    _check_ref(model, tmp_path, np.random.default_rng(1).standard_normal((2, 1, 4, 3)).astype(np.float32))


def test_an_index_output_feeding_a_float_kernel_is_unsupported(tmp_path):
    nodes = [helper.make_node("ArgMax", ["x"], ["a"], axis=1, name="am"),
             helper.make_node("Add", ["a", "one"], ["y"], name="add")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.INT64, [1, 1])],
                              [onnx.numpy_helper.from_array(i64(1), "one")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    with pytest.raises(UnsupportedOp, match=r"'add' \(Add\): input 'a' holds int64") as e:
        _build(model, tmp_path)
    assert "\n" not in str(e.value)


def test_topk_needs_a_constant_k(tmp_path):
    model = one_node_model("TopK", [("x", (1, 5)), ("k", (1,))], {}, 11, 2)
    with pytest.raises(UnsupportedOp, match="K input must be constant"):
        _build(model, tmp_path)
