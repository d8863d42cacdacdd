"""int8 log softmax, cumulative sum and local response normalization: ref_int8 against the float op
(ref_float on the dequantized int8 input, so only the op's own error counts) within a stated number of
output steps on seeded random data over several shapes and axes; the ONNX nodes against onnxruntime on
the float input; the fixed-point log of log softmax against float64."""

from __future__ import annotations

import math

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper

from tests.helpers import graph_of, quantize_graph
from tinyc import interpreter, pipeline, quant
from tinyc.errors import UnsupportedOp
from tinyc.ops.softmax import tflm_log_q5

# output steps of each op's own error. cumsum: an exact integer sum, then TFLite's requantization, which
# rounds twice (the high multiply, then the shift): 0.5 + 0.5 / 2^right
LOG_SOFTMAX_STEPS = 1.0  # TFLM's Q5.26 exp and log, then one rounding (0.5) in steps of 1/16
LRN_STEPS = 0.55  # one rounding plus the table's interpolation (below 2e-4 relative) and Q22 gain
SHAPES_AXES = [((3, 5, 7), 2), ((3, 5, 7), 1), ((3, 5, 7), 0), ((1, 16, 4, 4), 1), ((2, 3, 96), 2), ((4, 1), 1)]


def _own_error(g, q, x: np.ndarray) -> np.ndarray:
    """|int8 result - float result| in output steps, the float op on the dequantized int8 input and
    clipped to the output's range (saturation is not the op's error)."""
    xq = quant.quantize_array(x, q.tensors["x"].q)
    want = interpreter.run_samples(g, {"x": quant.dequantize_array(xq, q.tensors["x"].q)})["y0"].astype(np.float64)
    got = interpreter.run_samples(q, {"x": xq})["y0"].astype(np.float64)
    s, zp = q.tensors["y0"].q.scale[0], q.tensors["y0"].q.zero_point[0]
    return np.abs(got - np.clip(want / s + zp, -128, 127))


def test_tflm_log_is_within_2e_7_of_float64():
    totals = np.concatenate([np.arange(1 << 19, (1 << 19) + 3000), np.unique(np.geomspace(1 << 19, 2**31 - 1, 5000)
                                                                             .astype(np.int64))])
    got = np.array([tflm_log_q5(int(t)) for t in totals]) / 2**26
    assert np.max(np.abs(got - np.log(totals / 2**19))) < 2e-7


@pytest.mark.parametrize("spread", [0.3, 2.0, 8.0, 2000.0])  # 2000: an input scale past 16
def test_int8_log_softmax_is_within_a_step_of_float(spread):
    rng = np.random.default_rng(int(spread * 10) % 1000)
    for shape, axis in SHAPES_AXES:
        g = graph_of("log_softmax", [("x", shape)], {"axis": axis})
        x = rng.normal(rng.normal(), spread, (4, *shape)).astype(np.float32)
        q = quantize_graph(g, {"x": x})
        assert (q.tensors["y0"].q.scale[0], q.tensors["y0"].q.zero_point[0]) == (16 / 256, 127)
        assert np.max(_own_error(g, q, x)) <= LOG_SOFTMAX_STEPS, (shape, axis)


@pytest.mark.parametrize("exclusive, reverse", [(0, 0), (1, 0), (0, 1), (1, 1)])
def test_int8_cumsum_is_within_its_rounding_of_float(exclusive, reverse):
    rng = np.random.default_rng(2 * exclusive + reverse)
    for shape, axis in SHAPES_AXES:
        g = graph_of("cumsum", [("x", shape)], {"axis": axis, "exclusive": exclusive, "reverse": reverse})
        x = rng.normal(rng.normal(), rng.uniform(0.05, 4.0), (4, *shape)).astype(np.float32)
        q = quantize_graph(g, {"x": x})
        bound = 0.5 + 0.5 * 2.0 ** min(q.nodes[0].attrs["int8"]["shift"], 0) + 1e-4
        assert np.max(_own_error(g, q, x)) <= bound, (shape, axis)


@pytest.mark.parametrize("size, alpha, beta, bias", [(5, 1e-4, 0.75, 1.0), (3, 0.5, 0.75, 2.0), (4, 2.0, 1.5, 0.5),
                                                     (1, 0.1, 0.5, 1.0), (7, 1e-3, 0.75, 1.0)])
def test_int8_lrn_is_within_half_a_step_of_float(size, alpha, beta, bias):
    rng = np.random.default_rng(size)
    for shape in [(2, 16, 3, 3), (1, 5, 7), (3, 9)]:
        g = graph_of("lrn", [("x", shape)], {"size": size, "alpha": alpha, "beta": beta, "bias": bias})
        x = rng.normal(rng.normal(), rng.uniform(0.5, 20.0), (4, *shape)).astype(np.float32)
        q = quantize_graph(g, {"x": x})
        assert np.max(_own_error(g, q, x)) <= LRN_STEPS, (shape, size)


def test_int8_lrn_with_a_negative_beta_is_unsupported():
    g = graph_of("lrn", [("x", (1, 4, 2))], {"size": 3, "alpha": 1e-4, "beta": -0.5, "bias": 1.0})
    with pytest.raises(UnsupportedOp, match="bias > 0, alpha >= 0 and beta >= 0"):
        quantize_graph(g, {"x": np.ones((1, 1, 4, 2), np.float32)})


def _onnx(op: str, shape, attrs: dict, extra_inputs=()) -> onnx.ModelProto:
    inits = [onnx.numpy_helper.from_array(v, n) for n, v in extra_inputs]
    node = helper.make_node(op, ["x"] + [n for n, _ in extra_inputs], ["y"], **attrs)
    io = [helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, shape) for n in ("x", "y")]
    model = helper.make_model(helper.make_graph([node], "m", io[:1], io[1:], inits),
                              opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    return model


# Against onnxruntime on the float input the input's own rounding adds: log softmax moves by up to one
# input step (the difference to the max and the log's share), a cumulative sum by half an input step per
# element summed; LRN (None below) by half an input step times s_in / s_out (|dy/dx| <= bias^-beta = 1
# for beta <= 1: the gain, less its own change) on top of its own error.
ONNX_CASES = {
    "log_softmax": ("LogSoftmax", (3, 12), {"axis": -1}, (), 1.5),
    "log_softmax_axis1": ("LogSoftmax", (2, 6, 5), {"axis": 1}, (), 1.5),
    "cumsum": ("CumSum", (2, 9), {}, (("axis", np.array(1, np.int64)),), 2.0),
    "cumsum_rev_excl": ("CumSum", (5, 4), {"exclusive": 1, "reverse": 1}, (("axis", np.array(0, np.int64)),), 2.0),
    "lrn": ("LRN", (2, 8, 3, 3), {"size": 5, "alpha": 0.5, "beta": 0.75, "bias": 1.0}, (), None),
}


@pytest.mark.parametrize("case", sorted(ONNX_CASES))
def test_int8_onnx_nodes_match_onnxruntime(case, tmp_path):
    op, shape, attrs, extra, steps = ONNX_CASES[case]
    model = _onnx(op, shape, attrs, extra)
    onnx.save(model, tmp_path / "m.onnx")
    x = np.random.default_rng(5).normal(0.3, 2.0, (8, *shape)).astype(np.float32)
    g = pipeline.build(tmp_path / "m.onnx", pipeline.Options(dtype="int8", calib={"x": x})).graph
    assert not g.is_mixed, case
    got = interpreter.run_samples(g, {"x": quant.quantize_array(x, g.tensors[g.inputs[0]].q)})[g.outputs[0]]
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    want = np.stack([session.run(None, {"x": xi})[0] for xi in x])
    yq = g.tensors[g.outputs[0]].q
    if steps is None:
        steps = LRN_STEPS + 0.5 * g.tensors[g.inputs[0]].q.scale[0] / yq.scale[0]
    lo, hi = quant.dequantize_array(np.array([-128, 127], np.int8), yq)
    err = np.abs(quant.dequantize_array(got, yq).astype(np.float64) - np.clip(want, lo, hi)) / yq.scale[0]
    assert np.max(err) <= steps, (case, float(np.max(err)))
    assert math.isfinite(float(np.mean(err)))
