"""Index lowerings: ArgMax, ArgMin, TopK. Their indices are int64 graph outputs (tinyc/ops/arg.py).

Each lowering is named after its ONNX op: `b` is the Importer (tinyc/frontend/onnx_import.py), `n` the
ONNX node, positional arguments the node's input names ("" when absent), attributes keyword
arguments with ONNX's defaults. What tinyc does not implement raises UnsupportedOp through b.fail.
"""

from __future__ import annotations

import numpy as np


def _axis(b, axis: int, rank: int) -> int:
    if not -rank <= axis < rank:
        raise b.fail(f"axis {axis} out of range for rank {rank}")
    return axis % rank


def _arg(smallest: bool):
    # select_last_index arrives in opset 12; before it, the attribute is unknown and ties go first
    def lower(b, n, data, *, axis=0, keepdims=1, select_last_index=0):
        shape = b.shape(data)
        a = _axis(b, axis, len(shape))
        if shape[a] == 0:
            raise b.fail(f"axis {axis} of {list(shape)} is empty: no index to return")
        b.emit("argmax", [data], [n.output[0]], {"axis": a, "keepdims": bool(keepdims), "min": smallest,
                                                "last": bool(select_last_index)})
    lower.__name__ = "ArgMin" if smallest else "ArgMax"
    return lower


def TopK(b, n, X, K="", *, axis=-1, largest=1, sorted=1, k=None):
    # opset 1: k is an attribute; opset 10 on: a 1-element int64 input (constant here); largest and
    # sorted arrive in opset 11. Unsorted output may be in any order: tinyc's is sorted.
    if K:
        value = b.const(K)
        if value is None:
            raise b.fail("the K input must be constant")
        if np.asarray(value).size != 1:
            raise b.fail(f"K must hold one value, not {np.asarray(value).size}")
        k = int(np.asarray(value).reshape(-1)[0])
    if k is None:
        raise b.fail("k is missing (an input from opset 10, an attribute before)")
    shape = b.shape(X)
    a = _axis(b, axis, len(shape))
    if not 0 <= k <= shape[a]:
        raise b.fail(f"k={k} must be in 0..{shape[a]} (the size of axis {axis})")
    names = list(n.output) + [""] * (2 - len(n.output))  # the C writes both: an absent one gets a buffer
    outputs = [o or b.fresh(f"{n.name or 'topk'}_{what}") for o, what in zip(names, ("values", "indices"))]
    b.emit("topk", [X], outputs, {"axis": a, "k": k, "largest": bool(largest)})


LOWERINGS = {"ArgMax": _arg(False), "ArgMin": _arg(True), "TopK": TopK}
