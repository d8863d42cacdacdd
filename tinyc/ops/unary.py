"""Elementwise functions of one activation: "unary" (relu, clip, sigmoid, ...) and "prelu".

int8 unary is a 256-entry lookup table built here from the float function (exact by
construction); int8 prelu follows TFLite's reference prelu. C: runtime_c/tinyc_elementwise.c.
"""

from __future__ import annotations

import numpy as np

from tinyc import quant
from tinyc.errors import UnsupportedOp
from tinyc.ir import Graph, Node, QParams
from tinyc.ops import KernelCall, Op, register
from tinyc.ops.common import FLT_MAX, out_dtype, scale_zp

# C enum tinyc_unary_fn in tinyc_elementwise.h, same order.
FUNCTIONS = ("relu", "clip", "leaky_relu", "sigmoid", "tanh", "hard_sigmoid", "hard_swish")
# ONNX defaults of the attributes each function reads.
DEFAULTS = {"leaky_relu": {"alpha": 0.01}, "hard_sigmoid": {"alpha": 0.2, "beta": 0.5},
            "hard_swish": {"alpha": 1.0 / 6.0, "beta": 0.5}, "clip": {"min": None, "max": None}}
# Outputs with a known range get TFLite's fixed parameters instead of calibrated ones.
FIXED_Q = {"sigmoid": (1.0 / 256.0, -128), "hard_sigmoid": (1.0 / 256.0, -128), "tanh": (1.0 / 128.0, 0)}


def _attr(node: Node, key: str):
    value = node.attrs.get(key)
    return DEFAULTS[node.attrs["fn"]][key] if value is None else value


def _float_attr(node: Node, key: str, absent: float) -> float:
    """A C param: the attribute if fn reads it and it is set, else `absent`."""
    if key not in DEFAULTS.get(node.attrs["fn"], {}) or _attr(node, key) is None:
        return absent
    return float(_attr(node, key))


def apply_fn(node: Node, x: np.ndarray) -> np.ndarray:
    """The float function of a unary node, in x's precision (float32 or float64)."""
    fn, dt = node.attrs["fn"], x.dtype.type
    if fn == "relu":
        return np.maximum(x, dt(0))
    if fn == "clip":
        lo, hi = _attr(node, "min"), _attr(node, "max")
        return np.clip(x, None if lo is None else dt(lo), None if hi is None else dt(hi))
    if fn == "leaky_relu":
        return np.where(x >= 0, x, dt(_attr(node, "alpha")) * x)
    if fn == "tanh":  # through float64, so a float32 result is correctly rounded
        return np.tanh(x.astype(np.float64)).astype(dt)
    if fn == "sigmoid":
        e = np.exp(-np.abs(x.astype(np.float64)))  # <= 1: no overflow, no cancellation
        return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(dt)
    gate = np.clip(dt(_attr(node, "alpha")) * x + dt(_attr(node, "beta")), dt(0), dt(1))
    return gate if fn == "hard_sigmoid" else x * gate


@register
class Unary(Op):
    """y = fn(x) elementwise; attrs fn in FUNCTIONS, plus alpha, beta, min, max as ONNX has them."""

    name = "unary"

    def infer_shape(self, node, in_shapes):
        if node.attrs.get("fn") not in FUNCTIONS:
            raise UnsupportedOp(f"node {node.name!r} (unary): fn {node.attrs.get('fn')!r}; allowed: {FUNCTIONS}")
        return [tuple(in_shapes[0])]

    def ref_float(self, node, xs):
        return [apply_fn(node, np.asarray(xs[0], np.float32)).astype(np.float32)]

    def output_qparams(self, node, g, calibrated):
        fixed = FIXED_Q.get(node.attrs["fn"])
        return [QParams.per_tensor(*fixed)] if fixed else calibrated

    def quantize(self, node, g):
        qi, qo = g.tensors[node.inputs[0]].q, g.tensors[node.outputs[0]].q
        x = quant.dequantize_array(np.arange(-128, 128), qi).astype(np.float64)
        table = quant.quantize_array(apply_fn(node, x), qo)  # round half away, saturate
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
        params = {"size": size, "fn": FUNCTIONS.index(node.attrs["fn"]),
                  "alpha": _float_attr(node, "alpha", 0.0), "beta": _float_attr(node, "beta", 0.0),
                  "min": _float_attr(node, "min", -FLT_MAX), "max": _float_attr(node, "max", FLT_MAX)}
        return KernelCall("tinyc_unary_f32", "tinyc_elementwise", "tinyc_unary_f32_params", params, args)


def _same_bytes(node: Node, g: Graph) -> tuple[int, ...]:
    """(0,) when y = f(x) element by element may overwrite x: same shape and dtype, x read at i
    before y[i] is written (tinyc_lut_s8, tinyc_unary_f32, tinyc_prelu_*)."""
    x, y = g.tensors[node.inputs[0]], g.tensors[node.outputs[0]]
    return (0,) if x.shape == y.shape and x.dtype == y.dtype and not x.is_const else ()


def slope_axis(node: Node, x_shape: tuple, slope_shape: tuple) -> tuple[int, int, int]:
    """(outer, channels, inner) element counts around the one axis along which the slope varies."""
    r = len(x_shape)
    s = (1,) * (r - len(slope_shape)) + tuple(slope_shape)
    if len(s) != r or any(d not in (1, x) for d, x in zip(s, x_shape)):
        raise UnsupportedOp(f"node {node.name!r} (prelu): slope {list(slope_shape)} does not broadcast to "
                            f"{list(x_shape)}")
    varying = [k for k in range(r) if s[k] > 1]
    if len(varying) > 1:
        raise UnsupportedOp(f"node {node.name!r} (prelu): slope {slope_shape} varies along several axes "
                            f"of {x_shape}; only one axis (per channel) or a scalar")
    if not varying:
        return 1, 1, int(np.prod(x_shape))
    k = varying[0]
    return int(np.prod(x_shape[:k])), x_shape[k], int(np.prod(x_shape[k + 1:]))


@register
class PRelu(Op):
    """y = x if x >= 0 else slope * x; inputs [X, slope], slope a constant broadcastable to X."""

    name = "prelu"

    def infer_shape(self, node, in_shapes):
        slope_axis(node, in_shapes[0], in_shapes[1])
        return [tuple(in_shapes[0])]

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
        x = g.tensors[node.inputs[0]]
        if out_dtype(node, g) == "int8":
            return KernelCall("tinyc_prelu_s8", "tinyc_elementwise", "tinyc_prelu_s8_params",
                              dict(node.attrs["int8"]), [node.inputs[0], node.outputs[0]])
        outer, channels, inner = slope_axis(node, x.shape, g.tensors[node.inputs[1]].shape)
        return KernelCall("tinyc_prelu_f32", "tinyc_elementwise", "tinyc_prelu_f32_params",
                          {"outer": outer, "channels": channels, "inner": inner},
                          [node.inputs[0], node.inputs[1], node.outputs[0]])

