"""onnxruntime's QOperator form (QLinearConv, QGemm, QLinearAdd, ...): each lowers onto the float op's
lowering, its int8 tensors standing for float IR tensors that carry the node's scales and zero points.

Constant int8 weights are dequantized here and keep their parameters, an int32 bias becomes its float
value (tinyc requantizes it with input scale x weight scale: the file's integers come back, see
docs/onnxruntime_quantization.md). Named and laid out as the other lowering modules; ONNX op
signatures as the onnx and com.microsoft operator docs give them.
"""

from __future__ import annotations

import numpy as np

from tinyc.frontend.onnx_ops import dense, elementwise, spatial, tensor
from tinyc.frontend.onnx_ops.quantization import dequantized, qparams


def _activation(b, X, scale, zero_point) -> str:
    """X, an int8 activation read with (scale, zero point): its tensor carries them (set here when its
    producer gave none, checked when it did)."""
    if b.const(X) is not None:
        return dequantized(b, X, scale, zero_point, axis=None)
    q = qparams(b, scale, zero_point, None)
    if q.scale.size != 1:
        raise b.fail(f"input {X!r}: per-channel activation parameters unsupported")
    name = b.tensor(X)
    t = b.tensors[name]
    if t.q is None:
        t.q = b.q[name] = q
    elif not (np.isclose(t.q.scale[0], q.scale[0], rtol=1e-6) and t.q.zero_point[0] == q.zero_point[0]):
        raise b.fail(f"input {X!r} is read with scale {q.scale[0]:.6g}, zero point {q.zero_point[0]} but was "
                     f"written with scale {t.q.scale[0]:.6g}, zero point {t.q.zero_point[0]}")
    return name


def _output(b, n, scale, zero_point, index: int = 0) -> None:
    b.q[n.output[index]] = qparams(b, scale, zero_point, None)


def _weight(b, W, scale, zero_point, axis: int) -> str:
    if b.const(W) is None:
        raise b.fail("weights must be constant")
    return dequantized(b, W, scale, zero_point, axis)


def _bias(b, B, scales: np.ndarray) -> str:
    """An int32 bias of scale input scale x weight scale, as its float value."""
    if not B:
        return ""
    v = b.const(B)
    if v is None:
        raise b.fail("bias must be constant")
    name = b.fresh(B + "_dequantized")
    b.consts[name] = (np.asarray(v, np.float64) * scales).astype(np.float32)
    return name


def _scales(b, input_scale: str, weight_scale: str) -> np.ndarray:
    """The bias scale, per output channel when the weight's is."""
    return np.asarray(b.const(input_scale), np.float64).reshape(-1) * \
        np.asarray(b.const(weight_scale), np.float64).reshape(-1)


def QLinearConv(b, n, x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B="", **attrs):
    X = _activation(b, x, x_scale, x_zero_point)
    W = _weight(b, w, w_scale, w_zero_point, axis=0)
    _output(b, n, y_scale, y_zero_point)
    spatial.Conv(b, n, X, W, _bias(b, B, _scales(b, x_scale, w_scale)), **attrs)


def QLinearMatMul(b, n, a, a_scale, a_zero_point, b_in, b_scale, b_zero_point, y_scale, y_zero_point):
    A = _activation(b, a, a_scale, a_zero_point)
    if b.const(b_in) is not None:
        Bm = dequantized(b, b_in, b_scale, b_zero_point, axis=b.const(b_in).ndim - 1)
    else:
        Bm = _activation(b, b_in, b_scale, b_zero_point)
    _output(b, n, y_scale, y_zero_point)
    dense.MatMul(b, n, A, Bm)


def QGemm(b, n, A, a_scale, a_zero_point, B, b_scale, b_zero_point, C="", y_scale="", y_zero_point="", *,
          alpha=1.0, transA=0, transB=0):
    """com.microsoft QGemm: Y = alpha (A' B') + C, C int32 of scale a_scale x b_scale; without y_scale the
    output is float (tinyc calibrates it)."""
    X = _activation(b, A, a_scale, a_zero_point)
    # alpha goes into the weight's scales, so the weight's integers stay the file's
    alpha_scale = b.fresh(B + "_scale_alpha")
    b.consts[alpha_scale] = np.asarray(b.const(b_scale), np.float64) * float(alpha)
    W = _weight(b, B, alpha_scale, b_zero_point, axis=0 if transB else 1)
    if y_scale:
        _output(b, n, y_scale, y_zero_point)
    bias = _bias(b, C, _scales(b, a_scale, b_scale))
    dense.Gemm(b, n, X, W, bias, transA=transA, transB=transB)


def _binary(lowering):
    def lower(b, n, A, A_scale, A_zero_point, B, B_scale, B_zero_point, C_scale, C_zero_point):
        a = _activation(b, A, A_scale, A_zero_point)
        other = _activation(b, B, B_scale, B_zero_point)
        _output(b, n, C_scale, C_zero_point)
        lowering(b, n, a, other)
    return lower


def _unary(lowering):
    def lower(b, n, X, X_scale, X_zero_point, Y_scale, Y_zero_point, **attrs):
        x = _activation(b, X, X_scale, X_zero_point)
        _output(b, n, Y_scale, Y_zero_point)
        lowering(b, n, x, **attrs)
    return lower


def _channels_first(b, channels_last: int) -> None:
    if channels_last:
        raise b.fail("channels_last=1 unsupported; only NCHW (channels_last=0)")


def QLinearAveragePool(b, n, X, x_scale, x_zero_point, y_scale, y_zero_point, *, channels_last=0, **attrs):
    _channels_first(b, channels_last)
    x = _activation(b, X, x_scale, x_zero_point)
    _output(b, n, y_scale, y_zero_point)
    spatial.AveragePool(b, n, x, **attrs)


def QLinearGlobalAveragePool(b, n, X, x_scale, x_zero_point, y_scale, y_zero_point, *, channels_last=0):
    _channels_first(b, channels_last)
    x = _activation(b, X, x_scale, x_zero_point)
    _output(b, n, y_scale, y_zero_point)
    spatial.GlobalAveragePool(b, n, x)


def QLinearConcat(b, n, Y_scale, Y_zero_point, *inputs, axis):
    if len(inputs) % 3 or not inputs:
        raise b.fail(f"{len(inputs)} inputs after Y_scale, Y_zero_point; expected (X, scale, zero point) triples")
    xs = [_activation(b, *inputs[i:i + 3]) for i in range(0, len(inputs), 3)]
    _output(b, n, Y_scale, Y_zero_point)
    tensor.Concat(b, n, *xs, axis=axis)


def QLinearSoftmax(b, n, X, X_scale, x_zero_point, y_scale, y_zero_point, *, axis=-1, opset=13):
    """com.microsoft QLinearSoftmax: `opset` says whose axis rule applies (before 13: the axes from axis on)."""
    x = _activation(b, X, X_scale, x_zero_point)
    _output(b, n, y_scale, y_zero_point)
    rank = len(b.shape(x))
    if opset < 13 and axis % rank != rank - 1:
        raise b.fail(f"opset={opset} with axis={axis} on rank {rank}: only the last axis")
    elementwise.Softmax(b, n, x, axis=axis)


def _dynamic(b, n, *inputs, **attrs):
    raise b.fail("dynamic quantization (onnxruntime's quantize_dynamic) unsupported: tinyc needs every "
                 "activation's scale at compile time; quantize with quantize_static")


LOWERINGS = {
    "QLinearConv": QLinearConv, "QLinearMatMul": QLinearMatMul, "QGemm": QGemm,
    "QLinearAdd": _binary(elementwise.LOWERINGS["Add"]), "QLinearMul": _binary(elementwise.LOWERINGS["Mul"]),
    "QLinearSigmoid": _unary(elementwise.LOWERINGS["Sigmoid"]),
    "QLinearLeakyRelu": _unary(elementwise.LOWERINGS["LeakyRelu"]),
    "QLinearAveragePool": QLinearAveragePool, "QLinearGlobalAveragePool": QLinearGlobalAveragePool,
    "QLinearConcat": QLinearConcat, "QLinearSoftmax": QLinearSoftmax,
    "DynamicQuantizeLinear": _dynamic, "MatMulInteger": _dynamic, "ConvInteger": _dynamic,
}
# The ops of this form that onnxruntime defines in its own domain
MICROSOFT = {"QGemm", "QLinearAdd", "QLinearMul", "QLinearSigmoid", "QLinearLeakyRelu", "QLinearAveragePool",
             "QLinearGlobalAveragePool", "QLinearConcat", "QLinearSoftmax"}
