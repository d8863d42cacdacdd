"""Softmax along one axis (ONNX opset 13), and float32 log softmax. int8 softmax is integer only, with an
exp table built here.

Two int8 rules (attrs["rule"]): tinyc's own (default, below) and "tflm", TensorFlow Lite Micro's
reference softmax bit for bit (gemmlowp fixed point: exp of the rescaled difference in Q5.26, a Q12.19
sum, a Newton-Raphson reciprocal), which .tflite models get. attrs["beta"] (default 1) scales the input.
C: runtime_c/tinyc_softmax.c.
"""

from __future__ import annotations

import math

import numpy as np

from tinyc import quant
from tinyc.errors import UnsupportedOp
from tinyc.ir import Node, QParams
from tinyc.ops import KernelCall, Op, register
from tinyc.ops.common import out_dtype, scale_zp

EXP_BITS = 20  # E[d] = round(exp(-d * s_in) * 2^20): E[0] = 2^20, E[d] <= E[0]
MAX_AXIS = 4095  # sum <= 4095 * 2^20 and (E << 8) + sum / 2 stay below 2^32 (uint32 in C)
OUTPUT_Q = (1.0 / 256.0, -128)  # TFLite's fixed softmax output parameters


def _loops(shape: tuple, axis: int) -> tuple[int, int, int]:
    """(outer, axis size, inner): element counts before, along and after the axis."""
    return int(np.prod(shape[:axis])), shape[axis], int(np.prod(shape[axis + 1:]))


@register
class Softmax(Op):
    """y = exp(x - max) / sum(exp(x - max)) along attrs["axis"] (non-negative)."""

    name = "softmax"

    def infer_shape(self, node, in_shapes):
        axis = node.attrs["axis"]
        assert 0 <= axis < len(in_shapes[0]), f"node {node.name!r}: softmax axis {axis} of {in_shapes[0]}"
        return [tuple(in_shapes[0])]

    def ref_float(self, node, xs):
        x = np.asarray(xs[0], np.float64) * node.attrs.get("beta", 1.0)
        e = np.exp(x - x.max(axis=node.attrs["axis"], keepdims=True))
        return [(e / e.sum(axis=node.attrs["axis"], keepdims=True)).astype(np.float32)]

    def output_qparams(self, node, g, calibrated):
        return [QParams.per_tensor(*OUTPUT_Q)]

    def quantize(self, node, g):
        shape = g.tensors[node.inputs[0]].shape
        if shape[node.attrs["axis"]] > MAX_AXIS:
            raise UnsupportedOp(f"node {node.name!r} (softmax): axis of {shape[node.attrs['axis']]} elements; "
                                f"int8 allows up to {MAX_AXIS}")
        s_in, _ = scale_zp(g, node.inputs[0])
        if node.attrs.get("rule") == "tflm":
            table = tflm_exp_table(s_in, node.attrs.get("beta", 1.0))
            return Node(node.name, node.op, list(node.inputs), list(node.outputs),
                        {**node.attrs, "int8": {"exp_table": table}})
        if node.attrs.get("beta", 1.0) != 1.0:
            raise UnsupportedOp(f"node {node.name!r} (softmax): int8 with beta != 1 only under the tflm rule")
        table = quant.round_half_away(np.exp(-np.arange(256) * s_in) * (1 << EXP_BITS)).astype(np.uint32)
        return Node(node.name, node.op, list(node.inputs), list(node.outputs),
                    {**node.attrs, "int8": {"exp_table": table}})

    def ref_int8(self, node, xs):
        # Per row: d = max - x in [0, 255]; y = round(E[d] * 256 / sum E) - 128, with the
        # rounding done by integer division of non-negatives, as the C kernel does.
        axis, table = node.attrs["axis"], node.attrs["int8"]["exp_table"].astype(np.int64)
        x = xs[0].astype(np.int64)
        if node.attrs.get("rule") == "tflm":
            return [tflm_softmax(x, axis, table)]
        e = table[x.max(axis=axis, keepdims=True) - x]
        total = e.sum(axis=axis, keepdims=True)
        y = ((e << 8) + total // 2) // total - 128
        return [quant.saturate(y)]

    def kernel(self, node, g):
        outer, axis_size, inner = _loops(g.tensors[node.inputs[0]].shape, node.attrs["axis"])
        params = {"outer": outer, "axis_size": axis_size, "inner": inner}
        args = [node.inputs[0], node.outputs[0]]
        if out_dtype(node, g) == "int8" and node.attrs.get("rule") == "tflm":
            params["exp_table"] = node.attrs["int8"]["exp_table"]
            return KernelCall("tinyc_softmax_tflm_s8", "tinyc_softmax", "tinyc_softmax_tflm_s8_params", params, args)
        if out_dtype(node, g) == "int8":
            params["exp_table"] = node.attrs["int8"]["exp_table"]
            return KernelCall("tinyc_softmax_s8", "tinyc_softmax", "tinyc_softmax_s8_params", params, args)
        return KernelCall("tinyc_softmax_f32", "tinyc_softmax", "tinyc_softmax_f32_params", params, args)


@register
class LogSoftmax(Op):
    """y = (x - max) - log(sum(exp(x - max))) along attrs["axis"] (non-negative). float32 only."""

    name = "log_softmax"

    def infer_shape(self, node, in_shapes):
        assert 0 <= node.attrs["axis"] < len(in_shapes[0]), f"node {node.name!r}: axis of {in_shapes[0]}"
        return [tuple(in_shapes[0])]

    def ref_float(self, node, xs):
        x = np.asarray(xs[0], np.float64)
        d = x - x.max(axis=node.attrs["axis"], keepdims=True)
        return [(d - np.log(np.exp(d).sum(axis=node.attrs["axis"], keepdims=True))).astype(np.float32)]

    def kernel(self, node, g):
        outer, axis_size, inner = _loops(g.tensors[node.inputs[0]].shape, node.attrs["axis"])
        return KernelCall("tinyc_log_softmax_f32", "tinyc_softmax", "tinyc_softmax_f32_params",
                          {"outer": outer, "axis_size": axis_size, "inner": inner},
                          [node.inputs[0], node.outputs[0]])


# --- TFLM's int8 softmax (tensorflow/lite/kernels/internal/reference/softmax.h), in gemmlowp fixed point ---
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
SCALED_DIFF_BITS, ACCUM_BITS = 5, 12  # Q5.26 input to exp, Q12.19 sum of exps
EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308), (2, 39332535), (3, 720401),
              (4, 242))  # exp(-2^k) in Q0.31


def _srdhm(a: int, b: int) -> int:
    """gemmlowp's SaturatingRoundingDoublingHighMul on Python ints."""
    if a == b == INT32_MIN:
        return INT32_MAX
    ab = a * b + ((1 << 30) if a * b >= 0 else 1 - (1 << 30))
    return ab >> 31 if ab >= 0 else -((-ab) >> 31)


def _rdbpot(x: int, e: int) -> int:
    mask = (1 << e) - 1
    return (x >> e) + ((x & mask) > (mask >> 1) + (x < 0))


def _exp_on_negative_values(a: int) -> int:
    """gemmlowp exp_on_negative_values: Q5.26 a <= 0 -> exp(a) in Q0.31."""
    quarter = 1 << 24
    a_mod = (a & (quarter - 1)) - quarter  # in [-1/4, 0)
    x = (a_mod << 5) + (1 << 28)  # Rescale<0>, then the Taylor expansion around -1/8
    x2 = _srdhm(x, x)
    x3 = _srdhm(x2, x)
    x4_over_4 = _rdbpot(_srdhm(x2, x2), 2)
    poly = _rdbpot(_srdhm(x4_over_4 + x3, 715827883) + x2, 1)
    result = 1895147668 + _srdhm(1895147668, x + poly)
    remainder = a_mod - a
    for k, multiplier in EXP_BARREL:
        if remainder & (1 << (26 + k)):
            result = _srdhm(result, multiplier)
    return INT32_MAX if a == 0 else result


def tflm_exp_table(s_in: float, beta: float) -> np.ndarray:
    """E[d] = exp(-d * beta * s_in) in Q0.31 as TFLM computes it for an input difference -d (0 below diff_min)."""
    real = min(float(np.float32(beta)) * s_in * (1 << (31 - SCALED_DIFF_BITS)), (1 << 31) - 1.0)
    mantissa, shift = math.frexp(real)
    multiplier = int(quant.round_half_away(mantissa * (1 << 31)))
    if multiplier == 1 << 31:
        multiplier, shift = multiplier // 2, shift + 1
    diff_min = -math.floor(((1 << SCALED_DIFF_BITS) - 1) * (1 << (31 - SCALED_DIFF_BITS)) / (1 << shift))
    table = np.zeros(256, np.int32)
    for d in range(256):
        if -d >= diff_min:
            table[d] = _exp_on_negative_values(_srdhm(-d * (1 << shift), multiplier))
    return table


def _reciprocal(total: int) -> tuple[int, int]:
    """TFLite's GetReciprocal of a Q12.19 sum: (1 / (1 + x) in Q0.31, bits over unit)."""
    headroom = 32 - total.bit_length()
    bits_over_unit = ACCUM_BITS - headroom
    x = ((total << headroom) - (1 << 31)) & 0xFFFFFFFF
    x = x - (1 << 32) if x >= 1 << 31 else x
    s = x + INT32_MAX
    half = (s + (1 if s >= 0 else -1)) // 2 if s >= 0 else -((-s + 1) // 2)  # RoundingHalfSum
    y = 1515870810 + _srdhm(half, -1010580540)  # 48/17 - 32/17 * d, Q2.29
    for _ in range(3):
        e = (1 << 29) - _srdhm(half, y)
        p = _srdhm(y, e)  # Q4.27, then Rescale<2> saturating
        y = y + (INT32_MAX if p > (1 << 29) - 1 else INT32_MIN if p < -((1 << 29) - 1) else p << 2)
    y >>= 1  # ExactMulByPot<-1>, then Rescale<0> saturating
    return (INT32_MAX if y > (1 << 29) - 1 else INT32_MIN if y < -((1 << 29) - 1) else y << 2), bits_over_unit


def tflm_softmax(x: np.ndarray, axis: int, table: np.ndarray) -> np.ndarray:
    """TFLM's int8 -> int8 softmax along `axis` with the exp table of tflm_exp_table."""
    e = table[x.max(axis=axis, keepdims=True) - x]
    sums = quant.rounding_divide_by_pot(e, ACCUM_BITS).sum(axis=axis, keepdims=True)
    recip = np.vectorize(lambda t: _reciprocal(int(t))[0], otypes=[np.int64])(sums)
    exponent = np.vectorize(lambda t: _reciprocal(int(t))[1] + 31 - 8, otypes=[np.int64])(sums)
    y = quant.rounding_divide_by_pot(quant.saturating_rounding_doubling_high_mul(recip, e), exponent) - 128
    return quant.saturate(y)
