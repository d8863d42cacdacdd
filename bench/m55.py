"""Benchmark (not a test): the Cortex-M55 table of issue 14. Issue 6's seven layers and the four MLPerf Tiny
models on QEMU mps3-an547, tinyc with Helium (MVE) against CMSIS-NN with MVE (issue 14's figures), and tinyc
built -mcpu=cortex-m55+nomve (its DSP paths on the same core); code bytes of both builds.

    TINYC_MODELS=/work/shared/models .venv/bin/python bench/m55.py [--only layers|models] [--out FILE.json]

Counts are QEMU -icount instruction counts (deterministic), not cycles: QEMU counts one 128-bit MVE
instruction as one instruction, for CMSIS-NN and tinyc alike. Writes JSON and a Markdown table beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from layers import LAYERS, compiled_layer  # bench/layers.py
from tinyc import ops, pipeline, runners

BOARD = "mps3-an547"
NOMVE = ["-mcpu=cortex-m55+nomve"]  # the last -mcpu wins: the M55 without Helium, DSP kept
HERE = Path(__file__).resolve().parent

# CMSIS-NN (ARM-software/CMSIS-NN@99f736a6) with MVE on mps3-an547, instructions per call / inference (issue 14).
CMSIS_LAYERS = {"conv 3x3 16x16x16->16": 235_812, "conv 3x3 32x32x3->16 (first layer)": 626_594,
                "depthwise 3x3 25x5x64": 168_708, "depthwise 3x3 48x48x8": 897_344,
                "pointwise 1x1 25x5x64->64": 202_938, "fully connected 256->128": 17_146,
                "fully connected 640->128": 40_188}
CMSIS_MODELS = {"kws_dscnn": 1_809_812, "vww_mobilenetv1": 6_549_750, "ic_resnet8": 4_908_219,
                "ad_fc_autoencoder": 147_312}


def both_builds(compiled, feeds: dict[str, np.ndarray]) -> dict:
    """The MVE and +nomve builds of one compiled graph: instructions, code bytes, and whether their
    outputs agree bit for bit."""
    mve_out, mve = runners.run_board(compiled, feeds)
    dsp_out, dsp = runners.run_board(compiled, feeds, NOMVE)
    same = all(np.array_equal(mve_out[n], dsp_out[n]) for n in compiled.graph.outputs)
    return {"instructions": mve["instructions"], "nomve_instructions": dsp["instructions"],
            "code": mve["code"], "nomve_code": dsp["code"], "mve_equals_nomve": same}


def measure_layer(layer) -> dict:
    c, feeds = compiled_layer(layer, BOARD)
    kernel = ops.get(c.graph.nodes[0].op).kernel(c.graph.nodes[0], c.graph).kernel
    return {"name": layer.name, "kernel": kernel, "cmsis_nn_mve": CMSIS_LAYERS[layer.name], **both_builds(c, feeds)}


def measure_model(models_dir: Path, name: str) -> dict:
    path = models_dir / f"{name}.onnx"
    g = pipeline.frontend(path)
    x = np.load(models_dir / "samples" / f"{name}_samples.npz")["input"].astype(np.float32)
    samples = {g.inputs[0]: x.reshape(len(x), *g.tensors[g.inputs[0]].shape)}
    c = pipeline.build(path, pipeline.Options(dtype="int8", calib=samples, board=BOARD))
    feeds = {k: v[:1] for k, v in runners.feeds_for(c.graph, samples).items()}  # one inference is enough
    return {"name": name, "cmsis_nn_mve": CMSIS_MODELS[name], **both_builds(c, feeds)}


def markdown(rows: list[dict]) -> str:
    head = ("| layer / model | tinyc MVE | CMSIS-NN MVE | tinyc / CMSIS-NN | tinyc +nomve | MVE speed-up | "
            "code B (MVE) | code B (+nomve) | MVE = +nomve |\n|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
    return head + "".join(
        f"| {r['name']} | {r['instructions']:,} | {r['cmsis_nn_mve']:,} | "
        f"{r['instructions'] / r['cmsis_nn_mve']:.2f}x | "
        f"{r['nomve_instructions']:,} | {r['nomve_instructions'] / r['instructions']:.2f}x | {r['code']:,} | "
        f"{r['nomve_code']:,} | {'yes' if r['mve_equals_nomve'] else 'NO'} |\n" for r in rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    models = os.environ.get("TINYC_MODELS", HERE.parent.parent / "shared" / "models")
    ap.add_argument("--models", type=Path, default=Path(models), help="default: $TINYC_MODELS or ../shared/models")
    ap.add_argument("--only", choices=["layers", "models"])
    ap.add_argument("--out", type=Path, default=HERE / "results_m55.json")
    args = ap.parse_args()
    rows = []
    if args.only != "models":
        for layer in LAYERS:
            rows.append(measure_layer(layer))
            print(f"{layer.name:36} {rows[-1]['instructions']:>12,}", file=sys.stderr)
    if args.only != "layers":
        for name in CMSIS_MODELS:
            rows.append(measure_model(args.models, name))
            print(f"{name:36} {rows[-1]['instructions']:>12,}", file=sys.stderr)
    args.out.write_text(json.dumps({"board": BOARD, "rows": rows}, indent=1) + "\n")
    args.out.with_suffix(".md").write_text(
        f"# tinyc on the Cortex-M55 ({BOARD}, QEMU -icount instructions, not cycles)\n\n"
        "Written by bench/m55.py. CMSIS-NN MVE figures: issue 14.\n\n" + markdown(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
