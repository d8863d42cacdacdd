"""Benchmark (not a test): instructions per node of a shared model on a QEMU board.

    .venv/bin/python bench/profile.py MODEL [--board mps2-an386] [--models DIR] [--portable]

Each node of the compiled int8 graph runs alone as a one-node firmware (its constants, random int8
inputs) under QEMU -icount (instruction counts, not cycles); the count of an empty firmware (a copy
node) is printed too, so a node's own share is its count minus that overhead.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from tinyc import pipeline
from tinyc.ir import NP_DTYPE, Graph
from tinyc.passes.plan import plan_memory
from tinyc.pipeline import Compiled
from tinyc.runners import run_board

HERE = Path(__file__).resolve().parent


def one_node_graph(g: Graph, index: int) -> Graph:
    """Node `index` of g alone: its activation inputs become graph inputs, its outputs graph outputs."""
    node = g.nodes[index]
    used = [t for t in (*node.inputs, *node.outputs) if t]
    inputs = [t for t in node.inputs if t and g.tensors[t].data is None]
    return Graph(f"{g.name}_n{index}", {t: g.tensors[t] for t in used}, [node], inputs,
                 [t for t in node.outputs if t], helium=g.helium)  # the kernels of the compiled graph


def measure_node(c: Compiled, index: int, extra: list[str]) -> int:
    sub = one_node_graph(c.graph, index)
    planned, plan = plan_memory(sub)
    rng = np.random.default_rng(index)
    feeds = {}
    for t in sub.inputs:
        dt = np.dtype(NP_DTYPE[sub.tensors[t].dtype])
        shape = (1, *sub.tensors[t].shape)
        feeds[t] = (rng.integers(-128, 128, shape).astype(dt) if dt.kind == "i"
                    else rng.uniform(-1, 1, shape).astype(dt))
    one = Compiled(sub.name, sub, planned, plan, [], c.board)
    return run_board(one, feeds, extra)[1]["instructions"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--board", default="mps2-an386")
    models = Path(os.environ.get("TINYC_MODELS", HERE.parent.parent / "shared" / "models"))
    ap.add_argument("--models", type=Path, default=models)
    ap.add_argument("--portable", action="store_true", help="build with -DTINYC_PORTABLE")
    ap.add_argument("--only", default="", help="comma-separated node indices")
    args = ap.parse_args()
    path = args.models / f"{args.model}.onnx" if not args.model.endswith((".onnx", ".tflite")) else Path(args.model)
    g = pipeline.frontend(path)
    samples_file = args.models / "samples" / f"{path.stem}_samples.npz"
    x = np.load(samples_file)["input"].astype(np.float32)
    samples = {g.inputs[0]: x.reshape(len(x), *g.tensors[g.inputs[0]].shape)}
    c = pipeline.build(path, pipeline.Options(dtype="int8", calib=samples, board=args.board))
    extra = ["-DTINYC_PORTABLE"] if args.portable else []
    only = {int(i) for i in args.only.split(",") if i}
    total = 0
    for i, node in enumerate(c.graph.nodes):
        if only and i not in only:
            continue
        n = measure_node(c, i, extra)
        total += n
        ins = [c.graph.tensors[t].shape for t in node.inputs if t]
        out = c.graph.tensors[node.first_output].shape
        print(f"{i:3} {node.op:14} {n:>11,}  {ins} -> {out}  {node.attrs.get('kernel', '')}", flush=True)
    print(f"sum {total:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
