"""Elementwise functions of one activation: "unary" (relu, clip, sigmoid, exp, erf, gelu, ...) and "prelu".

int8 unary is a 256-entry lookup table built here from the float function computed in float64
(exact by construction); int8 prelu follows TFLite's reference prelu. C: runtime_c/tinyc_elementwise.c.
"""

from __future__ import annotations

import math

import numpy as np

from tinyc import quant
from tinyc.errors import UnsupportedOp
from tinyc.ir import Graph, Node, QParams
from tinyc.ops import KernelCall, Op, register
from tinyc.ops.binary import broadcast_loops
from tinyc.ops.common import FLT_MAX, act_clamp_f32, out_dtype, scale_zp

# C enum tinyc_unary_fn in tinyc_elementwise.h, same order (append only: the index is the C value).
FUNCTIONS = ("relu", "clip", "leaky_relu", "sigmoid", "tanh", "hard_sigmoid", "hard_swish",
             "abs", "neg", "ceil", "floor", "round", "sign", "exp", "log", "sqrt", "reciprocal", "sin", "cos",
             "erf", "gelu", "gelu_tanh", "softplus", "softsign", "mish", "swish", "elu", "selu", "celu",
             "thresholded_relu", "shrink")
# Computed by tinyc_unary_f32; the rest by tinyc_unary_math_f32, which links more of libm.
PLAIN_C = FUNCTIONS[:7] + ("abs", "neg", "sign", "reciprocal", "softsign", "thresholded_relu", "shrink")
# ONNX attributes (and defaults) of each function, in the order of the C params alpha, beta
# (clip has min, max instead).
DEFAULTS = {"leaky_relu": {"alpha": 0.01}, "hard_sigmoid": {"alpha": 0.2, "beta": 0.5},
            "hard_swish": {"alpha": 1.0 / 6.0, "beta": 0.5}, "clip": {"min": None, "max": None},
            "swish": {"alpha": 1.0}, "elu": {"alpha": 1.0}, "celu": {"alpha": 1.0}, "thresholded_relu": {"alpha": 1.0},
            "selu": {"alpha": 1.67326319217681884765625, "gamma": 1.05070102214813232421875},
            "shrink": {"lambd": 0.5, "bias": 0.0}}
# Outputs with a known range get TFLite's fixed parameters instead of calibrated ones.
FIXED_Q = {"sigmoid": (1.0 / 256.0, -128), "hard_sigmoid": (1.0 / 256.0, -128), "tanh": (1.0 / 128.0, 0)}

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _attr(node: Node, key: str):
    value = node.attrs.get(key)
    return DEFAULTS[node.attrs["fn"]][key] if value is None else value


def _slot(node: Node, k: int, absent: float) -> float:
    """C param alpha (k = 0) or beta (k = 1): the function's k-th attribute, `absent` if it has none."""
    names = list(DEFAULTS.get(node.attrs["fn"], {}))
    if node.attrs["fn"] == "clip" or k >= len(names):
        return absent
    return float(_attr(node, names[k]))


def _clip_bound(node: Node, key: str, absent: float) -> float:
    if node.attrs["fn"] != "clip" or _attr(node, key) is None:
        return absent
    return float(_attr(node, key))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))  # <= 1: no overflow, no cancellation
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# Functions computed in float64 and rounded once (a float32 result is then correctly rounded but
# for double rounding; the int8 table is exact). x is float64 here.
_F64 = {
    "abs": np.abs, "neg": np.negative, "ceil": np.ceil, "floor": np.floor,
    "round": np.round,  # half to even, as ONNX Round
    "sign": np.sign, "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "reciprocal": lambda x: 1.0 / x,
    "sin": np.sin, "cos": np.cos, "erf": _erf, "tanh": np.tanh, "sigmoid": _sigmoid,
    "gelu": lambda x: 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0))),
    "gelu_tanh": lambda x: 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3))),
    "softplus": lambda x: np.logaddexp(0.0, x),
    "softsign": lambda x: x / (1.0 + np.abs(x)),
    "mish": lambda x: x * np.tanh(np.logaddexp(0.0, x)),
}


def apply_fn(node: Node, x: np.ndarray) -> np.ndarray:
    """The float function of a unary node, in x's precision (float32 or float64).
    NaN and inf follow numpy (log(0) = -inf, sqrt(-1) = NaN, ...)."""
    fn, dt = node.attrs["fn"], x.dtype.type
    if "input_scale" in node.attrs:  # a folded Mul or Div by a constant (passes/simplify.py)
        x = x * dt(node.attrs["input_scale"])
    with np.errstate(all="ignore"):
        if fn in _F64:
            return _F64[fn](x.astype(np.float64)).astype(dt)
        if fn == "relu":
            return np.maximum(x, dt(0))
        if fn == "clip":  # np.clip applies max last: min > max gives max everywhere (ONNX)
            lo, hi = _attr(node, "min"), _attr(node, "max")
            return np.clip(x, None if lo is None else dt(lo), None if hi is None else dt(hi))
        if fn == "leaky_relu":
            return np.where(x >= 0, x, dt(_attr(node, "alpha")) * x)
        if fn in ("hard_sigmoid", "hard_swish"):
            gate = np.clip(dt(_attr(node, "alpha")) * x + dt(_attr(node, "beta")), dt(0), dt(1))
            return gate if fn == "hard_sigmoid" else x * gate
        v, a = x.astype(np.float64), float(_slot(node, 0, 0.0))
        if fn == "swish":
            y = v * _sigmoid(a * v)
        elif fn == "elu":
            y = np.where(v >= 0, v, a * np.expm1(v))
        elif fn == "selu":
            y = _slot(node, 1, 0.0) * np.where(v > 0, v, a * np.expm1(v))
        elif fn == "celu":
            y = np.maximum(v, 0.0) + np.minimum(0.0, a * np.expm1(v / a))
        elif fn == "thresholded_relu":
            y = np.where(v > a, v, 0.0)
        else:
            assert fn == "shrink", fn
            bias = _slot(node, 1, 0.0)
            y = np.where(v < -a, v + bias, np.where(v > a, v - bias, 0.0))
        return y.astype(dt)


@register
class Unary(Op):
    """y = fn(x) elementwise; attrs fn in FUNCTIONS, plus the function's ONNX attributes (DEFAULTS)."""

    name = "unary"

    def infer_shape(self, node, in_shapes):
        if node.attrs.get("fn") not in FUNCTIONS:
            raise UnsupportedOp(f"node {node.name!r} (unary): fn {node.attrs.get('fn')!r}; allowed: {FUNCTIONS}")
        return [tuple(in_shapes[0])]

    def ref_float(self, node, xs):
        return [apply_fn(node, np.asarray(xs[0], np.float32)).astype(np.float32)]

    def output_qparams(self, node, g, calibrated):
        fixed = FIXED_Q.get(node.attrs["fn"])
        if g.tensors[node.outputs[0]].q is not None:  # the model's own (QDQ, QLinearSigmoid): a table fits any
            return [g.tensors[node.outputs[0]].q]
        return [QParams.per_tensor(*fixed)] if fixed else calibrated

    def quantize(self, node, g):
        qi, qo = g.tensors[node.inputs[0]].q, g.tensors[node.outputs[0]].q
        x = quant.dequantize_array(np.arange(-128, 128), qi).astype(np.float64)
        # +-inf saturates; NaN (log or sqrt of a negative input) has no int8 value: 0.0 stands for it.
        y = np.nan_to_num(apply_fn(node, x), nan=0.0, posinf=FLT_MAX, neginf=-FLT_MAX)
        table = quant.quantize_array(y, qo)  # round half away, saturate
        if node.attrs.get("rule") == "tflm":  # a .tflite model: TFLM's integer algorithm where it differs
            from tinyc.ops import tflm_unary
            exact = tflm_unary.table(node.attrs["fn"], node.attrs, qi, qo)
            table = table if exact is None else exact
        return Node(node.name, node.op, list(node.inputs), list(node.outputs),
                    {**node.attrs, "int8": {"table": table}})

    def ref_int8(self, node, xs):
        return [node.attrs["int8"]["table"][xs[0].astype(np.int32) + 128]]

    def in_place_inputs(self, node, g):
        return _same_bytes(node, g)

    def kernel(self, node, g):
        size = g.tensors[node.outputs[0]].size
        args = [node.inputs[0], node.outputs[0]]
        if out_dtype(node, g) == "int8":
            return KernelCall("tinyc_lut_s8", "tinyc_elementwise", "tinyc_lut_s8_params",
                              {"size": size, "table": node.attrs["int8"]["table"]}, args)
        assert "input_scale" not in node.attrs, f"node {node.name!r}: a folded scaling only has an int8 table"
        params = {"size": size, "fn": FUNCTIONS.index(node.attrs["fn"]),
                  "alpha": _slot(node, 0, 0.0), "beta": _slot(node, 1, 0.0),
                  "min": _clip_bound(node, "min", -FLT_MAX), "max": _clip_bound(node, "max", FLT_MAX)}
        kernel = "tinyc_unary_f32" if node.attrs["fn"] in PLAIN_C else "tinyc_unary_math_f32"
        return KernelCall(kernel, "tinyc_elementwise", "tinyc_unary_f32_params", params, args)


def _same_bytes(node: Node, g: Graph) -> tuple[int, ...]:
    """(0,) when y = f(x) element by element may overwrite x: same shape and dtype, x read at i
    before y[i] is written (tinyc_lut_s8, tinyc_unary_f32, tinyc_prelu_*)."""
    x, y = g.tensors[node.inputs[0]], g.tensors[node.outputs[0]]
    return (0,) if x.shape == y.shape and x.dtype == y.dtype and not x.is_const else ()


def slope_axis(node: Node, x_shape: tuple, slope_shape: tuple) -> tuple[int, int, int]:
    """(outer, channels, inner) element counts around the one axis along which the slope varies
    (the int8 kernel's form)."""
    r = len(x_shape)
    s = (1,) * (r - len(slope_shape)) + tuple(slope_shape)
    if len(s) != r or any(d not in (1, x) for d, x in zip(s, x_shape)):
        raise UnsupportedOp(f"node {node.name!r} (prelu): slope {list(slope_shape)} does not broadcast to "
                            f"{list(x_shape)}")
    varying = [k for k in range(r) if s[k] > 1]
    if len(varying) > 1:
        raise UnsupportedOp(f"node {node.name!r} (prelu): int8 slope {slope_shape} varies along several axes "
                            f"of {x_shape}; int8 allows one axis (per channel) or a scalar")
    if not varying:
        return 1, 1, int(np.prod(x_shape))
    k = varying[0]
    return int(np.prod(x_shape[:k])), x_shape[k], int(np.prod(x_shape[k + 1:]))


@register
class PRelu(Op):
    """y = x if x >= 0 else slope * x; inputs [X, slope], slope unidirectionally broadcastable to X
    (numpy rules, ranks aligned from the right). int8 needs a constant per-channel or scalar slope."""

    name = "prelu"

    def infer_shape(self, node, in_shapes):
        x, s = tuple(in_shapes[0]), tuple(in_shapes[1])
        where = f"node {node.name!r} (prelu)"
        try:
            out = tuple(np.broadcast_shapes(x, s))
        except ValueError:
            out = None
        if out != x:
            raise UnsupportedOp(f"{where}: slope {list(s)} does not broadcast to X {list(x)} "
                                "(numpy rules, aligned from the last axis)")
        broadcast_loops(x, s, x, where=where)  # fails early past 4 loops
        return [x]

    def ref_float(self, node, xs):
        x, slope = np.asarray(xs[0], np.float32), np.asarray(xs[1], np.float32)
        return [np.where(x >= 0, x, slope * x).astype(np.float32)]

    def quantize(self, node, g):
        x, slope = (g.tensors[n] for n in node.inputs)
        if slope.data is None:
            raise UnsupportedOp(f"node {node.name!r} (prelu): slope must be a constant for int8")
        outer, channels, inner = slope_axis(node, x.shape, slope.shape)
        (si, zi), (so, zo) = scale_zp(g, node.inputs[0]), scale_zp(g, node.outputs[0])
        pm, ps = quant.quantize_multiplier(si / so)
        # TFLite's prelu: x - zi >= 0 uses s_in/s_out, else slope_c * s_in/s_out per channel.
        # A negative slope's sign rides on the multiplier (requantize is exact for either sign).
        real = np.ravel(slope.data).astype(np.float64) * si / so
        nm, ns = quant.quantize_multipliers(np.abs(real))
        nm = np.where(real < 0, -nm, nm).astype(np.int32)
        params = {"outer": outer, "channels": channels, "inner": inner, "input_zp": zi,
                  "positive_multiplier": pm, "positive_shift": ps,
                  "negative_multiplier": nm, "negative_shift": ns, "output_zp": zo}
        # The slope is folded into the multipliers: the int8 node reads X only.
        return Node(node.name, node.op, [node.inputs[0]], list(node.outputs), {**node.attrs, "int8": params})

    def in_place_inputs(self, node, g):
        # The f32 kernel also reads the slope: only a constant one may stay beside x's bytes.
        slope = node.inputs[1] if len(node.inputs) > 1 else ""
        return _same_bytes(node, g) if not slope or g.tensors[slope].is_const else ()

    def ref_int8(self, node, xs):
        p = node.attrs["int8"]
        x = xs[0].astype(np.int64).reshape(p["outer"], p["channels"], p["inner"]) - p["input_zp"]
        pos = quant.requantize(x, p["positive_multiplier"], p["positive_shift"])
        neg = quant.requantize(x, p["negative_multiplier"][:, None], p["negative_shift"][:, None])
        y = np.where(x >= 0, pos, neg) + p["output_zp"]
        return [quant.saturate(y).reshape(xs[0].shape)]

    def kernel(self, node, g):
        if out_dtype(node, g) == "int8":
            return KernelCall("tinyc_prelu_s8", "tinyc_elementwise", "tinyc_prelu_s8_params",
                              dict(node.attrs["int8"]), [node.inputs[0], node.outputs[0]])
        x, slope = (g.tensors[n] for n in node.inputs)
        params = {**broadcast_loops(x.shape, slope.shape, x.shape), "clamp": act_clamp_f32(node)}
        return KernelCall("tinyc_prelu_f32", "tinyc_elementwise", "tinyc_binary_f32_params", params,
                          [node.inputs[0], node.inputs[1], node.outputs[0]])
