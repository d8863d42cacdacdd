"""Predicted instructions per inference of an int8 graph on a board: one linear model per C kernel.

Each kernel call is described by a few physical counts (`features`): one call, the MACs it really does
(nonzero weights only for CSR and N:M), output and input elements, for convolutions the patch elements an
im2col or column gather touches (output pixels x Ci/group x KH x KW), output rows (a loop's set-up per
row: channels x output height; a dense layer's outputs), the reduction's tail (outputs x (reduction
length mod 4): the MACs the 4-wide DSP loops leave to scalar code) and the idle lanes of 4-pixel runs
(MACs a row's last, partly filled run of 4 output columns computes for nothing), and the edge of the
4-pixel x 2-channel blocks (MACs of the pixels past the plane's last full 4 and of an odd last output
channel, which the pointwise kernels do in scalar code). Instructions are a
non-negative combination of them, one coefficient row per kernel name and board, fitted by
bench/cost_model.py to QEMU -icount counts of one-node firmwares and kept in tinyc/data/cost_model.json.
A kernel without its own row uses the board's `*` row (fitted on every measurement): the report marks it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from tinyc import ops
from tinyc.errors import BadInput
from tinyc.ir import Graph, Node
from tinyc.ops.conv import is_1x1_unpadded

FEATURES = ("calls", "macs", "outputs", "inputs", "patch", "rows", "tail", "lanes", "edge")
LANES = 4  # pixels or reduction elements the DSP loops take at a time
DATA = Path(__file__).resolve().parent / "data" / "cost_model.json"
GENERIC = "*"  # the row for kernels the fit set did not reach


@lru_cache(maxsize=1)
def _table() -> dict:
    return json.loads(DATA.read_text())


def boards() -> list[str]:
    """Boards the cost model has coefficients for."""
    return sorted(_table()["boards"])


def check_board(board: str) -> None:
    if board not in _table()["boards"]:
        raise BadInput(f"--latency-budget: no cost model for board {board!r} (fitted: {', '.join(boards())}); "
                       f"measure one under QEMU with `python bench/cost_model.py --board {board}`")


def _elements(g: Graph, names: list[str]) -> int:
    return sum(int(np.prod(g.tensors[n].shape, dtype=np.int64)) for n in names if n)


def _density(node: Node, g: Graph) -> float:
    """Share of the weight a sparse kernel multiplies: nonzeros (CSR) or N of M (N:M); 1 when dense."""
    if node.op not in ("conv2d", "dense"):
        return 1.0
    w = g.tensors[node.inputs[1]]
    if w.data is None or w.format == "dense":
        return 1.0
    if w.format == "csr":
        return float(np.count_nonzero(w.data)) / w.data.size
    n, m = (int(v) for v in w.format.split(":"))
    return n / m


def _conv_counts(node: Node, g: Graph) -> tuple[int, int, int, float, float]:
    """(patch elements, output rows, reduction length, idle-lane share, block-edge share) of a conv2d or
    dense node; zeros else."""
    if node.op == "dense":
        k = g.tensors[node.inputs[1]].shape[1]
        return 0, _elements(g, node.outputs), k, 0.0, 0.0
    if node.op != "conv2d":
        return 0, 0, 0, 0.0, 0.0
    w = g.tensors[node.inputs[1]].shape
    y = g.tensors[node.outputs[0]].shape
    pixels = int(np.prod(y[2:], dtype=np.int64))
    k = int(np.prod(w[1:], dtype=np.int64))
    depthwise = int(node.attrs["group"]) == g.tensors[node.inputs[0]].shape[1]
    rows = int(np.prod(y[:-1], dtype=np.int64))  # N x Co x OH (x 1-D: N x Co)
    out_w = y[-1]
    if is_1x1_unpadded(node, w):  # the sparse conv runs each output plane as one row
        rows, out_w = rows // y[2], pixels
    idle = (-out_w % LANES) / out_w
    co = y[1] // int(node.attrs["group"])
    edge = 1.0 - (pixels // LANES * LANES) * (co // 2 * 2) / (pixels * co)
    return (0 if depthwise else pixels * k), rows, k, idle, edge


QUAD_KERNELS = ("tinyc_conv2d_csr_cols_s8", "tinyc_conv2d_nm_cols_s8")  # rows in runs of 4 output columns
QUAD_W = 19  # TINYC_SPC_QUAD_W (tinyc_sparse_conv.c): the widest kernel_w + 3 the runs take


def _in_quads(node: Node, g: Graph) -> bool:
    """Whether the sparse conv runs this node's rows in runs of 4 output columns (its other path: lists)."""
    a, kw = node.attrs, g.tensors[node.inputs[1]].shape[-1]
    return a["strides"][-1] == 1 and a["dilations"][-1] == 1 and kw + 3 <= QUAD_W


def _quad_scale(node: Node, g: Graph) -> float:
    """Pixel slots over pixels when the sparse conv computes each row in runs of 4 (the last one full
    width whatever it holds): every count of such a call scales by it. 1 for other calls."""
    if kernel_name(node, g) not in QUAD_KERNELS or not _in_quads(node, g):
        return 1.0
    y = g.tensors[node.outputs[0]].shape
    out_w = int(np.prod(y[2:], dtype=np.int64)) if is_1x1_unpadded(node, g.tensors[node.inputs[1]].shape) else y[-1]
    return -(-out_w // LANES) * LANES / out_w


POINTWISE_BLOCKS4_CI = 32  # TINYC_CONV_1X1_BLOCKS4_CI (tinyc_pointwise.c): the DSP path in blocks of 4 pixels


def cost_key(node: Node, g: Graph) -> str | None:
    """The row of coefficients a call uses: its kernel's name, `/lists` added for the sparse conv's
    path without runs of 4, `/blocks4` for the pointwise kernel's path for Ci <= 32, a multiple of 4
    (other loops, so other coefficients)."""
    kernel = kernel_name(node, g)
    if kernel in QUAD_KERNELS and not _in_quads(node, g):
        return kernel + "/lists"
    if kernel == "tinyc_conv2d_1x1_s8":
        ci = g.tensors[node.inputs[0]].shape[1]
        if ci <= POINTWISE_BLOCKS4_CI and ci % 4 == 0:
            return kernel + "/blocks4"
    return kernel


def kernel_name(node: Node, g: Graph) -> str | None:
    """The C kernel a node calls, None for a view (no call)."""
    op = ops.get(node.op)
    return None if op.is_view else op.kernel(node, g).kernel


def features(node: Node, g: Graph) -> dict[str, float]:
    from tinyc.report import _macs  # the report's MAC count, so both agree

    consts = {i for i in node.inputs if i and g.tensors[i].is_const}
    quad = _quad_scale(node, g)
    macs = _macs(node, g) * _density(node, g) * quad
    outputs = _elements(g, node.outputs) * quad
    patch, rows, k, idle, edge = _conv_counts(node, g)
    patch *= quad
    return {"calls": 1.0, "macs": macs, "outputs": float(outputs),
            "inputs": float(_elements(g, [i for i in node.inputs if i and i not in consts])),
            "patch": float(patch), "rows": float(rows), "tail": float(outputs * (k % LANES)),
            "lanes": macs * idle, "edge": macs * edge}


def _row(board: str, kernel: str) -> tuple[dict, bool]:
    rows = _table()["boards"][board]["kernels"]
    return (rows[kernel], True) if kernel in rows else (rows[GENERIC], False)


def predict_node(node: Node, g: Graph, board: str) -> tuple[int, bool]:
    """(predicted instructions of node's kernel call, whether its kernel has its own coefficients)."""
    kernel = cost_key(node, g)
    if kernel is None:
        return 0, True
    coef, own = _row(board, kernel)
    f = features(node, g)
    return int(round(sum(coef.get(k, 0.0) * f[k] for k in FEATURES))), own


def predict(g: Graph, board: str) -> dict:
    """{"layers": [{"name", "kernel", "instructions", "fitted"}], "total"} for int8 graph g on board."""
    check_board(board)
    layers = []
    for node in g.nodes:
        n, own = predict_node(node, g, board)
        layers.append({"name": node.name, "kernel": cost_key(node, g), "instructions": n, "fitted": own})
    overhead = int(_table()["boards"][board].get("invoke", 0))
    return {"layers": layers, "invoke": overhead, "total": overhead + sum(r["instructions"] for r in layers)}


def total(g: Graph, board: str) -> int:
    return predict(g, board)["total"]
