"""Softmax along one axis (ONNX opset 13), and float32 log softmax. int8 softmax is integer only, with an
exp table built here.

Log softmax in int8 is TFLM's LOG_SOFTMAX (reference/log_softmax.h), whatever the source format:
gemmlowp's exp of the rescaled difference, a Q12.19 sum, TFLite's fixed-point log, output 16/256, 127.

Two int8 softmax rules (attrs["rule"]): tinyc's own (default, below: onto 1/256, -128, or onto a model's own
parameters of scale 1/K, rounded once) and "tflm", TensorFlow Lite Micro's
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
LOG_OUTPUT_Q = (16.0 / 256.0, 127)  # and log softmax's: y in [-16, 0)


def _loops(shape: tuple, axis: int) -> tuple[int, int, int]:
    """(outer, axis size, inner): element counts before, along and after the axis."""
    return int(np.prod(shape[:axis])), shape[axis], int(np.prod(shape[axis + 1:]))


def _levels(q: QParams | None) -> int | None:
    """The multiplier K of softmax's output, y = round(p K) + zero point, when output parameters q (a model's
    own) have scale 1/K' for an integer K' <= 256: K = floor(1 / scale) in float32, onnxruntime's QLinearSoftmax
    rule (its optimizer fuses a QDQ softmax into it), so 254 for the 1/255 that quantize_static writes. The
    result is rounded once. None otherwise: the op writes 1/256 and a table requantizes to q."""
    if q is None or q.scale.size != 1:
        return None
    inverse = 1.0 / float(q.scale[0])
    k = round(inverse)
    if not (1 <= k <= 256 and abs(inverse - k) <= 1e-5 * k):
        return None
    return max(1, int(np.floor(np.float32(1) / np.float32(q.scale[0]))))


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
        own = g.tensors[node.outputs[0]].q  # a QDQ model's: kept when the kernel rounds straight onto it
        if node.attrs.get("rule") != "tflm" and _levels(own) is not None:
            return [own]
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
        out = g.tensors[node.outputs[0]].q
        levels = _levels(out) or round(1 / OUTPUT_Q[0])
        out_zp = int(out.zero_point[0]) if _levels(out) else OUTPUT_Q[1]
        return Node(node.name, node.op, list(node.inputs), list(node.outputs),
                    {**node.attrs, "int8": {"exp_table": table, "levels": levels, "out_zp": out_zp}})

    def ref_int8(self, node, xs):
        # Per row: d = max - x in [0, 255]; y = round(E[d] * levels / sum E) + out_zp, with the
        # rounding done by integer division of non-negatives, as the C kernel does.
        axis, table = node.attrs["axis"], node.attrs["int8"]["exp_table"].astype(np.int64)
        x = xs[0].astype(np.int64)
        if node.attrs.get("rule") == "tflm":
            return [tflm_softmax(x, axis, table)]
        e = table[x.max(axis=axis, keepdims=True) - x]
        total = e.sum(axis=axis, keepdims=True)
        y = (e * node.attrs["int8"]["levels"] + total // 2) // total + node.attrs["int8"]["out_zp"]
        return [quant.saturate(y)]

    def kernel(self, node, g):
        outer, axis_size, inner = _loops(g.tensors[node.inputs[0]].shape, node.attrs["axis"])
        params = {"outer": outer, "axis_size": axis_size, "inner": inner}
        args = [node.inputs[0], node.outputs[0]]
        if out_dtype(node, g) == "int8" and node.attrs.get("rule") == "tflm":
            params["exp_table"] = node.attrs["int8"]["exp_table"]
            return KernelCall("tinyc_softmax_tflm_s8", "tinyc_softmax", "tinyc_softmax_tflm_s8_params", params, args)
        if out_dtype(node, g) == "int8":
            params.update({k: node.attrs["int8"][k] for k in ("exp_table", "levels", "out_zp")})
            return KernelCall("tinyc_softmax_s8", "tinyc_softmax", "tinyc_softmax_s8_params", params, args)
        return KernelCall("tinyc_softmax_f32", "tinyc_softmax", "tinyc_softmax_f32_params", params, args)


@register
class LogSoftmax(Op):
    """y = (x - max) - log(sum(exp(x - max))) along attrs["axis"] (non-negative). int8: TFLM's
    LOG_SOFTMAX (reference/log_softmax.h LogSoftmaxQuantized) bit for bit, output q 16/256, 127."""

    name = "log_softmax"

    def infer_shape(self, node, in_shapes):
        assert 0 <= node.attrs["axis"] < len(in_shapes[0]), f"node {node.name!r}: axis of {in_shapes[0]}"
        return [tuple(in_shapes[0])]

    def ref_float(self, node, xs):
        x = np.asarray(xs[0], np.float64)
        d = x - x.max(axis=node.attrs["axis"], keepdims=True)
        return [(d - np.log(np.exp(d).sum(axis=node.attrs["axis"], keepdims=True))).astype(np.float32)]

    def output_qparams(self, node, g, calibrated):
        return [QParams.per_tensor(*LOG_OUTPUT_Q)]

    def quantize(self, node, g):
        shape = g.tensors[node.inputs[0]].shape
        if shape[node.attrs["axis"]] > MAX_AXIS:
            raise UnsupportedOp(f"node {node.name!r} (log_softmax): axis of {shape[node.attrs['axis']]} elements; "
                                f"int8 allows up to {MAX_AXIS}")
        s_in = float(np.float32(scale_zp(g, node.inputs[0])[0]))  # TFLM reads the float32 scale
        int8 = tflm_log_softmax_params(s_in)
        if int8 is None:
            raise UnsupportedOp(f"node {node.name!r} (log_softmax): input scale {s_in:.3g} below 2^-26 has no "
                                "int8 form (TFLM's input multiplier is at least 1)")
        return Node(node.name, node.op, list(node.inputs), list(node.outputs), {**node.attrs, "int8": int8})

    def ref_int8(self, node, xs):
        return [tflm_log_softmax(xs[0].astype(np.int64), node.attrs["axis"], node.attrs["int8"])]

    def kernel(self, node, g):
        outer, axis_size, inner = _loops(g.tensors[node.inputs[0]].shape, node.attrs["axis"])
        params = {"outer": outer, "axis_size": axis_size, "inner": inner}
        if out_dtype(node, g) == "int8":
            return KernelCall("tinyc_log_softmax_s8", "tinyc_softmax", "tinyc_log_softmax_s8_params",
                              {**params, **node.attrs["int8"]}, [node.inputs[0], node.outputs[0]])
        return KernelCall("tinyc_log_softmax_f32", "tinyc_softmax", "tinyc_softmax_f32_params", params,
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
    return _one_over_one_plus_x(x), bits_over_unit


def tflm_softmax(x: np.ndarray, axis: int, table: np.ndarray) -> np.ndarray:
    """TFLM's int8 -> int8 softmax along `axis` with the exp table of tflm_exp_table."""
    e = table[x.max(axis=axis, keepdims=True) - x]
    sums = quant.rounding_divide_by_pot(e, ACCUM_BITS).sum(axis=axis, keepdims=True)
    recip = np.vectorize(lambda t: _reciprocal(int(t))[0], otypes=[np.int64])(sums)
    exponent = np.vectorize(lambda t: _reciprocal(int(t))[1] + 31 - 8, otypes=[np.int64])(sums)
    y = quant.rounding_divide_by_pot(quant.saturating_rounding_doubling_high_mul(recip, e), exponent) - 128
    return quant.saturate(y)


# --- TFLM's int8 log softmax (reference/log_softmax.h LogSoftmaxQuantized, internal/common.h's log) ---
LOG_OUTPUT_BITS = 4  # Q4.27 before the downcast: y = (diff - log sum) / 2^22 + 127
SQRT_HALF, SQRT_SQRT_HALF, LOG_2, ONE_QUARTER = 1518500250, 1805811301, 1488522236, 536870912
LOG_ALPHA_N, LOG_ALPHA_D, LOG_ALPHA_I, LOG_ALPHA_F = 117049297, 127690142, 1057819769, 638450708


def _sat_pot(x: int, e: int) -> int:
    """gemmlowp's SaturatingRoundingMultiplyByPOT for e >= 0: x * 2^e saturated to int32."""
    if e == 0:
        return x
    limit = (1 << (31 - e)) - 1
    return INT32_MAX if x > limit else INT32_MIN if x < -limit else x << e


def _sat32(x: int) -> int:
    return max(INT32_MIN, min(INT32_MAX, x))


def _clz32(x: int) -> int:
    return 32 - (x & 0xFFFFFFFF).bit_length()


def _rounding_half_sum(a: int, b: int) -> int:
    s = a + b + (1 if a + b >= 0 else -1)
    return s // 2 if s >= 0 else -((-s) // 2)  # C's truncating division


def _one_over_one_plus_x(a: int) -> int:
    """gemmlowp one_over_one_plus_x_for_x_in_0_1: Q0.31 a -> 1 / (1 + a) in Q0.31."""
    half = _rounding_half_sum(a, INT32_MAX)
    y = 1515870810 + _srdhm(half, -1010580540)  # 48/17 - 32/17 * half, Q2.29
    for _ in range(3):
        y = y + _sat_pot(_srdhm(y, (1 << 29) - _srdhm(half, y)), 2)
    return _sat_pot(y, 1)  # ExactMulByPot<-1> keeps the raw value; Rescale<0> from Q1.30 doubles it


def tflm_log_q5(total: int) -> int:
    """TFLite's log_x_for_x_greater_than_or_equal_to_1<5> of a Q12.19 sum: log(sum) in Q5.26."""
    accum_bits, in_bits = 6, ACCUM_BITS  # kAccumIntegerBits = OutputIntegerBits + 1
    quarter = _rdbpot(ONE_QUARTER, accum_bits)
    za_headroom_plus_1 = _clz32(total)
    r_a = _sat_pot(_srdhm(_sat_pot(total, za_headroom_plus_1 - 1), SQRT_HALF), 1)
    za_adj = _sat32(_sat_pot(in_bits - za_headroom_plus_1, 31 - accum_bits) + quarter)
    zb_headroom = _clz32(_srdhm(total, SQRT_HALF)) - 1
    r_b = _sat_pot(total, zb_headroom)
    zb_adj = _sat32(_sat_pot(in_bits - zb_headroom, 31 - accum_bits) - quarter)
    r, z_adj = min(r_a, r_b), max(za_adj, zb_adj)
    p = _rounding_half_sum(r, SQRT_SQRT_HALF)
    q = 2 * (r - SQRT_SQRT_HALF)
    q_sq = _srdhm(q, q)
    num = _srdhm(q, r) + _srdhm(_srdhm(q, q_sq), LOG_ALPHA_N)
    denom_minus_one = _srdhm(p, LOG_ALPHA_I + q + _srdhm(LOG_ALPHA_D, q_sq)) + _srdhm(LOG_ALPHA_F, q)
    recip = _one_over_one_plus_x(denom_minus_one)
    return _sat_pot(_srdhm(z_adj, LOG_2) + _srdhm(_rdbpot(num, accum_bits), recip), 1)  # Rescale<5> from Q6


def tflm_log_softmax_params(s_in: float) -> dict | None:
    """TFLM's PreprocessLogSoftmaxScalingExp and diff_min for input scale s_in (beta 1), and the Q12.19
    exp of every difference -d, d in [0, 255] (0 below diff_min). From an input scale of 16 on (a shift of
    31 or more) diff_min is 0: only the row's maxima enter, their difference 0 stays 0 under any shift, so
    the shift kept is at most 30 (TFLM's own would overflow its int32 shift)."""
    real = min(s_in * (1 << (31 - SCALED_DIFF_BITS)), (1 << 31) - 1.0)
    mantissa, shift = math.frexp(real)
    multiplier = int(quant.round_half_away(mantissa * (1 << 31)))
    if multiplier == 1 << 31:
        multiplier, shift = multiplier // 2, shift + 1
    if shift < 0:
        return None
    reverse_multiplier, reverse_shift = quant.quantize_multiplier(2.0 ** (31 - shift) / multiplier)
    diff_min = -math.floor(((1 << SCALED_DIFF_BITS) - 1) * (1 << (31 - SCALED_DIFF_BITS)) / 2.0**shift)
    shift = min(shift, 30)
    diffs = -np.arange(256)
    q5 = quant.requantize(diffs, multiplier, shift)
    exps = [_rdbpot(_exp_on_negative_values(int(v)), ACCUM_BITS) for v in q5]
    table = np.where(diffs >= diff_min, exps, 0).astype(np.int32)
    return {"input_multiplier": multiplier, "input_shift": shift, "reverse_multiplier": reverse_multiplier,
            "reverse_shift": reverse_shift, "diff_min": diff_min, "exp_table": table}


def tflm_log_softmax(x: np.ndarray, axis: int, p: dict) -> np.ndarray:
    """TFLM's int8 -> int8 log softmax along `axis` with the parameters of tflm_log_softmax_params."""
    diff = x - x.max(axis=axis, keepdims=True)
    sums = p["exp_table"].astype(np.int64)[-diff].sum(axis=axis, keepdims=True)
    log_sum = np.vectorize(lambda t: tflm_log_q5(int(t)), otypes=[np.int64])(sums)
    # differences whose Q5.26 value minus the log would leave int32 give -128, as TFLM's
    floor = quant.requantize(log_sum + INT32_MIN, p["reverse_multiplier"], p["reverse_shift"])
    adjusted_diff_min = np.maximum(p["diff_min"] - 1, floor)
    q5 = quant.requantize(diff, p["input_multiplier"], p["input_shift"])
    shifted = np.clip(q5 - log_sum, INT32_MIN, INT32_MAX)  # in range wherever it is used
    y = quant.rounding_divide_by_pot(shifted, 31 - SCALED_DIFF_BITS - LOG_OUTPUT_BITS) + 127
    return np.where(diff > adjusted_diff_min, quant.saturate(y), np.int8(-128)).astype(np.int8)
