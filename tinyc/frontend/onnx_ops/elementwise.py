"""Elementwise lowerings: binary arithmetic, functions of one input, Clip, PRelu, Softmax, LogSoftmax.

Each lowering is named after its ONNX op: `b` is the Importer (tinyc/frontend/onnx_import.py), `n` the
ONNX node, positional arguments the node's input names ("" when absent), attributes keyword
arguments with ONNX's defaults. What tinyc does not implement raises UnsupportedOp through b.fail.
"""

from __future__ import annotations

import numpy as np


def _binary(op):
    def lower(b, n, A, B):
        b.emit(op, [A, B], [n.output[0]], {"act": None})
    lower.__name__ = op.capitalize()
    return lower


def _unary(fn, **defaults):
    def lower(b, n, X, **attrs):
        unknown = set(attrs) - set(defaults)
        if unknown:
            raise b.fail(f"attribute {sorted(unknown)[0]!r} is not supported")
        b.emit("unary", [X], [n.output[0]], {"fn": fn, **defaults, **attrs})
    return lower


def Clip(b, n, X, lo="", hi="", *, min=None, max=None):  # noqa: A002 - ONNX names
    if lo or hi:  # opset >= 11: bounds are inputs
        lo_v, hi_v = b.const(lo), b.const(hi)
        if (lo and lo_v is None) or (hi and hi_v is None):
            raise b.fail("only constant min and max are supported")
        min = float(lo_v) if lo else None
        max = float(hi_v) if hi else None
    b.emit("unary", [X], [n.output[0]], {"fn": "clip", "min": min, "max": max})


def PRelu(b, n, X, slope):
    if b.const(slope) is None:
        raise b.fail("slope must be constant")
    b.emit("prelu", [X, slope], [n.output[0]])


def _along_axis(b, n, X, op, axis):
    """Softmax or LogSoftmax: opset < 13 normalises over all axes from `axis` on (default 1), as a 2-D
    op between two views; opset >= 13 over `axis` alone (default -1)."""
    shape = b.shape(X)
    rank = len(shape)
    if axis is None:
        axis = -1 if b.opset >= 13 else 1
    if not -rank <= axis < rank:
        raise b.fail(f"axis {axis} out of range for rank {rank}")
    axis = axis % rank
    if b.opset >= 13 or axis == rank - 1:
        b.emit(op, [X], [n.output[0]], {"axis": axis})
        return
    flat = (int(np.prod(shape[:axis])), int(np.prod(shape[axis:])))
    t1, t2 = b.fresh(n.output[0] + "_2d"), b.fresh(n.output[0] + "_" + op)
    b.emit("reshape", [X], [t1], {"shape": flat})
    b.emit(op, [t1], [t2], {"axis": 1})
    b.emit("reshape", [t2], [n.output[0]], {"shape": shape})


def Softmax(b, n, X, *, axis=None):
    _along_axis(b, n, X, "softmax", axis)


def LogSoftmax(b, n, X, *, axis=None):
    _along_axis(b, n, X, "log_softmax", axis)


LOWERINGS = {
    "Add": _binary("add"), "Sub": _binary("sub"), "Mul": _binary("mul"),
    "Relu": _unary("relu"), "Sigmoid": _unary("sigmoid"), "Tanh": _unary("tanh"),
    "LeakyRelu": _unary("leaky_relu", alpha=0.01), "HardSigmoid": _unary("hard_sigmoid", alpha=0.2, beta=0.5),
    "HardSwish": _unary("hard_swish"), "Clip": Clip, "PRelu": PRelu, "Softmax": Softmax,
    "LogSoftmax": LogSoftmax,
}
