"""Benchmark (not a test): one representative layer per kernel family on the Cortex-M55 (QEMU mps3-an547),
built with Helium (MVE, the board's flags) and built -mcpu=cortex-m55+nomve (the DSP path), plus
ad_fc_autoencoder whole. Checks that both builds equal ref_int8 bit for bit.

    .venv/bin/python bench/m55_kernels.py [--only SUBSTRING] [--out bench/results_m55_kernels.json]

Counts are QEMU -icount instruction counts (deterministic), not cycles: QEMU counts one MVE instruction
(16 int8 lanes) as one instruction, a real M55 takes about two cycles for it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from layers import LAYERS, compiled_layer  # bench/layers.py
from tinyc import interpreter, ops, pipeline, runners
from tinyc.board import load_board
from tinyc.ir import Graph, Node, Tensor, verify
from tinyc.passes.plan import plan_memory
from tinyc.passes.quantize import quantize

HERE = Path(__file__).resolve().parent
BOARD = "mps3-an547"
NOMVE = ["-mcpu=cortex-m55+nomve"]  # after the board's -mcpu: the same core without Helium (DSP paths)
CALIB = 8
# CMSIS-NN with MVE on the M55 (issue 14), where it measured the same layer or model
CMSIS_MVE = {"fully connected 256->128": 17_146, "fully connected 640->128": 40_188, "ad_fc_autoencoder": 147_312}


def _graph(name: str, nodes: list[Node], inputs: dict[str, tuple], shapes: dict[str, tuple]) -> Graph:
    tensors = {n: Tensor(n, s, "float32") for n, s in {**inputs, **shapes}.items()}
    g = Graph(name, tensors, nodes, list(inputs), [nodes[-1].outputs[0]])
    verify(g)
    return g


def _unary(name: str, op: str, shape: tuple, attrs: dict) -> Graph:
    node = Node(name, op, ["x"], ["y"], attrs)
    (y,) = ops.get(op).infer_shape(node, [shape])
    return _graph(name, [node], {"x": shape}, {"y": tuple(y)})


def _binary(name: str, op: str, shape: tuple) -> Graph:
    return _graph(name, [Node(name, op, ["a", "b"], ["y"], {"act": None})], {"a": shape, "b": shape}, {"y": shape})


def kernel_graphs() -> dict[str, Graph]:
    """Elementwise, LUT, pooling and softmax layers of typical sizes (a 16x16x32 feature map, 10 classes)."""
    fm = (1, 32, 16, 16)
    pool = {"kernel": (2, 2), "strides": (2, 2), "pads": (0, 0, 0, 0), "ceil_mode": False,
            "count_include_pad": False}
    return {
        "add 16x16x32": _binary("add_fm", "add", fm),
        "mul 16x16x32": _binary("mul_fm", "mul", fm),
        "sigmoid (LUT) 16x16x32": _unary("sigmoid_fm", "unary", fm, {"fn": "sigmoid"}),
        "maxpool 2x2 16x16x32": _unary("maxpool_fm", "maxpool", fm, pool),
        "avgpool 2x2 16x16x32": _unary("avgpool_fm", "avgpool", fm, pool),
        "global avgpool 8x8x64": _unary("gap", "avgpool", (1, 64, 8, 8), dict(pool, kernel=(8, 8), strides=(1, 1))),
        "softmax 1x10": _unary("softmax10", "softmax", (1, 10), {"axis": 1}),
        "softmax 1x1000": _unary("softmax1000", "softmax", (1, 1000), {"axis": 1}),
    }


def _compiled(g: Graph, seed: int = 1) -> tuple[pipeline.Compiled, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    calib = {n: rng.uniform(-2, 2, (CALIB, *g.tensors[n].shape)).astype(np.float32) for n in g.inputs}
    q = quantize(g, calib)
    planned, plan = plan_memory(q)
    c = pipeline.Compiled(g.name, q, planned, plan, [], load_board(BOARD))
    return c, {k: v[:1] for k, v in runners.feeds_for(q, calib).items()}


def _model(name: str, models: Path) -> tuple[pipeline.Compiled, dict[str, np.ndarray]]:
    path = models / f"{name}.onnx"
    g = pipeline.frontend(path)
    x = np.load(models / "samples" / f"{name}_samples.npz")["input"].astype(np.float32)
    samples = {g.inputs[0]: x.reshape(len(x), *g.tensors[g.inputs[0]].shape)}
    c = pipeline.build(path, pipeline.Options(dtype="int8", calib=samples, board=BOARD))
    return c, {k: v[:1] for k, v in runners.feeds_for(c.graph, samples).items()}


def measure(name: str, c: pipeline.Compiled, feeds: dict[str, np.ndarray]) -> dict:
    want = interpreter.run_samples(c.graph, feeds)
    mve_out, mve = runners.run_board(c, feeds)
    dsp_out, dsp = runners.run_board(c, feeds, NOMVE)
    exact = all(np.array_equal(mve_out[n], want[n]) and np.array_equal(dsp_out[n], want[n]) for n in c.graph.outputs)
    kernels = sorted({ops.get(n.op).kernel(n, c.graph).kernel for n in c.graph.nodes}) if len(c.graph.nodes) < 4 else []
    return {"layer": name, "kernels": kernels, "mve": mve["instructions"], "nomve": dsp["instructions"],
            "mve_over_nomve": round(mve["instructions"] / dsp["instructions"], 3), "cmsis_nn_mve": CMSIS_MVE.get(name),
            "code_mve": mve["code"], "code_nomve": dsp["code"], "bit_exact": exact}


def cases(models: Path):
    for layer in LAYERS:
        if layer.name.startswith("fully connected"):
            yield layer.name, lambda layer=layer: compiled_layer(layer, BOARD)
    for name, g in kernel_graphs().items():
        yield name, lambda g=g: _compiled(g)
    yield "ad_fc_autoencoder", lambda: _model("ad_fc_autoencoder", models)


BASE = HERE / "results_m55_kernels_base.json"  # the same rows measured before the Helium kernels (issue 14)


def markdown(rows: list[dict], base: dict[str, dict]) -> str:
    head = ("| layer | kernels | before (M55) | MVE | MVE / before | +nomve (DSP) | MVE / DSP | CMSIS-NN MVE | "
            "code B MVE | code B DSP | exact |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
    out = []
    for r in rows:
        before = base.get(r["layer"], {}).get("mve")
        out.append(f"| {r['layer']} | {', '.join(r['kernels'])} | {'' if before is None else format(before, ',')} | "
                   f"{r['mve']:,} | {'' if before is None else round(r['mve'] / before, 3)} | {r['nomve']:,} | "
                   f"{r['mve_over_nomve']} | {'' if r['cmsis_nn_mve'] is None else format(r['cmsis_nn_mve'], ',')} | "
                   f"{r['code_mve']:,} | {r['code_nomve']:,} | {'yes' if r['bit_exact'] else 'NO'} |\n")
    return head + "".join(out)


def write_markdown(out: Path, rows: list[dict]) -> None:
    base = {r["layer"]: r for r in json.loads(BASE.read_text())} if BASE.exists() else {}
    out.with_suffix(".md").write_text(
        "# Kernels on the Cortex-M55 (QEMU mps3-an547, -icount instructions, not cycles)\n\n"
        "Produced by `bench/m55_kernels.py`. before: the board's build at the start of issue 14 (no Helium kernels; "
        "`results_m55_kernels_base.json`); MVE: the board's build now (Helium); +nomve: -mcpu=cortex-m55+nomve (the "
        "DSP paths). Code bytes: the whole test firmware's code. exact: both builds equal ref_int8 bit for bit. "
        "QEMU counts one MVE instruction (16 int8 lanes) as one instruction; a real M55 takes about two cycles for "
        "one, and a gathered load (VLDRB gather: LUTs, sparse columns, strided pooling) is slower than a "
        "contiguous one.\n\n" + markdown(rows, base))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=Path, default=Path(os.environ.get("TINYC_MODELS", "/work/shared/models")))
    ap.add_argument("--only", default="", help="measure only the rows whose name contains this")
    ap.add_argument("--out", type=Path, default=HERE / "results_m55_kernels.json")
    ap.add_argument("--markdown-only", action="store_true", help="rewrite the .md from the .json, measure nothing")
    args = ap.parse_args()
    if args.markdown_only:
        write_markdown(args.out, json.loads(args.out.read_text()))
        return 0
    rows = []
    for name, make in cases(args.models):
        if args.only in name:
            rows.append(measure(name, *make()))
            r = rows[-1]
            print(f"{name:28} MVE {r['mve']:>9,}  nomve {r['nomve']:>9,}  exact {r['bit_exact']}", file=sys.stderr)
    args.out.write_text(json.dumps(rows, indent=1) + "\n")
    write_markdown(args.out, rows)
    return 0 if all(r["bit_exact"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
