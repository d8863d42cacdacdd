"""Storage format of every int8 conv2d/dense weight: dense, CSR or N:M, whichever is smallest
in flash (indices included), keeping dense unless the saving is worth the slower kernel.
Sets Tensor.format on a copy of the graph; the weight values never change.
"""

from __future__ import annotations

import numpy as np

from tinyc import sparse
from tinyc.ir import Graph
from tinyc.ops.conv import is_1x1_unpadded

NM_M = (4, 8, 16)
MIN_SAVING = 0.10  # a barely sparse layer runs slower compressed than dense: require >= 10 % fewer bytes
MAX_CSR_COLUMNS = 1 << 16  # the kernels read columns as uint8 or uint16


def _nm_candidate(w: np.ndarray, m: int) -> str | None:
    """The smallest N:M (N < M) that matrix w satisfies for this M, or None."""
    rows, cols = w.shape
    if cols % m:
        return None
    n = max(1, int(np.count_nonzero(w.reshape(rows, cols // m, m), axis=2).max(initial=0)))
    return f"{n}:{m}" if n < m else None


def best_format(w: np.ndarray, allow: tuple[str, ...] = ("dense", "csr", "nm"), free_rows: int = 0) -> str:
    """The format to store int8 weight matrix w [rows, reduction] in. free_rows: rows the dense kernel skips
    (dead channels of a pointwise conv): when the other rows alone take no more bytes dense than the smallest
    sparse format, dense wins, as it runs faster (vww's 128 -> 128 pointwise: 71 dead channels, the live rows
    80 % nonzero; 4 KB more flash than CSR, 0.65 M fewer instructions on the M4)."""
    candidates = [c for c in (_nm_candidate(w, m) for m in NM_M) if c] if "nm" in allow else []
    # CSR stores at least 2 bytes a nonzero: with half the weights nonzero it cannot beat dense (no need to encode)
    beaten = "dense" in allow and 2 * np.count_nonzero(w) >= w.size
    if "csr" in allow and w.shape[1] <= MAX_CSR_COLUMNS and not beaten:
        candidates.append("csr")
    dense = sparse.encoded_bytes(w, "dense")
    if not candidates:
        return "dense"
    sizes = {c: sparse.encoded_bytes(w, c) for c in candidates}
    fmt = min(candidates, key=sizes.__getitem__)  # the first on a tie: N:M (a regular kernel) before CSR
    if "dense" in allow and sizes[fmt] > (1.0 - MIN_SAVING) * dense:
        return "dense"
    if "dense" in allow and free_rows and dense * (w.shape[0] - free_rows) <= sizes[fmt] * w.shape[0]:
        return "dense"
    return fmt


def _fastest(g: Graph, node, board: str, allow: tuple[str, ...]) -> str:
    """The format whose kernel the cost model predicts fastest on board (dense on a tie). Only kernels the
    model was fitted on compete (a guess must not win), and grouped convs stay dense (the sparse kernels
    were measured on dense layers and group-1 convs)."""
    from tinyc import cost_model

    w = g.tensors[node.inputs[1]]
    if node.op == "conv2d" and int(node.attrs["group"]) != 1:
        return "dense"
    matrix = sparse.weight_matrix(w.data)
    candidates = ["dense"] + ([c for c in (_nm_candidate(matrix, m) for m in NM_M) if c] if "nm" in allow else [])
    if "csr" in allow and matrix.shape[1] <= MAX_CSR_COLUMNS and np.count_nonzero(matrix) < matrix.size:
        candidates.append("csr")
    cost = {}
    for fmt in candidates:
        w.format = fmt
        instructions, fitted = cost_model.predict_node(node, g, board)
        if fitted or fmt == "dense":
            cost[fmt] = instructions
    return min(cost, key=cost.__getitem__)


def _skipped_rows(node, g: Graph) -> int:
    """Output channels the dense kernel skips: the dead ones (multiplier 0) of a pointwise conv (tinyc_pointwise's
    DSP paths fill them with one constant)."""
    p = node.attrs.get("int8")
    pointwise = node.op == "conv2d" and int(node.attrs.get("group", 1)) == 1 \
        and is_1x1_unpadded(node, g.tensors[node.inputs[1]].shape)
    if not pointwise or p is None:
        return 0
    return int(np.count_nonzero(np.asarray(p["multiplier"]) == 0))


def choose_formats(g: Graph, allow: tuple[str, ...] = ("dense", "csr", "nm"), fastest_on: str | None = None) -> Graph:
    """A copy of int8 graph g with each conv2d/dense int8 weight's .format set (float graphs: unchanged):
    the smallest in flash, or with fastest_on (a board of the cost model) the fastest there."""
    h = g.copy()
    for node in h.nodes:
        if node.op not in ("conv2d", "dense"):
            continue
        w = h.tensors[node.inputs[1]]
        if w.data is None or w.dtype != "int8" or h.tensors[node.outputs[0]].dtype != "int8":
            continue
        if fastest_on:
            w.format = _fastest(h, node, fastest_on, allow)
        else:
            w.format = best_format(sparse.weight_matrix(w.data), allow, _skipped_rows(node, h))
    return h


