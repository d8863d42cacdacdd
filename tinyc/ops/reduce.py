"""Reductions over a set of axes (sum, mean, max, min, L2 norm, sum of squares) and the
cumulative sum along one axis. int8 (every reduction, and the cumulative sum): TFLite's integer
mean and sum (tensorflow/lite/kernels/internal/reference/reduce.h QuantizedMeanOrSum: an int32 sum of
x - zero point, one requantization with 1/count folded into the multiplier for the mean); max and min
exact (y keeps x's parameters, as TFLite's REDUCE_MAX); the sum of squares in int32; L2 as the integer
square root (quant.inv_sqrt) of the int64 sum of squares in Q8, then one requantization; the
cumulative sum as an int32 running sum of x - zero point, each output requantized once (TFLite's
CUMSUM has no int8 form: this is the mean/sum rule along a running window).

The reference sums in float64 and rounds once; the C (runtime_c/tinyc_reduce.c) sums in float in
x's row-major order: the two differ by float32 rounding only.
"""

from __future__ import annotations

import numpy as np

from tinyc import quant
from tinyc.errors import UnsupportedOp
from tinyc.ir import Node
from tinyc.ops import KernelCall, Op, register
from tinyc.ops.common import scale_zp, split_loops

REDUCE_KINDS = {"sum": 0, "mean": 1, "max": 2, "min": 3, "l2": 4, "sum_square": 5}  # TINYC_REDUCE_*
L2_FRACTION_BITS = 8  # int8 ReduceL2 takes the square root in Q8 (TINYC_REDUCE_L2_FRACTION_BITS)


def _reduce(kind: str, x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    x64 = np.asarray(x, np.float64)
    if kind == "max":
        return np.max(x64, axis=axes, keepdims=True)
    if kind == "min":
        return np.min(x64, axis=axes, keepdims=True)
    if kind in ("l2", "sum_square"):
        total = np.sum(x64 * x64, axis=axes, keepdims=True)
        return np.sqrt(total) if kind == "l2" else total
    total = np.sum(x64, axis=axes, keepdims=True)
    return total / max(int(np.prod([x.shape[a] for a in axes])), 1) if kind == "mean" else total


def _sum_f32(x: np.ndarray, axes: tuple[int, ...], kind: str) -> np.ndarray:
    """Sum or mean as the C computes it: float32, one element at a time in row-major order of the reduced
    axes, the mean divided by the count in float32; so a float32 mean feeding an int8 quantize rounds as
    the C does (a QDQ file's float ReduceMean)."""
    kept = [a for a in range(x.ndim) if a not in axes]
    rows = np.transpose(np.asarray(x, np.float32), kept + list(axes)).reshape(*[x.shape[a] for a in kept], -1)
    acc = np.zeros(rows.shape[:-1], np.float32)
    for r in range(rows.shape[-1]):
        acc = (acc + rows[..., r]).astype(np.float32)
    if kind == "mean":
        acc = (acc / np.float32(max(rows.shape[-1], 1))).astype(np.float32)
    return acc


@register
class Reduce(Op):
    """y = attrs["kind"] of x over attrs["axes"] (sorted, non-negative); keepdims keeps them as 1."""

    name = "reduce"

    def infer_shape(self, node, in_shapes):
        axes, shape = node.attrs["axes"], in_shapes[0]
        assert all(0 <= a < len(shape) for a in axes), f"node {node.name!r}: axes {axes} of {shape}"
        if node.attrs["keepdims"]:
            return [tuple(1 if k in axes else d for k, d in enumerate(shape))]
        return [tuple(d for k, d in enumerate(shape) if k not in axes)]

    def ref_float(self, node, xs):
        kind, axes = node.attrs["kind"], tuple(node.attrs["axes"])
        y = _sum_f32(xs[0], axes, kind) if kind in ("sum", "mean") else _reduce(kind, xs[0], axes)
        return [y.reshape(self.infer_shape(node, [xs[0].shape])[0]).astype(np.float32)]

    def output_qparams(self, node, g, calibrated):
        if node.attrs["kind"] in ("max", "min"):  # TFLite's REDUCE_MAX/MIN keep x's parameters: exact
            return [g.tensors[node.outputs[0]].q or g.tensors[node.inputs[0]].q]
        return calibrated

    def quantize(self, node, g):
        kind, where = node.attrs["kind"], f"node {node.name!r} (reduce {node.attrs['kind']})"
        (s_in, zp_in), (s_out, zp_out) = scale_zp(g, node.inputs[0]), scale_zp(g, node.outputs[0])
        s_in, s_out = float(np.float32(s_in)), float(np.float32(s_out))  # TFLite's float32 scales
        shape = g.tensors[node.inputs[0]].shape
        count = int(np.prod([shape[a] for a in node.attrs["axes"]]))
        limit = {"sum_square": 2**31 // 255**2, "l2": 1 << 22}.get(kind, 2**31 // 255)
        if not 1 <= count <= limit:
            raise UnsupportedOp(f"{where}: int8 over {count} elements unsupported; at most {limit} (an int32 sum)")
        ratio = {"sum_square": s_in * s_in / s_out, "l2": s_in / s_out / 2**L2_FRACTION_BITS}.get(kind, s_in / s_out)
        m, s = quant.quantize_multiplier(ratio)
        if kind == "mean":  # TFLM: (m << n) / count, shift - n, as QuantizedMeanOrSum
            n = min(count.bit_length() - 1, 32, 31 + s)
            m, s = (m << n) // count, s - n
        pre_shift = 0
        if node.attrs.get("rule") != "tflm" and kind in ("sum", "mean", "max", "min"):
            # acc << pre_shift (|acc| <= 255 count stays below 2^30): the doubling high multiply then keeps
            # pre_shift more fractional bits, so the result is rounded once (TFLM's rounds twice when the
            # shift is right: up to a step in a quarter of the outputs of a mean of 7)
            bound = 255 * (1 if kind in ("max", "min") else count)
            pre_shift = max(0, min(30 - bound.bit_length(), 31 + s))
            s -= pre_shift
        int8 = {"kind": REDUCE_KINDS[kind], "input_zp": zp_in, "count": count, "multiplier": m, "shift": s,
                "pre_shift": pre_shift, "output_zp": zp_out}
        return Node(node.name, node.op, list(node.inputs), list(node.outputs), {**node.attrs, "int8": int8})

    def ref_int8(self, node, xs):
        p, axes = node.attrs["int8"], tuple(node.attrs["axes"])
        kind = {v: k for k, v in REDUCE_KINDS.items()}[p["kind"]]
        d = xs[0].astype(np.int64) - p["input_zp"]
        if kind in ("max", "min"):
            acc = (np.max if kind == "max" else np.min)(d, axis=axes, keepdims=True)
        elif kind in ("sum_square", "l2"):
            acc = np.sum(d * d, axis=axes, keepdims=True)
            if kind == "l2":
                acc = _sqrt_q(acc)
        else:
            acc = np.sum(d, axis=axes, keepdims=True)
        y = quant.requantize(acc << p["pre_shift"], p["multiplier"], p["shift"]) + p["output_zp"]
        return [quant.saturate(y).reshape(self.infer_shape(node, [xs[0].shape])[0])]

    def kernel(self, node, g):
        shape, axes = g.tensors[node.inputs[0]].shape, tuple(node.attrs["axes"])
        kept, reduced = split_loops(f"node {node.name!r} (reduce)", shape, axes)
        if g.tensors[node.outputs[0]].dtype == "int8":
            params = {**node.attrs["int8"], "kept": kept, "reduced": reduced}
            return KernelCall("tinyc_reduce_s8", "tinyc_reduce", "tinyc_reduce_s8_params", params,
                              [node.inputs[0], node.outputs[0]])
        params = {"kind": REDUCE_KINDS[node.attrs["kind"]], "count": int(np.prod([shape[a] for a in axes])),
                  "kept": kept, "reduced": reduced}
        return KernelCall("tinyc_reduce_f32", "tinyc_reduce", "tinyc_reduce_f32_params", params,
                          [node.inputs[0], node.outputs[0]])


def _sqrt_q(total: np.ndarray) -> np.ndarray:
    """sqrt(total) in Q8 for int64 sums of squares (0 stays 0): m r 2^(k - 44) rounded, from quant.inv_sqrt."""
    r, k = quant.inv_sqrt(np.maximum(total, 1))
    m = np.where(k >= 0, total >> np.maximum(2 * k, 0), total << np.maximum(-2 * k, 0))
    return np.where(total > 0, quant.rounding_divide_by_pot(m * r, 44 - L2_FRACTION_BITS - k), 0)


@register
class CumSum(Op):
    """y = running sum of x along attrs["axis"] (non-negative); exclusive leaves out the element
    itself, reverse sums from the end."""

    name = "cumsum"

    def infer_shape(self, node, in_shapes):
        assert 0 <= node.attrs["axis"] < len(in_shapes[0]), f"node {node.name!r}: axis of {in_shapes[0]}"
        return [tuple(in_shapes[0])]

    def ref_float(self, node, xs):
        axis = node.attrs["axis"]
        x = np.asarray(xs[0], np.float64)
        if node.attrs["reverse"]:
            x = np.flip(x, axis)
        y = np.cumsum(x, axis=axis)
        if node.attrs["exclusive"]:
            y = y - x
        if node.attrs["reverse"]:
            y = np.flip(y, axis)
        return [y.astype(np.float32)]

    def quantize(self, node, g):
        (s_in, zp_in), (s_out, zp_out) = scale_zp(g, node.inputs[0]), scale_zp(g, node.outputs[0])
        count = g.tensors[node.inputs[0]].shape[node.attrs["axis"]]
        if count > 2**31 // 255:
            raise UnsupportedOp(f"node {node.name!r} (cumsum): int8 along {count} elements unsupported; "
                                f"at most {2**31 // 255} (an int32 sum)")
        m, s = quant.quantize_multiplier(float(np.float32(s_in)) / float(np.float32(s_out)))
        int8 = {"input_zp": zp_in, "multiplier": m, "shift": s, "output_zp": zp_out}
        return Node(node.name, node.op, list(node.inputs), list(node.outputs), {**node.attrs, "int8": int8})

    def ref_int8(self, node, xs):
        axis, p = node.attrs["axis"], node.attrs["int8"]
        d = xs[0].astype(np.int64) - p["input_zp"]
        if node.attrs["reverse"]:
            d = np.flip(d, axis)
        acc = np.cumsum(d, axis=axis) - (d if node.attrs["exclusive"] else 0)
        if node.attrs["reverse"]:
            acc = np.flip(acc, axis)
        return [quant.saturate(quant.requantize(acc, p["multiplier"], p["shift"]) + p["output_zp"])]

    def kernel(self, node, g):
        shape, axis = g.tensors[node.inputs[0]].shape, node.attrs["axis"]
        params = {"outer": int(np.prod(shape[:axis])), "axis_size": shape[axis],
                  "inner": int(np.prod(shape[axis + 1:])), "exclusive": int(bool(node.attrs["exclusive"])),
                  "reverse": int(bool(node.attrs["reverse"]))}
        if g.tensors[node.outputs[0]].dtype == "int8":
            return KernelCall("tinyc_cumsum_s8", "tinyc_reduce", "tinyc_cumsum_s8_params",
                              {**params, **node.attrs["int8"]}, [node.inputs[0], node.outputs[0]])
        return KernelCall("tinyc_cumsum_f32", "tinyc_reduce",
                          "tinyc_cumsum_f32_params", params, [node.inputs[0], node.outputs[0]])

    def in_place_inputs(self, node, g):
        return (0,)  # element k is read before it is written, and only later elements after
