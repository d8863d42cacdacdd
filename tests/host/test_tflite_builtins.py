"""One small random .tflite model per builtin (tests/tflite_builder.py), compiled by tinyc and compared with
TensorFlow Lite Micro's interpreter: int8 bit for bit on the reference interpreter and the host C
(ASan/UBSan); float32 within 1e-4 x max(1, max|expected|)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.tflite_builder import Op, Tensor, model
from tests.tflm import random_inputs, run_tflm
from tinyc import interpreter, pipeline, runners
from tinyc.errors import UnsupportedOp

SAMPLES = 8
RNG = np.random.default_rng(2024)


def _weights(shape, axis, dtype="int8"):
    """Random per-channel int8 weights (scales along axis) or float32 weights."""
    if dtype == "float32":
        return Tensor(shape, "float32", data=RNG.standard_normal(shape).astype(np.float32) * 0.3)
    scales = list(RNG.uniform(0.002, 0.02, shape[axis]))
    return Tensor(shape, "int8", scales, 0, axis, RNG.integers(-127, 128, shape, dtype=np.int8))


def _bias(n, s_in, w: Tensor):
    if w.dtype == "float32":
        return Tensor((n,), "float32", data=RNG.standard_normal(n).astype(np.float32))
    scales = [s_in * s for s in w.scale]
    return Tensor((n,), "int32", scales, 0, 0, RNG.integers(-3000, 3000, n, dtype=np.int32))


def act(shape, dtype, scale=0.05, zp=3):
    return Tensor(shape, dtype, scale if dtype == "int8" else None, zp)


def conv(dtype):
    x, w = act((1, 9, 9, 3), dtype), _weights((4, 3, 3, 3), 0, dtype)
    return [x, w, _bias(4, 0.05, w), act((1, 5, 5, 4), dtype, 0.08, -5)], \
        [Op("CONV_2D", [0, 1, 2], [3], "Conv2DOptions", {"Padding": 0, "StrideH": 2, "StrideW": 2,
                                                           "FusedActivationFunction": 1})]


def conv_valid_dilated(dtype):
    x, w = act((1, 9, 8, 2), dtype), _weights((3, 2, 3, 2), 0, dtype)
    return [x, w, _bias(3, 0.05, w), act((1, 7, 6, 3), dtype, 0.05, 1)], \
        [Op("CONV_2D", [0, 1, 2], [3], "Conv2DOptions", {"Padding": 1, "StrideH": 1, "StrideW": 1,
                                                           "DilationHFactor": 2, "DilationWFactor": 1})]


def depthwise(dtype):
    x, w = act((1, 8, 8, 3), dtype), _weights((1, 3, 3, 6), 3, dtype)
    return [x, w, _bias(6, 0.05, w), act((1, 8, 8, 6), dtype, 0.03, 0)], \
        [Op("DEPTHWISE_CONV_2D", [0, 1, 2], [3], "DepthwiseConv2DOptions",
            {"Padding": 0, "StrideH": 1, "StrideW": 1, "DepthMultiplier": 2, "FusedActivationFunction": 3})]


def fully_connected(dtype):
    x, w = act((1, 2, 2, 4), dtype), _weights((5, 16), 0, dtype)
    if dtype == "int8":  # TFLM's int8 fully connected: per-tensor weights
        w = Tensor(w.shape, "int8", 0.01, 0, 0, w.data)
        bias = Tensor((5,), "int32", 0.05 * 0.01, 0, 0, RNG.integers(-3000, 3000, 5, dtype=np.int32))
    else:
        bias = _bias(5, 0.05, w)
    return [x, w, bias, act((1, 5), dtype, 0.1, 2)], \
        [Op("FULLY_CONNECTED", [0, 1, 2], [3], "FullyConnectedOptions", {})]


def _pool(code):
    def case(dtype):
        return [act((1, 7, 7, 3), dtype), act((1, 4, 4, 3), dtype)], \
            [Op(code, [0], [1], "Pool2DOptions", {"Padding": 0, "StrideH": 2, "StrideW": 2, "FilterHeight": 3,
                                                  "FilterWidth": 3})]
    return case


def _binary(code, options, out_scale, broadcast=False):
    def case(dtype):
        b_shape = (1, 1, 1, 3) if broadcast else (1, 4, 5, 3)
        tensors = [act((1, 4, 5, 3), dtype, 0.05, 3), act(b_shape, dtype, 0.03, -7),
                   act((1, 4, 5, 3), dtype, out_scale, 1)]
        return tensors, [Op(code, [0, 1], [2], options, {"FusedActivationFunction": 0})]
    return case


def reshape(dtype):
    return [act((1, 4, 4, 3), dtype), Tensor((2,), "int32", data=np.array([1, 48], np.int32)), act((1, 48), dtype)], \
        [Op("RESHAPE", [0, 1], [2])]


def softmax(dtype, shape=(1, 10)):
    return [act(shape, dtype, 0.1, 2), act(shape, dtype, 1 / 256, -128)], \
        [Op("SOFTMAX", [0], [1], "SoftmaxOptions", {"Beta": 1.0})]


def softmax_4d(dtype):
    return softmax(dtype, (1, 2, 3, 5))


def log_softmax(dtype, shape=(3, 10), scale=0.1):
    return [act(shape, dtype, scale, 2), act(shape, dtype, 16 / 256, 127)], [Op("LOG_SOFTMAX", [0], [1])]


def _unary(code, out_q, options=None, fields=None):
    def case(dtype):
        return [act((1, 4, 4, 3), dtype, 0.05, 3), act((1, 4, 4, 3), dtype, *out_q)], \
            [Op(code, [0], [1], options, fields or {})]
    return case


def concatenation(dtype):
    return [act((1, 3, 4, 2), dtype), act((1, 3, 4, 5), dtype), act((1, 3, 4, 7), dtype)], \
        [Op("CONCATENATION", [0, 1], [2], "ConcatenationOptions", {"Axis": 3})]


def pad(dtype):
    widths = np.array([[0, 0], [1, 2], [0, 1], [2, 0]], np.int32)
    return [act((1, 3, 4, 2), dtype), Tensor((4, 2), "int32", data=widths), act((1, 6, 5, 4), dtype)], \
        [Op("PAD", [0, 1], [2])]


def transpose(dtype):
    perm = np.array([0, 2, 1, 3], np.int32)
    return [act((1, 3, 4, 2), dtype), Tensor((4,), "int32", data=perm), act((1, 4, 3, 2), dtype)], \
        [Op("TRANSPOSE", [0, 1], [2])]


def _mean(in_shape, axes, out_shape, keep):
    def case(dtype):
        return [act(in_shape, dtype, 0.05, 3), Tensor((len(axes),), "int32", data=np.array(axes, np.int32)),
                act(out_shape, dtype, 0.02, -4)], \
            [Op("MEAN", [0, 1], [2], "ReducerOptions", {"KeepDims": keep})]
    return case


def quantize(dtype):
    if dtype != "int8":
        return None  # int8 -> int8 requantization; float -> int8 at the input: test_int8_model_with_float_io
    return [act((1, 4, 5, 3), dtype, 0.05, 3), act((1, 4, 5, 3), dtype, 0.03, -9)], [Op("QUANTIZE", [0], [1])]


def _i32(values):
    return Tensor((len(values),), "int32", data=np.array(values, np.int32))


def _strided_slice(in_shape, begin, end, strides, out_shape, **masks):
    def case(dtype):
        return [act(in_shape, dtype), _i32(begin), _i32(end), _i32(strides), act(out_shape, dtype)], \
            [Op("STRIDED_SLICE", [0, 1, 2, 3], [4], "StridedSliceOptions", masks)]
    return case


def split(dtype):
    return [Tensor((1,), "int32", data=np.array([3], np.int32)), act((1, 3, 4, 6), dtype),
            act((1, 3, 4, 2), dtype), act((1, 3, 4, 2), dtype), act((1, 3, 4, 2), dtype)], \
        [Op("SPLIT", [0, 1], [2, 3, 4], "SplitOptions", {"NumSplits": 3})]


def split_v(dtype):
    return [act((2, 7, 3), dtype), _i32([2, -1, 1]), Tensor((1,), "int32", data=np.array([-2], np.int32)),
            act((2, 2, 3), dtype), act((2, 4, 3), dtype), act((2, 1, 3), dtype)], \
        [Op("SPLIT_V", [0, 1, 2], [3, 4, 5], "SplitVOptions", {"NumSplits": 3})]


def _resize(code, options, out_hw, **flags):
    def case(dtype):
        return [act((1, 4, 5, 3), dtype), _i32(out_hw), act((1, *out_hw, 3), dtype)], \
            [Op(code, [0, 1], [2], options, flags)]
    return case


def _transpose_conv(padding, stride, out_hw, bias=True):
    def case(dtype):
        x, w = act((1, 4, 5, 3), dtype), _weights((4, 3, 3, 3), 0, dtype)
        tensors = [_i32([1, *out_hw, 4]), w, x, act((1, *out_hw, 4), dtype, 0.1, -3)]
        inputs = [0, 1, 2]
        if bias:
            tensors.append(_bias(4, 0.05, w))
            inputs.append(4)
        return tensors, [Op("TRANSPOSE_CONV", inputs, [3], "TransposeConvOptions",
                            {"Padding": padding, "StrideH": stride, "StrideW": stride})]
    return case


def _batch_matmul(a_shape, b_shape, out_shape, **adj):
    def case(dtype):
        return [act(a_shape, dtype, 0.05, 3), act(b_shape, dtype, 0.04, -6), act(out_shape, dtype, 0.3, 2)], \
            [Op("BATCH_MATMUL", [0, 1], [2], "BatchMatMulOptions", adj)]
    return case


def lstm_int8(batch=1, time_major=False, act=4, cell_clip=0.0, steps=6, n_in=5, hidden=7):
    """TFLM's integer LSTM as the converter lays it out (lstm_test_data.cc): int8 x, h and y, per-tensor int8
    weights, int32 biases at s_x * s_w, int16 cell state at a power-of-two scale."""
    s_x, z_x, s_h, z_h = 0.05, 3, 1 / 128, -2
    tensors = [Tensor((steps, batch, n_in) if time_major else (batch, steps, n_in), "int8", s_x, z_x)]
    for shape in [(hidden, n_in)] * 4 + [(hidden, hidden)] * 4:
        tensors.append(Tensor(shape, "int8", float(RNG.uniform(0.005, 0.03)), 0,
                              data=RNG.integers(-127, 128, shape, dtype=np.int8)))
    for k in range(1, 5):
        tensors.append(Tensor((hidden,), "int32", s_x * tensors[k].scale, 0,
                              data=RNG.integers(-4000, 4000, hidden, dtype=np.int32)))
    tensors += [Tensor((batch, hidden), "int8", s_h, z_h, variable=True),
                Tensor((batch, hidden), "int16", 2.0**-11, 0, variable=True)]
    out = (steps, batch, hidden) if time_major else (batch, steps, hidden)
    tensors.append(Tensor(out, "int8", s_h, z_h))
    ins = [0, 1, 2, 3, 4, 5, 6, 7, 8, -1, -1, -1, 9, 10, 11, 12, -1, -1, 13, 14, -1, -1, -1, -1]
    return tensors, [Op("UNIDIRECTIONAL_SEQUENCE_LSTM", ins, [15], "UnidirectionalSequenceLSTMOptions",
                        {"FusedActivationFunction": act, "TimeMajor": time_major, "CellClip": cell_clip})]


def lstm(dtype, batch=1, time_major=False):
    if dtype != "float32":
        return lstm_int8(batch, time_major)
    steps, n_in, hidden = 5, 3, 4
    tensors = [Tensor((steps, batch, n_in) if time_major else (batch, steps, n_in), "float32")]
    tensors += [_weights((hidden, n_in), 0, dtype) for _ in range(4)] + [_weights((hidden, hidden), 0, dtype)
                                                                          for _ in range(4)]
    tensors += [_bias(hidden, 0, tensors[1]) for _ in range(4)]
    tensors += [Tensor((batch, hidden), "float32", variable=True) for _ in range(2)]
    out = (steps, batch, hidden) if time_major else (batch, steps, hidden)
    tensors.append(Tensor(out, "float32"))
    ins = [0, 1, 2, 3, 4, 5, 6, 7, 8, -1, -1, -1, 9, 10, 11, 12, -1, -1, 13, 14, -1, -1, -1, -1]
    return tensors, [Op("UNIDIRECTIONAL_SEQUENCE_LSTM", ins, [15], "UnidirectionalSequenceLSTMOptions",
                        {"FusedActivationFunction": 4, "TimeMajor": time_major})]


CASES = {
    "CONV_2D": conv, "CONV_2D_valid_dilated": conv_valid_dilated, "DEPTHWISE_CONV_2D": depthwise,
    "FULLY_CONNECTED": fully_connected, "AVERAGE_POOL_2D": _pool("AVERAGE_POOL_2D"),
    "MAX_POOL_2D": _pool("MAX_POOL_2D"),
    "ADD": _binary("ADD", "AddOptions", 0.08), "ADD_broadcast": _binary("ADD", "AddOptions", 0.08, True),
    "SUB": _binary("SUB", "SubOptions", 0.08), "MUL": _binary("MUL", "MulOptions", 0.01),
    "RESHAPE": reshape, "SOFTMAX": softmax, "SOFTMAX_4d": softmax_4d,
    "LOG_SOFTMAX": log_softmax, "LOG_SOFTMAX_4d": lambda dtype: log_softmax(dtype, (1, 2, 3, 5)),
    "LOG_SOFTMAX_wide_fine": lambda dtype: log_softmax(dtype, (2, 300), 0.004) if dtype == "int8" else None,
    "LOG_SOFTMAX_coarse": lambda dtype: log_softmax(dtype, (4, 20), 0.9) if dtype == "int8" else None,
    "LOG_SOFTMAX_huge_scale": lambda dtype: log_softmax(dtype, (4, 6), 20.0) if dtype == "int8" else None,
    "LOGISTIC": _unary("LOGISTIC", (1 / 256, -128)), "TANH": _unary("TANH", (1 / 128, 0)),
    "RELU": _unary("RELU", (0.05, -128)), "RELU6": _unary("RELU6", (0.03, -128)),
    "LEAKY_RELU": _unary("LEAKY_RELU", (0.04, 10), "LeakyReluOptions", {"Alpha": 0.2}),
    "HARD_SWISH": _unary("HARD_SWISH", (0.03, -20)),
    "CONCATENATION": concatenation, "PAD": pad, "TRANSPOSE": transpose,
    "MEAN": _mean((1, 5, 6, 3), [1, 2], (1, 1, 1, 3), True),
    "MEAN_flat": _mean((1, 5, 6, 3), [1, 2], (1, 3), False),
    "MEAN_h": _mean((1, 5, 6, 3), [1], (1, 6, 3), False),
    "MEAN_c_2d": _mean((4, 7), [-1], (4, 1), True),
    "QUANTIZE": quantize,
    "STRIDED_SLICE": _strided_slice((1, 6, 7, 4), [0, 1, -1, 0], [1, 6, 0, 3], [1, 2, -2, 1], (1, 3, 3, 3)),
    "STRIDED_SLICE_masks": _strided_slice((1, 6, 7, 4), [0, 4, 2, 1], [1, 0, 5, 0], [1, -1, 1, 2], (1, 5, 3, 2),
                                          BeginMask=1, EndMask=0b1010),
    "STRIDED_SLICE_shrink": _strided_slice((1, 6, 7, 4), [0, 2, 0, 0], [1, 3, 7, 4], [1, 1, 3, 1], (1, 3, 4),
                                           ShrinkAxisMask=0b10),
    "STRIDED_SLICE_2d": _strided_slice((5, 9), [1, -2], [-1, 0], [1, -3], (3, 3)),
    "SPLIT": split, "SPLIT_V": split_v,
    "RESIZE_NEAREST_NEIGHBOR": _resize("RESIZE_NEAREST_NEIGHBOR", "ResizeNearestNeighborOptions", [7, 9]),
    "RESIZE_NEAREST_NEIGHBOR_align": _resize("RESIZE_NEAREST_NEIGHBOR", "ResizeNearestNeighborOptions", [7, 3],
                                             AlignCorners=True),
    "RESIZE_NEAREST_NEIGHBOR_half": _resize("RESIZE_NEAREST_NEIGHBOR", "ResizeNearestNeighborOptions", [3, 11],
                                            HalfPixelCenters=True),
    "RESIZE_BILINEAR": _resize("RESIZE_BILINEAR", "ResizeBilinearOptions", [7, 9]),
    "RESIZE_BILINEAR_align": _resize("RESIZE_BILINEAR", "ResizeBilinearOptions", [7, 3], AlignCorners=True),
    "RESIZE_BILINEAR_half": _resize("RESIZE_BILINEAR", "ResizeBilinearOptions", [3, 11], HalfPixelCenters=True),
    "TRANSPOSE_CONV": _transpose_conv(0, 2, (8, 10)),
    "TRANSPOSE_CONV_valid": _transpose_conv(1, 2, (9, 11), bias=False),
    "TRANSPOSE_CONV_same_odd": _transpose_conv(0, 3, (12, 14)),
    "BATCH_MATMUL": _batch_matmul((2, 3, 5), (2, 5, 4), (2, 3, 4)),
    "BATCH_MATMUL_adj_broadcast": _batch_matmul((2, 3, 6, 5), (1, 3, 4, 6), (2, 3, 5, 4), AdjX=True, AdjY=True),
    "UNIDIRECTIONAL_SEQUENCE_LSTM": lstm,
    "UNIDIRECTIONAL_SEQUENCE_LSTM_batch3": lambda dtype: lstm(dtype, batch=3),
    "UNIDIRECTIONAL_SEQUENCE_LSTM_time_major": lambda dtype: lstm(dtype, batch=2, time_major=True),
    "UNIDIRECTIONAL_SEQUENCE_LSTM_int8_clip":
        lambda dtype: lstm_int8(batch=2, cell_clip=0.5) if dtype == "int8" else None,
    "UNIDIRECTIONAL_SEQUENCE_LSTM_int8_long":
        lambda dtype: lstm_int8(steps=20, n_in=16, hidden=12) if dtype == "int8" else None,
    "RESIZE_BILINEAR_half_up": _resize("RESIZE_BILINEAR", "ResizeBilinearOptions", [8, 10], HalfPixelCenters=True),
}


# (case, dtype) pairs that exist: QUANTIZE has no float32 form, some LSTM cases only an int8 one
FORMS = [(case, dtype) for case in CASES for dtype in ("int8", "float32") if CASES[case](dtype) is not None]


def compile_case(case: str, dtype: str, tmp_path):
    tensors, ops = CASES[case](dtype)
    produced = {o for op in ops for o in op.outputs}
    inputs = [k for k, t in enumerate(tensors) if t.data is None and not t.variable and k not in produced]
    outputs = [k for k in produced if not any(k in op.inputs for op in ops)]
    data = model(tensors, ops, inputs, outputs)
    path = tmp_path / f"{case}.tflite"
    path.write_bytes(data)
    c = pipeline.build(path, pipeline.Options(dtype=dtype))
    xs = random_inputs([tensors[k].shape for k in inputs], [np.dtype(tensors[k].dtype) for k in inputs], SAMPLES, 7)
    return c, dict(zip(c.graph.inputs, xs)), run_tflm(data, xs, len(outputs))


def _same(got, want, dtype):
    if dtype == "int8":
        diff = np.abs(got.astype(int) - want)
        assert np.array_equal(got, want), f"{np.sum(diff > 0)} of {want.size} differ, by up to {diff.max()}"
    else:
        assert np.abs(got - want).max() <= 1e-4 * max(1.0, float(np.abs(want).max()))


@pytest.mark.parametrize("case,dtype", FORMS)
def test_builtin_equals_tflm(case, dtype, tmp_path):
    c, feeds, want = compile_case(case, dtype, tmp_path)
    got = interpreter.run_samples(c.graph, feeds)
    for o, w in zip(c.graph.outputs, want):
        _same(got[o].reshape(w.shape), w, dtype)
    need_tool("cc")
    on_host = runners.run_host(c, feeds, sanitize=True)
    for o, w in zip(c.graph.outputs, want):
        _same(on_host[o].reshape(w.shape), w, dtype)


def test_int8_model_with_float_io(tmp_path):
    """float input -> QUANTIZE -> int8 ops -> DEQUANTIZE -> float output: tinyc's code takes and gives the
    int8 tensors; TFLM's float input quantized (TFLM's rule) goes in, and its float output is the
    dequantized int8 output, bit for bit."""
    t = [Tensor((1, 4, 4, 3), "float32"), act((1, 4, 4, 3), "int8", 0.04, -3), act((1, 4, 4, 3), "int8", 0.02, -128),
         Tensor((1, 4, 4, 3), "float32")]
    data = model(t, [Op("QUANTIZE", [0], [1]), Op("RELU", [1], [2]), Op("DEQUANTIZE", [2], [3])], [0], [3])
    path = tmp_path / "io.tflite"
    path.write_bytes(data)
    c = pipeline.build(path, pipeline.Options(dtype="int8"))
    x = random_inputs([(1, 4, 4, 3)], [np.float32], SAMPLES, 3)[0]
    want = run_tflm(data, [x])[0]
    (name,), (out,) = c.graph.inputs, c.graph.outputs
    assert c.graph.tensors[name].dtype == "int8" and c.graph.tensors[out].dtype == "int8"
    xq = np.clip(np.sign(x / np.float32(0.04)) * np.floor(np.abs(x / np.float32(0.04)) + 0.5) - 3, -128, 127)
    feeds = {name: xq.astype(np.int8)}
    for got in (interpreter.run_samples(c.graph, feeds)[out], runners.run_host(c, feeds, sanitize=True)[out]):
        real = (np.float64(np.float32(0.02)) * (got.astype(np.int64) + 128)).astype(np.float32)
        assert np.array_equal(real.reshape(want.shape), want)


def test_concatenation_of_different_scales_is_refused_as_tflm_does(tmp_path):
    t = [act((1, 3, 4, 2), "int8", 0.05, 3), act((1, 3, 4, 5), "int8", 0.1, -2), act((1, 3, 4, 7), "int8", 0.05, 3)]
    data = model(t, [Op("CONCATENATION", [0, 1], [2], "ConcatenationOptions", {"Axis": 3})], [0, 1], [2])
    path = tmp_path / "concat.tflite"
    path.write_bytes(data)
    with pytest.raises(RuntimeError, match="allocate"):  # TFLM's Prepare refuses a rescaling concatenation
        run_tflm(data, random_inputs([(1, 3, 4, 2), (1, 3, 4, 5)], [np.int8, np.int8], 1, 0))
    with pytest.raises(UnsupportedOp, match=r"input 't1' has scale 0.1 and zero point -2, .*needs them equal"):
        pipeline.build(path, pipeline.Options(dtype="int8"))


def test_int8_lstm_per_channel_is_one_line_unsupported(tmp_path):
    t = [act((1, 5, 3), "int8")] + [_weights((4, 3), 0)] * 4 + [_weights((4, 4), 0)] * 4 + \
        [Tensor((4,), "int32", 0.001, 0, 0, np.zeros(4, np.int32))] * 4 + \
        [Tensor((1, 4), "int8", 1 / 128, 0, variable=True), Tensor((1, 4), "int16", 1 / 2048, 0, variable=True),
         act((1, 5, 4), "int8")]
    ins = [0, 1, 2, 3, 4, 5, 6, 7, 8, -1, -1, -1, 9, 10, 11, 12, -1, -1, 13, 14, -1, -1, -1, -1]
    path = tmp_path / "lstm.tflite"
    path.write_bytes(model(t, [Op("UNIDIRECTIONAL_SEQUENCE_LSTM", ins, [15], "UnidirectionalSequenceLSTMOptions",
                                  {"FusedActivationFunction": 4})], [0], [15]))
    with pytest.raises(UnsupportedOp, match=r"^operator 0 \(UNIDIRECTIONAL_SEQUENCE_LSTM\): int8 LSTM: weight "
                                            r"tensor 1 is quantized per channel; TFLM's LSTM takes per-tensor only$"):
        pipeline.build(path, pipeline.Options(dtype="int8"))


def test_unsupported_builtins_are_listed_on_one_line(tmp_path):
    t = [act((1, 4), "float32"), act((1, 4), "float32"), act((1, 4), "float32"), act((1, 4), "float32")]
    data = model(t, [Op("FLOOR", [0], [1]), Op("RELU", [1], [2]), Op("SQRT", [2], [3])], [0], [3])
    path = tmp_path / "m.tflite"
    path.write_bytes(data)
    with pytest.raises(UnsupportedOp) as e:
        pipeline.build(path, pipeline.Options(dtype="float32"))
    assert str(e.value) == "2 unsupported TFLite operator(s): 0 (FLOOR), 2 (SQRT)"


def test_a_file_that_is_not_tflite_is_one_line_bad_input(tmp_path):
    from tinyc.errors import BadInput
    path = tmp_path / "m.tflite"
    path.write_bytes(b"not a flatbuffer at all")
    with pytest.raises(BadInput, match="not a TensorFlow Lite model"):
        pipeline.build(path, pipeline.Options())
