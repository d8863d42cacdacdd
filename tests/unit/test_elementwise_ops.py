"""Non-weight ops (add/sub/mul, unary, prelu, softmax, pooling, concat, pad, transpose):
float reference vs onnxruntime on one-node models, int8 reference vs float, error paths."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.helpers import graph_of, quantize_graph, run_ref
from tinyc import ops, quant
from tinyc.errors import UnsupportedOp
from tinyc.ops.binary import broadcast_loops
from tinyc.ops.tensor_ops import pad_loops, transpose_loops

RTOL = 1e-6  # float reference vs onnxruntime
ATOL = 1e-7


def onnx_run(nodes: list, feeds: dict[str, np.ndarray], consts: dict[str, np.ndarray] | None = None,
             opset: int = 13) -> np.ndarray:
    """Run ONNX nodes (the last writes "y") on feeds with onnxruntime; consts become initializers."""
    inputs = [helper.make_tensor_value_info(k, TensorProto.FLOAT, v.shape) for k, v in feeds.items()]
    inits = [numpy_helper.from_array(v, k) for k, v in (consts or {}).items()]
    graph = helper.make_graph(nodes, "g", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)[0]


def ref_one(op: str, inputs: list, attrs: dict, feeds: dict[str, np.ndarray]) -> np.ndarray:
    """The float reference of a one-node graph on one sample."""
    g = graph_of(op, inputs, attrs)
    return run_ref(g, {k: v[None] for k, v in feeds.items()})["y0"][0]


def rand(shape, seed=0, lo=-3.0, hi=3.0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(lo, hi, shape).astype(np.float32)


# ---- add, sub, mul -----------------------------------------------------------------------

BROADCASTS = [((1, 5, 4, 7), (1, 5, 1, 1)), ((3, 7), (7,)), ((1, 3, 5, 7), ()), ((1, 3, 5, 7), (1, 3, 5, 7)),
              ((5, 1, 3), (1, 4, 1)), ((1,), (1, 3, 1, 5))]


@pytest.mark.parametrize("op,onnx_op", [("add", "Add"), ("sub", "Sub"), ("mul", "Mul")])
@pytest.mark.parametrize("a_shape,b_shape", BROADCASTS)
def test_binary_broadcast_matches_onnxruntime(op, onnx_op, a_shape, b_shape):
    a, b = rand(a_shape, 1), rand(b_shape, 2)
    expected = onnx_run([helper.make_node(onnx_op, ["a", "b"], ["y"])], {"a": a, "b": b})
    got = ref_one(op, [("a", a_shape), ("b", b_shape)], {"act": None}, {"a": a, "b": b})
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("act,onnx_act", [((0.0, None), "Relu"), ((0.0, 6.0), "Clip6")])
def test_binary_fused_activation_matches_onnxruntime(act, onnx_act):
    a, b = rand((1, 3, 5, 7), 1, -8, 8), rand((3, 1, 1), 2)
    act_node = (helper.make_node("Relu", ["s"], ["y"]) if onnx_act == "Relu"
                else helper.make_node("Clip", ["s", "lo", "hi"], ["y"]))
    consts = {"b": b, "lo": np.array(0.0, np.float32), "hi": np.array(6.0, np.float32)}
    expected = onnx_run([helper.make_node("Add", ["a", "b"], ["s"]), act_node], {"a": a}, consts)
    got = ref_one("add", [("a", a.shape), ("b", b)], {"act": act}, {"a": a})
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


def test_broadcast_loops_merge_same_shape_into_one_flat_loop():
    loops = broadcast_loops((1, 3, 5, 7), (1, 3, 5, 7), (1, 3, 5, 7))
    assert loops["out_dims"].tolist() == [1, 1, 1, 105]
    assert loops["a_strides"].tolist() == [0, 0, 0, 1] and loops["b_strides"].tolist() == [0, 0, 0, 1]


def test_broadcast_loops_per_channel_operand_gets_zero_inner_stride():
    loops = broadcast_loops((1, 3, 5, 7), (1, 3, 1, 1), (1, 3, 5, 7))
    assert loops["out_dims"].tolist() == [1, 1, 3, 35]
    assert loops["a_strides"].tolist() == [0, 0, 35, 1] and loops["b_strides"].tolist() == [0, 0, 1, 0]


def test_broadcast_loops_beyond_four_distinct_dims_is_unsupported():
    with pytest.raises(UnsupportedOp):
        broadcast_loops((2, 1, 2, 1, 2), (1, 2, 1, 2, 1), (2, 2, 2, 2, 2))


def test_binary_of_unbroadcastable_shapes_is_unsupported():
    with pytest.raises(UnsupportedOp, match="node"):
        graph_of("add", [("a", (1, 3)), ("b", (1, 4))], {"act": None})


def int8_error_in_output_steps(g, samples) -> float:
    """Largest |dequantized int8 reference - float reference| in output scales, calibrated on samples."""
    h = quantize_graph(g, samples)
    y8, yf = run_ref(h, samples)["y0"], run_ref(g, samples)["y0"]
    q = h.tensors["y0"].q
    return float(np.max(np.abs((y8.astype(np.float64) - q.zero_point[0]) * q.scale[0] - yf)) / q.scale[0])


@pytest.mark.parametrize("op", ["add", "sub", "mul"])
@pytest.mark.parametrize("a_shape,b_shape", BROADCASTS[:3])
def test_binary_int8_stays_within_two_output_steps_of_float(op, a_shape, b_shape):
    g = graph_of(op, [("a", a_shape), ("b", b_shape)], {"act": None})
    rng = np.random.default_rng(3)
    samples = {"a": rng.uniform(-1, 3, (6, *a_shape)).astype(np.float32),  # a negative-range zp
               "b": rng.uniform(-4, 0.5, (6, *b_shape)).astype(np.float32)}
    assert int8_error_in_output_steps(g, samples) <= 2.0


def test_binary_int8_constant_operand_is_quantized_per_tensor_over_its_range():
    w = np.array([-0.5, 2.0, 0.7], np.float32).reshape(3, 1, 1)
    g = graph_of("mul", [("a", (1, 3, 5, 7)), ("w", w)], {"act": (0.0, None)})
    h = quantize_graph(g, {"a": rand((4, 1, 3, 5, 7), 6)})
    wq = h.tensors[h.nodes[0].inputs[1]]
    assert wq.dtype == "int8" and wq.data.ravel().tolist() == [-128, 127, wq.data.ravel()[2]]
    assert np.allclose(quant.dequantize_array(wq.data, wq.q), w, atol=wq.q.scale[0] / 2)
    assert int8_error_in_output_steps(g, {"a": rand((4, 1, 3, 5, 7), 6)}) <= 2.0


def test_add_int8_follows_tflite_rescale_to_twice_the_larger_input_scale():
    g = graph_of("add", [("a", (1, 8)), ("b", (1, 8))], {"act": None})
    h = quantize_graph(g, {"a": rand((2, 1, 8), 1, -1, 1), "b": rand((2, 1, 8), 2, -4, 4)})
    p = h.nodes[0].attrs["int8"]
    sa, sb = h.tensors["a"].q.scale[0], h.tensors["b"].q.scale[0]
    assert p["left_shift"] == 20
    assert (p["b_multiplier"], p["b_shift"]) == quant.quantize_multiplier(0.5)  # b has the larger scale
    assert (p["a_multiplier"], p["a_shift"]) == quant.quantize_multiplier(sa / (2 * sb))


# ---- unary and prelu ------------------------------------------------------------------------

UNARY = [
    ({"fn": "relu"}, lambda: helper.make_node("Relu", ["x"], ["y"])),
    ({"fn": "clip", "min": -0.5, "max": 1.5}, lambda: helper.make_node("Clip", ["x", "lo", "hi"], ["y"])),
    ({"fn": "clip", "min": None, "max": 1.5}, lambda: helper.make_node("Clip", ["x", "", "hi"], ["y"])),
    ({"fn": "leaky_relu"}, lambda: helper.make_node("LeakyRelu", ["x"], ["y"])),
    ({"fn": "leaky_relu", "alpha": 0.3}, lambda: helper.make_node("LeakyRelu", ["x"], ["y"], alpha=0.3)),
    ({"fn": "sigmoid"}, lambda: helper.make_node("Sigmoid", ["x"], ["y"])),
    ({"fn": "tanh"}, lambda: helper.make_node("Tanh", ["x"], ["y"])),
    ({"fn": "hard_sigmoid"}, lambda: helper.make_node("HardSigmoid", ["x"], ["y"])),
    ({"fn": "hard_sigmoid", "alpha": 0.25, "beta": 0.4},
     lambda: helper.make_node("HardSigmoid", ["x"], ["y"], alpha=0.25, beta=0.4)),
    ({"fn": "hard_swish"}, lambda: helper.make_node("HardSwish", ["x"], ["y"])),
]


@pytest.mark.parametrize("attrs,node", UNARY, ids=[f"{a['fn']}{i}" for i, (a, _) in enumerate(UNARY)])
def test_unary_matches_onnxruntime(attrs, node):
    x = rand((1, 5, 3, 7), 1, -9, 9)
    consts = {"lo": np.array(-0.5, np.float32), "hi": np.array(1.5, np.float32)}
    expected = onnx_run([node()], {"x": x}, consts, opset=14)
    got = ref_one("unary", [("x", x.shape)], attrs, {"x": x})
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("attrs", [a for a, _ in UNARY], ids=[a["fn"] for a, _ in UNARY])
def test_unary_int8_table_is_the_float_function_rounded(attrs):
    g = graph_of("unary", [("x", (1, 3, 5))], attrs)
    h = quantize_graph(g, {"x": rand((4, 1, 3, 5), 2, -6, 4)})
    qi, qo = h.tensors["x"].q, h.tensors["y0"].q
    every = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)
    node = h.nodes[0]
    y = ops.get("unary").ref_int8(node, [every])[0]
    x = (every.astype(np.float64) - qi.zero_point[0]) * qi.scale[0]
    expected = ops.get("unary").ref_float(node, [x.astype(np.float32)])[0]
    expected = np.clip(expected, (-128 - qo.zero_point[0]) * qo.scale[0], (127 - qo.zero_point[0]) * qo.scale[0])
    error = np.abs((y.astype(np.float64) - qo.zero_point[0]) * qo.scale[0] - expected)
    assert np.max(error) <= 0.5 * qo.scale[0] + 1e-6


@pytest.mark.parametrize("fn,scale,zp", [("sigmoid", 1 / 256, -128), ("hard_sigmoid", 1 / 256, -128),
                                         ("tanh", 1 / 128, 0)])
def test_bounded_unary_has_fixed_output_qparams(fn, scale, zp):
    g = graph_of("unary", [("x", (1, 7))], {"fn": fn})
    q = quantize_graph(g, {"x": rand((2, 1, 7))}).tensors["y0"].q
    assert (q.scale[0], q.zero_point[0]) == (scale, zp)


def test_unknown_unary_function_is_unsupported():
    with pytest.raises(UnsupportedOp, match="'nope'"):
        graph_of("unary", [("x", (1, 3))], {"fn": "nope"})


@pytest.mark.parametrize("slope_shape", [(5, 1, 1), (1,), (7,)])
def test_prelu_matches_onnxruntime(slope_shape):
    x, slope = rand((1, 5, 3, 7), 1), rand(slope_shape, 2, -1, 1)
    expected = onnx_run([helper.make_node("PRelu", ["x", "s"], ["y"])], {"x": x}, {"s": slope})
    got = ref_one("prelu", [("x", x.shape), ("s", slope)], {}, {"x": x})
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


def test_prelu_int8_with_negative_and_zero_slopes_stays_close_to_float():
    slope = np.array([0.25, -0.5, 0.0, 1.5, -2.0], np.float32).reshape(5, 1, 1)
    g = graph_of("prelu", [("x", (1, 5, 3, 7)), ("s", slope)], {})
    assert int8_error_in_output_steps(g, {"x": rand((4, 1, 5, 3, 7), 3, -2, 5)}) <= 2.0


def test_prelu_int8_slope_varying_along_two_axes_is_unsupported_naming_the_node():
    g = graph_of("prelu", [("x", (1, 3, 4, 5)), ("s", rand((3, 1, 5)))], {})  # float32 broadcasts it
    with pytest.raises(UnsupportedOp, match="'node'.*int8 allows one axis"):
        quantize_graph(g, {"x": rand((2, 1, 3, 4, 5))})


# ---- softmax --------------------------------------------------------------------------------

@pytest.mark.parametrize("shape,axis", [((1, 12), 1), ((1, 5, 3), 1), ((2, 3, 7), 2), ((1, 3, 4, 5), 1)])
def test_softmax_matches_onnxruntime(shape, axis):
    x = rand(shape, 4, -10, 10)
    expected = onnx_run([helper.make_node("Softmax", ["x"], ["y"], axis=axis)], {"x": x})
    np.testing.assert_allclose(ref_one("softmax", [("x", shape)], {"axis": axis}, {"x": x}), expected,
                               rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("shape,axis", [((1, 12), 1), ((1, 5, 3), 1), ((1, 3, 4, 5), 3)])
def test_softmax_int8_is_close_to_float_with_fixed_output_q(shape, axis):
    g = graph_of("softmax", [("x", shape)], {"axis": axis})
    samples = {"x": rand((5, *shape), 6, -6, 2)}
    h = quantize_graph(g, samples)
    q = h.tensors["y0"].q
    assert (q.scale[0], q.zero_point[0]) == (1 / 256, -128)
    y = (run_ref(h, samples)["y0"].astype(np.float64) + 128) / 256
    # compare with float softmax of the quantized input, so only the softmax's own error counts
    xq = quant.dequantize_array(quant.quantize_array(samples["x"], h.tensors["x"].q), h.tensors["x"].q)
    expected = run_ref(g, {"x": xq})["y0"]
    assert np.max(np.abs(y - expected)) <= 1.0 / 256


def test_softmax_int8_uniform_row_splits_evenly():
    g = graph_of("softmax", [("x", (1, 4))], {"axis": 1})
    h = quantize_graph(g, {"x": rand((3, 1, 4))})
    y = ops.get("softmax").ref_int8(h.nodes[0], [np.full((1, 4), 17, np.int8)])[0]
    assert y.tolist() == [[-64, -64, -64, -64]]  # 0.25 * 256 - 128


# ---- pooling --------------------------------------------------------------------------------

POOLS = [  # (input shape, kernel, strides, pads t l b r, ceil_mode, count_include_pad)
    ((1, 3, 7, 7), (3, 3), (2, 2), (1, 1, 1, 1), False, False),
    ((1, 3, 7, 7), (3, 3), (2, 2), (1, 1, 1, 1), False, True),
    ((1, 5, 6, 6), (3, 3), (2, 2), (0, 0, 1, 1), True, True),
    ((1, 5, 5, 5), (2, 2), (2, 2), (1, 1, 1, 1), True, False),   # a last window in the pad is dropped
    ((1, 3, 7, 9), (2, 3), (1, 2), (0, 1, 1, 0), True, True),
    ((1, 7, 25, 5), (25, 5), (1, 1), (0, 0, 0, 0), False, False),  # global pooling
    ((1, 3, 11), (1, 3), (1, 2), (0, 1, 0, 1), True, True),        # NCL
]


def pool_onnx_node(onnx_op, kernel, strides, pads, ceil, include, rank):
    if rank == 3:
        kernel, strides, pads = kernel[1:], strides[1:], (pads[1], pads[3])
    else:
        pads = (pads[0], pads[1], pads[2], pads[3])
    extra = {"count_include_pad": int(include)} if onnx_op == "AveragePool" else {}
    return helper.make_node(onnx_op, ["x"], ["y"], kernel_shape=list(kernel), strides=list(strides),
                            pads=list(pads), ceil_mode=int(ceil), **extra)


@pytest.mark.parametrize("op,onnx_op", [("maxpool", "MaxPool"), ("avgpool", "AveragePool")])
@pytest.mark.parametrize("shape,kernel,strides,pads,ceil,include", POOLS)
def test_pool_matches_onnxruntime(op, onnx_op, shape, kernel, strides, pads, ceil, include):
    x = rand(shape, 7)
    expected = onnx_run([pool_onnx_node(onnx_op, kernel, strides, pads, ceil, include, len(shape))], {"x": x})
    attrs = {"kernel": kernel, "strides": strides, "pads": pads, "ceil_mode": ceil, "count_include_pad": include}
    got = ref_one(op, [("x", shape)], attrs, {"x": x})
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=1e-6)


@pytest.mark.parametrize("op", ["maxpool", "avgpool"])
@pytest.mark.parametrize("shape,kernel,strides,pads,ceil,include", POOLS)
def test_pool_int8_keeps_input_q_and_stays_close_to_float(op, shape, kernel, strides, pads, ceil, include):
    attrs = {"kernel": kernel, "strides": strides, "pads": pads, "ceil_mode": ceil, "count_include_pad": include}
    g = graph_of(op, [("x", shape)], attrs)
    samples = {"x": rand((3, *shape), 8, -0.5, 3.0)}  # zero point near -128
    h = quantize_graph(g, samples)
    assert h.tensors["y0"].q is h.tensors["x"].q
    assert int8_error_in_output_steps(g, samples) <= 1.0


@pytest.mark.parametrize("op,onnx_op", [("maxpool", "MaxPool"), ("avgpool", "AveragePool")])
def test_pool_1d_in_the_frontend_form_matches_onnxruntime(op, onnx_op):
    x = rand((1, 3, 10), 2)
    node = helper.make_node(onnx_op, ["x"], ["y"], kernel_shape=[3], strides=[2], pads=[1, 2], ceil_mode=1)
    attrs = {"kernel": (3,), "strides": (2,), "pads": (1, 2), "ceil_mode": True, "count_include_pad": False}
    np.testing.assert_allclose(ref_one(op, [("x", x.shape)], attrs, {"x": x}), onnx_run([node], {"x": x}),
                               rtol=RTOL, atol=1e-6)


def test_avgpool_int8_rounds_half_away_from_zero_and_counts_pads_as_zero_point():
    attrs = {"kernel": (1, 2), "strides": (1, 2), "pads": (0, 0, 0, 0), "ceil_mode": False,
             "count_include_pad": False}
    node = ops.REGISTRY["avgpool"].quantize(graph_of("avgpool", [("x", (1, 1, 1, 6))], attrs).nodes[0],
                                            _int8_graph((1, 1, 1, 6), zp=-3))
    x = np.array([[[[1, 2, -1, -2, 5, -6]]]], np.int8)  # sums 3, -3, -1: halves round away from zero
    assert ops.get("avgpool").ref_int8(node, [x])[0].ravel().tolist() == [2, -2, -1]
    attrs.update(pads=(0, 1, 0, 1), count_include_pad=True, strides=(1, 1))
    node = ops.REGISTRY["avgpool"].quantize(graph_of("avgpool", [("x", (1, 1, 1, 2))], attrs).nodes[0],
                                            _int8_graph((1, 1, 1, 2), zp=-3))
    x = np.array([[[[5, 7]]]], np.int8)  # (-3 + 5) / 2 = 1, (5 + 7) / 2 = 6, (7 - 3) / 2 = 2
    assert ops.get("avgpool").ref_int8(node, [x])[0].ravel().tolist() == [1, 6, 2]


def _int8_graph(shape, zp):
    g = graph_of("avgpool", [("x", shape)], {"kernel": (1, 1), "strides": (1, 1)})
    g.tensors["x"].q = quant.QParams.per_tensor(0.1, zp)
    return g


def test_pool_pads_not_below_kernel_are_unsupported():
    with pytest.raises(UnsupportedOp, match="pads"):
        graph_of("maxpool", [("x", (1, 1, 5, 5))], {"kernel": (2, 2), "strides": (1, 1), "pads": (2, 0, 0, 0)})


# ---- concat, pad, transpose -------------------------------------------------------------------

@pytest.mark.parametrize("shapes,axis", [([(1, 3, 5), (1, 2, 5)], 1), ([(1, 2, 3, 3), (1, 2, 3, 1), (1, 2, 3, 4)], 3),
                                         ([(2, 5), (1, 5)], 0)])
def test_concat_matches_onnxruntime(shapes, axis):
    feeds = {f"x{i}": rand(s, i) for i, s in enumerate(shapes)}
    expected = onnx_run([helper.make_node("Concat", list(feeds), ["y"], axis=axis)], feeds)
    got = ref_one("concat", [(k, v.shape) for k, v in feeds.items()], {"axis": axis}, feeds)
    np.testing.assert_array_equal(got, expected)


def test_concat_int8_rescales_inputs_with_other_q_and_copies_equal_q():
    g = graph_of("concat", [("a", (1, 3, 5)), ("b", (1, 2, 5))], {"axis": 1})
    samples = {"a": rand((4, 1, 3, 5), 1, -1, 1), "b": rand((4, 1, 2, 5), 2, -0.2, 4)}
    h = quantize_graph(g, samples)
    offsets = h.nodes[0].attrs["int8"]["table_offset"].tolist()
    assert offsets == [0, 256]  # neither input has y's range
    assert int8_error_in_output_steps(g, samples) <= 1.0
    h.tensors["b"].q = h.tensors["y0"].q
    assert ops.get("concat").quantize(g.nodes[0], h).attrs["int8"]["table_offset"].tolist() == [0, -1]


PADS = [((1, 3, 5, 7), [0, 0, 1, 2, 0, 0, 3, 1], 0.0), ((1, 3, 5), [0, 1, 2, 0, 0, 0], -1.5),
        ((2, 3, 4, 5), [1, 0, 0, 1, 0, 2, 1, 0], 0.25)]


@pytest.mark.parametrize("shape,pads,value", PADS)
def test_pad_matches_onnxruntime(shape, pads, value):
    x = rand(shape, 3)
    consts = {"pads": np.array(pads, np.int64), "v": np.array(value, np.float32)}
    expected = onnx_run([helper.make_node("Pad", ["x", "pads", "v"], ["y"], mode="constant")], {"x": x}, consts)
    got = ref_one("pad", [("x", shape)], {"pads": pads, "mode": "constant", "value": value}, {"x": x})
    np.testing.assert_array_equal(got, expected)


def test_pad_int8_fills_with_the_value_quantized_in_the_input_q():
    g = graph_of("pad", [("x", (1, 2, 3))], {"pads": [0, 0, 1, 0, 0, 1], "mode": "constant", "value": 0.5})
    h = quantize_graph(g, {"x": rand((2, 1, 2, 3), 1, -1, 3)})
    q = h.tensors["x"].q
    y = run_ref(h, {"x": rand((1, 1, 2, 3), 2, -1, 3)})["y0"][0]
    assert y[0, 0, 0] == quant.quantize_array(np.array([0.5]), q)[0] and h.tensors["y0"].q is q


def test_pad_loops_merge_unpadded_dims_into_the_one_before():
    node = graph_of("pad", [("x", (1, 3, 5, 7))], {"pads": [0, 0, 1, 0, 0, 0, 2, 0]}).nodes[0]
    loops = pad_loops(node, (1, 3, 5, 7))
    assert loops["input_dims"].tolist() == [1, 1, 3, 35]
    assert loops["pad_begin"].tolist() == [0, 0, 0, 7] and loops["pad_end"].tolist() == [0, 0, 0, 14]


def test_reflect_pad_is_unsupported():
    with pytest.raises(UnsupportedOp, match="reflect"):
        graph_of("pad", [("x", (1, 3))], {"pads": [0, 1, 0, 1], "mode": "reflect"})


@pytest.mark.parametrize("shape,perm", [((1, 3, 5, 7), [0, 2, 3, 1]), ((1, 25, 10), [1, 0, 2]),
                                        ((2, 3, 4, 5, 6), [4, 2, 0, 3, 1]), ((3, 5), [1, 0])])
def test_transpose_matches_onnxruntime(shape, perm):
    x = rand(shape, 2)
    expected = onnx_run([helper.make_node("Transpose", ["x"], ["y"], perm=perm)], {"x": x})
    np.testing.assert_array_equal(ref_one("transpose", [("x", shape)], {"perm": perm}, {"x": x}), expected)


def test_transpose_loops_turn_moving_a_unit_dim_into_a_flat_copy():
    node = graph_of("transpose", [("x", (1, 25, 10))], {"perm": [1, 0, 2]}).nodes[0]
    loops = transpose_loops(node, (1, 25, 10))
    assert loops["rank"] == 1 and loops["dims"].tolist() == [250] and loops["input_strides"].tolist() == [1]


def test_transpose_int8_keeps_input_q():
    g = graph_of("transpose", [("x", (1, 3, 5))], {"perm": [0, 2, 1]})
    h = quantize_graph(g, {"x": rand((2, 1, 3, 5))})
    assert h.tensors["y0"].q is h.tensors["x"].q
    x8 = np.arange(15, dtype=np.int8).reshape(1, 1, 3, 5)
    assert np.array_equal(run_ref(h, {"x": x8})["y0"][0], x8[0].transpose(0, 2, 1))
