"""int8 numerics, defined once: the exact integer arithmetic that runtime_c/tinyc_common.h mirrors.

TensorFlow Lite's int8 scheme. Nothing here reads graphs; passes and ops call these.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np

from tinyc.errors import BadInput
from tinyc.ir import QParams

INT8_MIN, INT8_MAX = -128, 127
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def round_half_away(x: np.ndarray | float) -> np.ndarray:
    """Round to nearest, ties away from zero (TFLite's TfLiteRound), as float64."""
    x = np.asarray(x, np.float64)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


_REQUANTIZATION: ContextVar[str] = ContextVar("requantization", default="tflite")
ONCE_BITS = 20  # "once" keeps a multiplier of at least this many bits unshifted (a relative error below 2^-20)


@contextmanager
def requantization(rule: str):
    """Within it, quantize_multiplier follows `rule` (ir.Graph.requantization): "tflite" or "once"."""
    token = _REQUANTIZATION.set(rule)
    try:
        yield
    finally:
        _REQUANTIZATION.reset(token)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """real ~= multiplier * 2**(shift - 31).

    TFLite's QuantizeMultiplier (multiplier in [2**30, 2**31)): a multiplier too small to represent
    (shift < -31) becomes (0, 0), so the product is exactly 0. TFLite's right shift rounds the product a second
    time: its doubling high multiply keeps only -shift fractional bits, so a value within 2^(shift-1) below a
    half rounds up (a quarter of them at shift -1). Under requantization("once") a real in [2^-11, 0.5) gets
    shift 0 and the multiplier real 2^31 unnormalized (20 bits or more): the product is rounded once, as
    onnxruntime's float requantization rounds it. Below 2^-11 TFLite's form is kept: its window is 2^-12 or
    less. The kernels are the same.
    """
    if real == 0.0 or not math.isfinite(real):
        return 0, 0
    assert real > 0, f"negative requantization multiplier {real}"
    mantissa, shift = math.frexp(real)  # real = mantissa * 2**shift, mantissa in [0.5, 1)
    q = int(round_half_away(mantissa * (1 << 31)))
    if q == 1 << 31:
        q, shift = q // 2, shift + 1
    if shift < 0 and _REQUANTIZATION.get() == "once" and real * 2.0**31 >= 2.0**ONCE_BITS:
        shift, q = 0, int(round_half_away(real * 2.0**31))
    if shift < -31:
        return 0, 0
    if shift > 30:  # scales a user's weights can produce (a weight of 1e30, say): no int8 form
        raise BadInput(f"int8 requantization multiplier {real:.3g} is too large (at most 2**30): a weight or "
                       "activation of extreme magnitude")
    return q, shift


def quantize_multipliers(real: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vector form of quantize_multiplier: int32 multipliers and shifts."""
    pairs = [quantize_multiplier(float(r)) for r in np.ravel(real)]
    return (np.array([p[0] for p in pairs], np.int32).reshape(np.shape(real)),
            np.array([p[1] for p in pairs], np.int32).reshape(np.shape(real)))


def saturating_rounding_doubling_high_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """gemmlowp's SaturatingRoundingDoublingHighMul on int32 values, as int64 arrays."""
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    s = ab + nudge
    # C's int64 division truncates toward zero.
    hi = np.where(s >= 0, s >> 31, -((-s) >> 31))
    overflow = (a == INT32_MIN) & (b == INT32_MIN)
    return np.where(overflow, INT32_MAX, hi)


def rounding_divide_by_pot(x: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """gemmlowp's RoundingDivideByPOT: x / 2**exponent, ties away from zero."""
    x = np.asarray(x, np.int64)
    exponent = np.asarray(exponent, np.int64)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def requantize(acc: np.ndarray, multiplier: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """TFLite's MultiplyByQuantizedMultiplier, as int64; mirrors tinyc_requantize in C.

    The left shift saturates to int32 first (C keeps this overflow-free, where TFLite's
    int32 shift would be undefined); multiplier/shift broadcast against acc.
    """
    shift = np.asarray(shift, np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    x = np.clip(np.asarray(acc, np.int64) << left, INT32_MIN, INT32_MAX)
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, multiplier), right)


def saturate(x: np.ndarray, lo: int = INT8_MIN, hi: int = INT8_MAX, dtype=np.int8) -> np.ndarray:
    return np.clip(x, lo, hi).astype(dtype)


def choose_qparams(lo: float, hi: float) -> QParams:
    """Asymmetric int8 parameters covering [lo, hi] widened to include 0 (TFLite's rule)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise BadInput(f"int8 needs a finite range, not [{lo}, {hi}]")
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if hi - lo < 1e-12:
        hi = lo + 1e-6
    scale = (hi - lo) / 255.0
    zero_point = int(np.clip(round_half_away(INT8_MIN - lo / scale), INT8_MIN, INT8_MAX))
    return QParams.per_tensor(scale, zero_point)


def quantize_array(x: np.ndarray, q: QParams) -> np.ndarray:
    """float -> int8 with per-tensor parameters: round half away from zero, saturate."""
    v = round_half_away(np.asarray(x, np.float64) / q.scale[0]) + q.zero_point[0]
    return saturate(v)


def dequantize_array(x: np.ndarray, q: QParams) -> np.ndarray:
    return ((np.asarray(x, np.float64) - q.zero_point[0]) * q.scale[0]).astype(np.float32)


def quantize_weights_per_channel(w: np.ndarray, axis: int = 0) -> tuple[np.ndarray, QParams]:
    """Symmetric int8 weights in [-127, 127], one scale per slice along `axis` (zero point 0).

    Computed in float64 a block of slices at a time, so a large layer never has float64 copies of itself.
    """
    moved = np.moveaxis(np.asarray(w), axis, 0)
    channels = moved.shape[0]
    per_channel = int(np.prod(moved.shape[1:], dtype=np.int64))
    rows = max(1, (1 << 18) // max(per_channel, 1))
    q = np.empty(moved.shape, np.int8)
    scale = np.ones(channels, np.float64)
    for start in range(0, channels, rows):
        block = moved[start:start + rows].astype(np.float64)
        amax = np.abs(block).reshape(len(block), -1).max(axis=1) if block.size else np.zeros(len(block))
        s = np.where(amax > 0, amax / 127.0, 1.0)
        scale[start:start + rows] = s
        q[start:start + rows] = saturate(round_half_away(block / s.reshape(-1, *[1] * (block.ndim - 1))), -127, 127)
    return np.ascontiguousarray(np.moveaxis(q, 0, axis)), QParams(scale, np.zeros_like(scale, np.int32), axis)


def quantize_bias(b: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """int32 bias with scale = input scale x weight scale (per channel)."""
    return np.clip(round_half_away(np.asarray(b, np.float64) / scale), INT32_MIN, INT32_MAX).astype(np.int32)


def act_bounds(q: QParams, lo: float | None, hi: float | None) -> tuple[int, int]:
    """int8 clamp for a fused activation clamping the real value to [lo, hi] (None: unbounded)."""
    qmin, qmax = INT8_MIN, INT8_MAX
    if lo is not None:
        qmin = max(qmin, int(quantize_array(np.array([lo]), q)[0]))
    if hi is not None:
        qmax = min(qmax, int(quantize_array(np.array([hi]), q)[0]))
    return min(qmin, qmax), qmax  # lo > hi: hi everywhere, as ONNX Clip


INV_SQRT_NEWTON_STEPS = 4  # from the chord, the relative error falls 0.17, 5e-3, 3e-5, 3e-9


def inv_sqrt(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """1/sqrt(d) ~= r * 2**-(44 + k) for int64 d in [1, 2**62), as int64 arrays (r, k), r in [2**29, 2**30].

    d = m * 4**k with m in [2**28, 2**30) (a flooring shift), then fixed-point Newton steps on
    r ~= 2**29 / sqrt(m / 2**30) (Q29) from the chord of 1/sqrt on [1/4, 1]; relative error below
    3e-9. Mirrors tinyc_inv_sqrt in runtime_c/tinyc_inv_sqrt.h bit for bit.
    """
    d = np.asarray(d, np.int64)
    assert np.all(d >= 1) and np.all(d < 2**62), f"inv_sqrt of {d.min()}..{d.max()}"
    bits = np.zeros_like(d)
    for b in range(63):  # bit length, as the C's loop
        bits = np.where(d >> b != 0, b + 1, bits)
    k = (bits - 29) // 2  # flooring: m has 29 or 30 bits
    m = np.where(k >= 0, d >> np.maximum(2 * k, 0), d << np.maximum(-2 * k, 0))
    r = (7 * 2**29 - 2 * m) // 3  # 7/3 - 4/3 M, M = m / 2**30
    for _ in range(INV_SQRT_NEWTON_STEPS):
        t = (r * r) >> 29  # r^2, Q29
        mt = (m * t) >> 30  # M r^2, Q29
        r = (r * (3 * 2**29 - mt)) >> 30  # r (3 - M r^2) / 2
    return r, k
