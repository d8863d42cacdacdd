"""Reductions over a set of axes (sum, mean, max, min, L2 norm, sum of squares) and the
cumulative sum along one axis. float32; int8 only for the mean of a .tflite model (attrs "rule": "tflm":
TFLM's integer mean, tensorflow/lite/kernels/internal/reference/reduce.h QuantizedMeanOrSum).

The reference sums in float64 and rounds once; the C (runtime_c/tinyc_reduce.c) sums in float in
x's row-major order: the two differ by float32 rounding only.
"""

from __future__ import annotations

import numpy as np

from tinyc import quant
from tinyc.ir import Node
from tinyc.ops import KernelCall, Op, register
from tinyc.ops.common import scale_zp, split_loops

REDUCE_KINDS = {"sum": 0, "mean": 1, "max": 2, "min": 3, "l2": 4, "sum_square": 5}  # TINYC_REDUCE_*


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
        y = _reduce(node.attrs["kind"], xs[0], tuple(node.attrs["axes"]))
        return [y.reshape(self.infer_shape(node, [xs[0].shape])[0]).astype(np.float32)]

    def quantize(self, node, g):
        if node.attrs.get("rule") != "tflm" or node.attrs["kind"] != "mean":
            return super().quantize(node, g)
        # TFLM: the multiplier of s_in / s_out absorbs 1 / count as (m << n) / count, shift - n.
        s_in, zp_in = scale_zp(g, node.inputs[0])
        s_out, zp_out = scale_zp(g, node.outputs[0])
        shape = g.tensors[node.inputs[0]].shape
        count = int(np.prod([shape[a] for a in node.attrs["axes"]]))
        m, s = quant.quantize_multiplier(float(np.float32(s_in)) / float(np.float32(s_out)))
        n = min(count.bit_length() - 1, 32, 31 + s)
        int8 = {"input_zp": zp_in, "count": count, "multiplier": (m << n) // count, "shift": s - n,
                "output_zp": zp_out}
        return Node(node.name, node.op, list(node.inputs), list(node.outputs), {**node.attrs, "int8": int8})

    def ref_int8(self, node, xs):
        p = node.attrs["int8"]
        total = np.sum(xs[0].astype(np.int64), axis=tuple(node.attrs["axes"]), keepdims=True)
        y = quant.requantize(total - p["input_zp"] * p["count"], p["multiplier"], p["shift"]) + p["output_zp"]
        return [quant.saturate(y).reshape(self.infer_shape(node, [xs[0].shape])[0])]

    def kernel(self, node, g):
        shape, axes = g.tensors[node.inputs[0]].shape, tuple(node.attrs["axes"])
        kept, reduced = split_loops(f"node {node.name!r} (reduce)", shape, axes)
        if g.tensors[node.outputs[0]].dtype == "int8":
            params = {**node.attrs["int8"], "kept": kept, "reduced": reduced}
            return KernelCall("tinyc_reduce_mean_s8", "tinyc_reduce", "tinyc_reduce_mean_s8_params", params,
                              [node.inputs[0], node.outputs[0]])
        params = {"kind": REDUCE_KINDS[node.attrs["kind"]], "count": int(np.prod([shape[a] for a in axes])),
                  "kept": kept, "reduced": reduced}
        return KernelCall("tinyc_reduce_f32", "tinyc_reduce", "tinyc_reduce_f32_params", params,
                          [node.inputs[0], node.outputs[0]])


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

    def kernel(self, node, g):
        shape, axis = g.tensors[node.inputs[0]].shape, node.attrs["axis"]
        params = {"outer": int(np.prod(shape[:axis])), "axis_size": shape[axis],
                  "inner": int(np.prod(shape[axis + 1:])), "exclusive": int(bool(node.attrs["exclusive"])),
                  "reverse": int(bool(node.attrs["reverse"]))}
        return KernelCall("tinyc_cumsum_f32", "tinyc_reduce",
                          "tinyc_cumsum_f32_params", params, [node.inputs[0], node.outputs[0]])

    def in_place_inputs(self, node, g):
        return (0,)  # element k is read before it is written, and only later elements after
