"""Benchmark (not a test): instructions per inference of one layer stored dense, CSR or N:M, on a QEMU board.

    .venv/bin/python bench/sparse.py [--board mps2-an386] [--out bench/results_sparse.json]

Layers: dense 256x256, dense 640x128 (in x out) and a 3x3 conv 16x16x16 -> 16 (pad 1), int8.
The dense rows run the dense kernels (tinyc_dense_s8, tinyc_conv2d_s8); CSR rows
prune by magnitude to each sparsity, N:M rows prune 1:4 and 2:4. Counts are QEMU -icount
instruction counts (deterministic), not cycles. Kronecker rows (dense layers: W ~ A (x) B,
plain and doped) come through EXTRA_VARIANTS; other formats plug in the same way.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable

import numpy as np

from tinyc import ops, report
from tinyc.board import load_board
from tinyc.ir import Graph, Node, Tensor, verify
from tinyc.passes.kronecker import kronecker
from tinyc.passes.plan import plan_memory
from tinyc.passes.prune import prune_nm, prune_unstructured
from tinyc.passes.quantize import quantize
from tinyc.pipeline import Compiled
from tinyc.runners import feeds_for, run_board

HERE = Path(__file__).resolve().parent
SPARSITIES = (0.50, 0.75, 0.80, 0.90, 0.95)
PATTERNS = ("1:4", "2:4")
CALIB = 8
BOARD = "mps2-an386"


def one_node(op: str, x_shape: tuple[int, ...], w: np.ndarray, b: np.ndarray, attrs: dict) -> Graph:
    """A float32 graph x -> op(x, w, b) -> y."""
    node = Node("layer", op, ["x", "w", "b"], ["y"], dict(attrs))
    tensors = {"x": Tensor("x", x_shape), "w": Tensor("w", w.shape, "float32", w),
               "b": Tensor("b", b.shape, "float32", b)}
    (y_shape,) = ops.get(op).infer_shape(node, [x_shape, w.shape, b.shape])
    tensors["y"] = Tensor("y", tuple(y_shape))
    g = Graph(op, tensors, [node], ["x"], ["y"])
    verify(g)
    return g


def layers(seed: int = 0) -> dict[str, Graph]:
    rng = np.random.default_rng(seed)

    def weights(shape):
        return rng.normal(0, 0.1, shape).astype(np.float32), rng.normal(0, 0.1, shape[0]).astype(np.float32)

    conv = {"strides": (1, 1), "pads": (1, 1, 1, 1), "dilations": (1, 1), "group": 1, "act": (0.0, None)}
    return {"dense 256x256": one_node("dense", (1, 256), *weights((256, 256)), {"act": None}),
            "dense 640x128": one_node("dense", (1, 640), *weights((128, 640)), {"act": None}),
            "conv 3x3 16x16x16->16": one_node("conv2d", (1, 16, 16, 16), *weights((16, 16, 3, 3)), conv)}


def measure_layer(graph: Graph, feeds: dict[str, np.ndarray], board: str = BOARD) -> int:
    """Instructions per inference of `graph` (int8 or float, weight formats already set) on board's
    QEMU machine; feeds hold the model-dtype inputs with a leading sample axis."""
    planned, plan = plan_memory(graph)
    compiled = Compiled(graph.name.replace(" ", "_"), graph, planned, plan, [], load_board(board))
    return run_board(compiled, feeds)[1]["instructions"]


def stored(g: Graph, fmt: str) -> Graph:
    """Int8 graph g with its one layer's weight stored in fmt."""
    h = g.copy()
    h.tensors[h.nodes[0].inputs[1]].format = fmt
    return h


def weight_bytes(g: Graph) -> int:
    planned, plan = plan_memory(g)
    return report.build_report(planned, plan, "bench")["flash"]["weights"]


def variants(g: Graph, calib: dict[str, np.ndarray]) -> list[tuple[str, float, Graph]]:
    """(format, sparsity, int8 graph stored in that format) for every row of one layer's table."""
    rows = [("dense", 0.0, quantize(g, calib))]
    rows += [("csr", s, stored(quantize(prune_unstructured(g, {"layer": s}), calib), "csr")) for s in SPARSITIES]
    for pattern in PATTERNS:
        n, m = (int(v) for v in pattern.split(":"))
        rows.append((pattern, 1.0 - n / m, stored(quantize(prune_nm(g, n, m)[0], calib), pattern)))
    return rows


# More rows per layer: functions (layer name, float graph, calib) -> [(format, sparsity, int8 graph)],
# measured like the rest (e.g. Kronecker factorisations of the dense layers).
EXTRA_VARIANTS: list[Callable[[str, Graph, dict], list[tuple[str, float, Graph]]]] = []


def kronecker_variants(name: str, g: Graph, calib: dict[str, np.ndarray]) -> list[tuple[str, float, Graph]]:
    """Dense layers only: W ~ A (x) B, plain and doped, factor shapes chosen by the pass (>= 10x smaller)."""
    if g.nodes[0].op != "dense":
        return []
    rows = []
    for label, doped in (("kp", False), ("doped kp", True)):
        q = quantize(kronecker(g, layers=["layer"], doped=doped), calib)
        rows.append((label, 0.0, q))
    return rows


EXTRA_VARIANTS.append(kronecker_variants)


def run(board: str) -> list[dict]:
    results = []
    for name, g in layers().items():
        rng = np.random.default_rng(1)
        calib = {"x": rng.uniform(-1, 1, (CALIB, *g.tensors["x"].shape)).astype(np.float32)}
        rows = variants(g, calib) + [row for extra in EXTRA_VARIANTS for row in extra(name, g, calib)]
        base = None
        for fmt, sparsity, q in rows:
            feeds = {k: v[:1] for k, v in feeds_for(q, calib).items()}
            count = measure_layer(q, feeds, board)
            base = base or count
            results.append({"layer": name, "format": fmt, "sparsity": sparsity, "instructions": count,
                            "speedup": round(base / count, 2), "weight_bytes": weight_bytes(q)})
            print(f"{name:24} {fmt:6} {sparsity:5.0%} {count:>10,} instructions  {base / count:5.2f}x", file=sys.stderr)
    return results


def markdown(rows: list[dict]) -> str:
    head = ("| layer | format | sparsity | instructions | speed-up vs dense | weight bytes |\n"
            "|---|---|---:|---:|---:|---:|\n")
    return head + "".join(
        f"| {r['layer']} | {r['format']} | {r['sparsity']:.0%} | {r['instructions']:,} | {r['speedup']:.2f}x | "
        f"{r['weight_bytes']:,} |\n" for r in rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--board", default=BOARD)
    ap.add_argument("--out", type=Path, default=HERE / "results_sparse.json")
    args = ap.parse_args()
    rows = run(args.board)
    note = (f"Instructions per inference of one int8 layer under QEMU {args.board} with -icount shift=0 (instruction "
            "counts, not cycles), arm-none-eabi-gcc -O2, the kernels' DSP paths where they have one "
            "(dense, conv, CSR and N:M kernels; the sparse conv: tinyc_conv2d_csr_cols_s8 / _nm_cols_s8, 4-pixel "
            "columns). dense = tinyc_dense_s8 / "
            "tinyc_conv2d_s8 on the unpruned weights; csr and N:M rows are magnitude-pruned to the sparsity shown. "
            "weight bytes = the layer's flash for weights, encoding indices, bias and requantization arrays.")
    args.out.write_text(json.dumps({"note": note, "results": rows}, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(note + "\n\n" + markdown(rows))
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
