"""Reduction lowerings: ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceL2, ReduceSumSquare, CumSum.

Each lowering is named after its ONNX op: `b` is the Importer (tinyc/frontend/onnx_import.py), `n` the
ONNX node, positional arguments the node's input names ("" when absent), attributes keyword
arguments with ONNX's defaults. What tinyc does not implement raises UnsupportedOp through b.fail.
"""

from __future__ import annotations

import numpy as np


def _reduce(kind: str):
    # axes are an attribute before opset 13 (ReduceSum) or 18 (the others), an optional input after
    def lower(b, n, data, axes_in="", *, axes=None, keepdims=1, noop_with_empty_axes=0):
        rank = len(b.shape(data))
        if axes_in:
            axes = b.const(axes_in)
            if axes is None:
                raise b.fail("the axes input must be constant")
        axes = [int(a) for a in np.asarray(axes if axes is not None else [], np.int64).reshape(-1)]
        if not axes and noop_with_empty_axes:  # the input, unchanged
            b.emit("reshape", [data], [n.output[0]], {"shape": b.shape(data)})
            return
        if any(not -rank <= a < rank for a in axes):
            raise b.fail(f"axes {axes} out of range for rank {rank}")
        axes = sorted({a % rank for a in axes}) if axes else list(range(rank))
        b.emit("reduce", [data], [n.output[0]], {"kind": kind, "axes": tuple(axes), "keepdims": bool(keepdims)})
    lower.__name__ = "Reduce" + kind.title().replace("_", "")
    return lower


def CumSum(b, n, x, axis, *, exclusive=0, reverse=0):
    a, rank = b.const(axis), len(b.shape(x))
    if a is None:
        raise b.fail("the axis input must be constant")
    a = int(np.asarray(a).reshape(-1)[0])
    if not -rank <= a < rank:
        raise b.fail(f"axis {a} out of range for rank {rank}")
    b.emit("cumsum", [x], [n.output[0]], {"axis": a % rank, "exclusive": bool(exclusive), "reverse": bool(reverse)})


LOWERINGS = {
    "ReduceSum": _reduce("sum"), "ReduceMean": _reduce("mean"), "ReduceMax": _reduce("max"),
    "ReduceMin": _reduce("min"), "ReduceL2": _reduce("l2"), "ReduceSumSquare": _reduce("sum_square"),
    "CumSum": CumSum,
}
