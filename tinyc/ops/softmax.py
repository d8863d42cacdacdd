"""Softmax along one axis (ONNX opset 13), and float32 log softmax. int8 softmax is integer only, with an
exp table built here.

C: runtime_c/tinyc_softmax.c.
"""

from __future__ import annotations

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
        x = np.asarray(xs[0], np.float64)
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
        table = quant.round_half_away(np.exp(-np.arange(256) * s_in) * (1 << EXP_BITS)).astype(np.uint32)
        return Node(node.name, node.op, list(node.inputs), list(node.outputs),
                    {**node.attrs, "int8": {"exp_table": table}})

    def ref_int8(self, node, xs):
        # Per row: d = max - x in [0, 255]; y = round(E[d] * 256 / sum E) - 128, with the
        # rounding done by integer division of non-negatives, as the C kernel does.
        axis, table = node.attrs["axis"], node.attrs["int8"]["exp_table"].astype(np.int64)
        x = xs[0].astype(np.int64)
        e = table[x.max(axis=axis, keepdims=True) - x]
        total = e.sum(axis=axis, keepdims=True)
        y = ((e << 8) + total // 2) // total - 128
        return [quant.saturate(y)]

    def kernel(self, node, g):
        outer, axis_size, inner = _loops(g.tensors[node.inputs[0]].shape, node.attrs["axis"])
        params = {"outer": outer, "axis_size": axis_size, "inner": inner}
        args = [node.inputs[0], node.outputs[0]]
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
