"""int8 reductions and normalizations: the integer inverse square root against float64, ref_int8 against
the float op (ref_float on the dequantized int8 input, so only the op's own error counts) within a stated
number of output quantization steps on seeded random data of several shapes, axes and epsilons, ONNX
normalization nodes against onnxruntime, and the errors of what has no int8 form."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper, numpy_helper

from tests.helpers import graph_of, quantize_graph
from tinyc import interpreter, pipeline, quant
from tinyc.errors import UnsupportedOp

# output steps of the op's own error: one rounding (0.5) plus what the fixed point adds
NORMALIZE_STEPS = 0.51
SHAPES_AXES = [((3, 5, 7), (2,)), ((3, 5, 7), (1,)), ((3, 5, 7), (1, 2)), ((3, 5, 7), (0, 2)),
               ((1, 16, 4, 4), (2, 3)), ((1, 16, 4, 4), (1, 2, 3)), ((2, 3, 96), (2,)), ((1, 1, 1), (2,))]


def _own_error(g, q, x: np.ndarray) -> np.ndarray:
    """|int8 result - float result| in output steps per element, the float op run on the dequantized
    int8 input and clipped to the output's range (saturation is not the op's error)."""
    xq = quant.quantize_array(x, q.tensors["x"].q)
    want = interpreter.run_samples(g, {"x": quant.dequantize_array(xq, q.tensors["x"].q)})["y0"].astype(np.float64)
    got = interpreter.run_samples(q, {"x": xq})["y0"].astype(np.float64)
    s, zp = q.tensors["y0"].q.scale[0], q.tensors["y0"].q.zero_point[0]
    return np.abs(got - np.clip(want / s + zp, -128, 127))


def test_inv_sqrt_is_within_3e_9_of_float64():
    rng = np.random.default_rng(0)
    d = np.concatenate([np.arange(1, 3000), rng.integers(1, 2**62, 20000), 2 ** np.arange(62), [2**62 - 1]])
    r, k = quant.inv_sqrt(d)
    got = r.astype(np.float64) * np.exp2(-(44.0 + k))
    assert np.max(np.abs(got * np.sqrt(d.astype(np.float64)) - 1)) < 3e-9
    assert r.max() <= 2**30 and r.min() >= 2**29


@pytest.mark.parametrize("kind", ["moments", "rms", "l2"])
@pytest.mark.parametrize("epsilon", [1e-5, 1e-2, 1.0])
def test_int8_normalize_is_within_half_a_step_of_float(kind, epsilon):
    rng = np.random.default_rng(len(kind) * 7 + int(epsilon * 1000))
    for shape, axes in SHAPES_AXES:
        w_shape = tuple(d if a in axes else 1 for a, d in enumerate(shape))
        scale = rng.normal(1.0, 0.8, w_shape).astype(np.float32)  # negative scales too
        bias = rng.normal(0.0, 0.5, w_shape).astype(np.float32)
        g = graph_of("normalize", [("x", shape), ("s", scale), ("b", bias)],
                     {"kind": kind, "axes": axes, "epsilon": 0.0 if kind == "l2" else epsilon, "epsilon_after": 0.0})
        x = rng.normal(rng.normal(), rng.uniform(0.05, 4.0), (4, *shape)).astype(np.float32)
        q = quantize_graph(g, {"x": x})
        assert np.max(_own_error(g, q, x)) <= NORMALIZE_STEPS, (shape, axes)


def test_int8_normalize_keeps_a_large_epsilon_against_a_small_input_scale():
    # epsilon count^2 / s_x^2 near 2^41: the variance's fraction bits give way to it, never a cap
    g = graph_of("normalize", [("x", (2, 768)), ("", None), ("", None)],
                 {"kind": "moments", "axes": (1,), "epsilon": 1.0, "epsilon_after": 0.0})
    x = np.random.default_rng(2).normal(0.0, 0.05, (4, 2, 768)).astype(np.float32)
    q = quantize_graph(g, {"x": x})
    assert np.max(_own_error(g, q, x)) <= NORMALIZE_STEPS


def test_int8_normalize_of_a_constant_group_is_the_bias():
    bias = np.array([[0.3, -0.2, 0.1]], np.float32)
    g = graph_of("normalize", [("x", (2, 3)), ("s", np.ones((1, 3), np.float32)), ("b", bias)],
                 {"kind": "moments", "axes": (1,), "epsilon": 1e-5, "epsilon_after": 0.0})
    q = quantize_graph(g, {"x": np.random.default_rng(1).normal(size=(4, 2, 3)).astype(np.float32)})
    y = interpreter.run_samples(q, {"x": np.full((1, 2, 3), 17, np.int8)})["y0"]
    yq = q.tensors["y0"].q
    assert np.array_equal(y[0], np.broadcast_to(quant.quantize_array(bias, yq), (2, 3)))


@pytest.mark.parametrize("kind", ["mean", "sum", "max", "min", "sum_square", "l2"])
def test_int8_reduce_is_within_its_rounding_of_float(kind):
    rng = np.random.default_rng(len(kind))
    for shape, axes in SHAPES_AXES:
        g = graph_of("reduce", [("x", shape)], {"kind": kind, "axes": axes, "keepdims": len(axes) > 1})
        x = rng.normal(rng.normal(), rng.uniform(0.05, 4.0), (4, *shape)).astype(np.float32)
        q = quantize_graph(g, {"x": x})
        p = q.nodes[0].attrs["int8"]
        # TFLite's requantization rounds twice (the high multiply, then the shift): 0.5 + 0.5 / 2^right
        bound = 0.0 if kind in ("max", "min") else 0.5 + 0.5 * 2.0 ** min(p["shift"], 0) + 0.01
        assert np.max(_own_error(g, q, x)) <= bound + 1e-4, (shape, axes, p)


@pytest.mark.parametrize("rule", ["onnx", "tflm"])
def test_int8_mean_of_an_onnx_model_rounds_once(rule):
    """The mean of 7 (a transformer's token pooling): TFLM's rule shifts right after the high multiply and rounds
    a quarter of the outputs twice; an ONNX model's pre-shifted sum rounds them once, as float then round does."""
    attrs = {"kind": "mean", "axes": (1,), "keepdims": False, **({"rule": "tflm"} if rule == "tflm" else {})}
    g = graph_of("reduce", [("x", (64, 7, 32))], attrs)
    rng = np.random.default_rng(7)  # rows of nearly equal values: the mean spans the input's range (shift -1)
    x = (rng.normal(size=(4, 64, 1, 32)) + 0.2 * rng.normal(size=(4, 64, 7, 32))).astype(np.float32)
    q = quantize_graph(g, {"x": x})
    err = _own_error(g, q, x)
    once = np.mean(err <= 0.5 + 1e-6)
    if rule == "onnx":
        assert q.nodes[0].attrs["int8"]["pre_shift"] > 0 and once == 1.0, once
    else:
        assert q.nodes[0].attrs["int8"]["pre_shift"] == 0 and once < 0.9, once


def test_int8_max_keeps_the_input_parameters():
    g = graph_of("reduce", [("x", (3, 5))], {"kind": "max", "axes": (1,), "keepdims": False})
    q = quantize_graph(g, {"x": np.random.default_rng(0).normal(size=(4, 3, 5)).astype(np.float32)})
    assert q.tensors["y0"].q == q.tensors["x"].q


def _onnx_norm(op: str, shape, attrs: dict, weights, opset: int) -> onnx.ModelProto:
    inits = [numpy_helper.from_array(w, f"w{k}") for k, w in enumerate(weights)]
    node = helper.make_node(op, ["x"] + [i.name for i in inits], ["y"], **attrs)
    io = [helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, shape) for n in ("x", "y")]
    model = helper.make_model(helper.make_graph([node], "m", io[:1], io[1:], inits),
                              opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 10
    return model


# Against onnxruntime on the float input, the int8 input's own rounding adds to the op's error:
# (x - mean) / std moves by up to 0.5 s_x / std per element.
ONNX_CASES = {
    "layer": ("LayerNormalization", (2, 6, 32), {"axis": -1, "epsilon": 1e-5}, [(32,), (32,)], 17),
    "instance": ("InstanceNormalization", (1, 5, 7, 3), {"epsilon": 1e-3}, [(5,), (5,)], 13),
    "group": ("GroupNormalization", (1, 6, 4, 3), {"num_groups": 3, "epsilon": 1e-5}, [(6,), (6,)], 21),
}


@pytest.mark.parametrize("case", sorted(ONNX_CASES))
def test_int8_onnx_normalizations_match_onnxruntime(case, tmp_path):
    op, shape, attrs, w_shapes, opset = ONNX_CASES[case]
    rng = np.random.default_rng(4)
    weights = [rng.normal(1.0 - k, 0.5, s).astype(np.float32) for k, s in enumerate(w_shapes)]
    model = _onnx_norm(op, shape, attrs, weights, opset)
    onnx.save(model, tmp_path / "m.onnx")
    x = rng.normal(0.5, 2.0, (8, *shape)).astype(np.float32)
    compiled = pipeline.build(tmp_path / "m.onnx", pipeline.Options(dtype="int8", calib={"x": x}))
    g = compiled.graph
    got = interpreter.run_samples(g, {"x": quant.quantize_array(x, g.tensors[g.inputs[0]].q)})[g.outputs[0]]
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    want = np.stack([session.run(None, {"x": xi})[0] for xi in x])
    yq = g.tensors[g.outputs[0]].q
    steps = np.abs(quant.dequantize_array(got, yq).astype(np.float64) - want) / yq.scale[0]
    assert np.max(steps) <= 2.0 and np.mean(steps) <= 0.4, (np.max(steps), np.mean(steps))


def test_int8_l1_normalization_is_unsupported():
    g = graph_of("normalize", [("x", (2, 5)), ("", None), ("", None)],
                 {"kind": "l1", "axes": (1,), "epsilon": 0.0, "epsilon_after": 0.0})
    with pytest.raises(UnsupportedOp, match="L1 normalization has no int8 form"):
        quantize_graph(g, {"x": np.ones((1, 2, 5), np.float32)})


def test_int8_normalize_with_mean_output_is_unsupported():
    g = graph_of("normalize", [("x", (2, 5)), ("", None), ("", None)],
                 {"kind": "moments", "axes": (1,), "epsilon": 1e-5, "epsilon_after": 0.0}, n_outputs=2)
    with pytest.raises(UnsupportedOp, match="the mean and inv_std outputs have no int8 form"):
        quantize_graph(g, {"x": np.random.default_rng(0).normal(size=(2, 2, 5)).astype(np.float32)})


def test_int8_sum_of_squares_over_too_many_elements_is_unsupported():
    g = graph_of("reduce", [("x", (1, 40000))], {"kind": "sum_square", "axes": (1,), "keepdims": True})
    with pytest.raises(UnsupportedOp, match="int8 over 40000 elements unsupported; at most 33025"):
        quantize_graph(g, {"x": np.random.default_rng(0).normal(size=(1, 1, 40000)).astype(np.float32)})
