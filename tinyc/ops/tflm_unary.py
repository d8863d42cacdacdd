"""TensorFlow Lite Micro's int8 rule for unary functions whose TFLM kernel is not the rounded float
function: its integer algorithm, run here on all 256 inputs to fill the "unary" op's table (attrs
"rule": "tflm"; tinyc/ops/unary.py). Exact by construction; the C is the ordinary table lookup.
From tensorflow/lite/kernels/internal/reference/{leaky_relu.h, hard_swish.h, requantize.h} and the micro Prepare code.
"""

from __future__ import annotations

import numpy as np

from tinyc import quant
from tinyc.ir import QParams

F32 = np.float32


def _srdhm16(a: int, b: int) -> int:
    if a == b == -32768:
        return 32767
    ab = a * b + ((1 << 14) if a * b >= 0 else 1 - (1 << 14))
    return ab >> 15 if ab >= 0 else -((-ab) >> 15)


def _sat16(x: int) -> int:
    return max(-32768, min(32767, x))


def _rdbpot(x: int, e: int) -> int:
    return int(quant.rounding_divide_by_pot(x, e))


def _leaky_relu(x: np.ndarray, qi: QParams, qo: QParams, alpha: float) -> np.ndarray:
    s_in, s_out = F32(qi.scale[0]), F32(qo.scale[0])
    ma, sa = quant.quantize_multiplier(float(s_in * F32(alpha) / s_out))
    mi, si = quant.quantize_multiplier(float(s_in / s_out))
    v = x.astype(np.int64) - int(qi.zero_point[0])
    y = np.where(v >= 0, quant.requantize(v, mi, si), quant.requantize(v, ma, sa)) + int(qo.zero_point[0])
    return quant.saturate(y)


def _down16(m: int) -> int:
    return 32767 if m >= 2**31 - 1 - (1 << 15) else (m + (1 << 15)) >> 16


def _hard_swish(x: np.ndarray, qi: QParams, qo: QParams) -> np.ndarray:
    hires = F32(1.0 / 128.0) * F32(qi.scale[0])
    m_out, e_out = quant.quantize_multiplier(float(hires / F32(qo.scale[0])))
    m_relu, e_relu = quant.quantize_multiplier(float(hires / F32(3.0 / 32768.0)))
    m_out, m_relu = _down16(m_out), _down16(m_relu)
    out = []
    for v in x.tolist():
        hi = (v - int(qi.zero_point[0])) * 128
        pre = _srdhm16(hi, m_out)
        r = hi
        if e_relu > 0:
            r = _sat16(r << (e_relu - 1))
        r = _srdhm16(r, m_relu)
        if e_relu > 0:
            r = _sat16(r << 1)
        if e_relu < 0:
            r = _rdbpot(r, -e_relu)
        r = (r + (1 << 15)) >> 1
        p = 32767 if r == pre == -32768 else int(np.trunc(r * pre / (1 << 15)))  # SaturatingDoublingHighMul
        out.append(_rdbpot(p, -e_out) + int(qo.zero_point[0]))
    return quant.saturate(np.array(out))


def _requantize(x: np.ndarray, qi: QParams, qo: QParams) -> np.ndarray:
    """TFLM's QUANTIZE of int8 to int8 (reference Requantize)."""
    m, s = quant.quantize_multiplier(float(qi.scale[0]) / float(qo.scale[0]))
    return quant.saturate(quant.requantize(x.astype(np.int64) - int(qi.zero_point[0]), m, s) + int(qo.zero_point[0]))


def table(fn: str, attrs: dict, qi: QParams, qo: QParams) -> np.ndarray | None:
    """TFLM's int8 outputs for inputs -128..127, or None where the rounded float function is TFLM's."""
    x = np.arange(-128, 128)
    if fn == "leaky_relu":
        return _leaky_relu(x, qi, qo, attrs.get("alpha", 0.01))
    if fn == "hard_swish":
        return _hard_swish(x, qi, qo)
    if fn == "clip" and attrs.get("min") is None and attrs.get("max") is None:  # the identity: QUANTIZE
        return _requantize(x, qi, qo)
    return None
