"""Benchmark (not a test): issue 6's layers and every shared model, int8, DSP and portable kernels.

    .venv/bin/python bench/run.py [--board mps2-an386] [--models DIR] [--out bench/results.json]

Each layer of the issue 6 table runs as a one-node int8 graph (seeded weights and calibration), each
model in the shared models folder as a full int8 firmware; both twice under QEMU: the normal build (DSP
paths on a DSP core) and one with -DTINYC_PORTABLE (portable C). Counts are QEMU -icount instruction
counts (deterministic), not cycles, compared with CMSIS-NN's counts for the same layers and models
and with the MACs/2 floor (two MACs per SMLAD). Writes JSON and a Markdown table beside it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

import layers
from models import MODELS
from tinyc import pipeline, report, runners

HERE = Path(__file__).resolve().parent
# CMSIS-NN instructions per inference of the MLPerf Tiny models (issue 6), same counting.
CMSIS_MODELS = {"kws_dscnn": 7_693_760, "vww_mobilenetv1": 24_092_520, "ic_resnet8": 29_860_040,
                "ad_fc_autoencoder": 579_960}


def ratios(row: dict) -> dict:
    """The derived columns: per MAC, over the MACs/2 floor, over CMSIS-NN (None without a reference)."""
    n, macs, ref = row["instructions"], row["macs"], row["cmsis_nn"]
    return dict(row, instructions_per_mac=round(n / macs, 2), over_floor=round(n / (macs / 2), 2),
                over_cmsis_nn=round(n / ref, 2) if ref else None)


def measure_model(models_dir: Path, name: str, board: str) -> dict:
    """Like bench/models.py's measure (same compile and one sample), measured DSP and portable."""
    path = models_dir / f"{name}.onnx"
    g = pipeline.frontend(path)
    x = np.load(models_dir / "samples" / f"{name}_samples.npz")["input"].astype(np.float32)
    samples = {g.inputs[0]: x.reshape(len(x), *g.tensors[g.inputs[0]].shape)}
    c = pipeline.build(path, pipeline.Options(dtype="int8", calib=samples, board=board))
    feeds = {k: v[:1] for k, v in runners.feeds_for(c.graph, samples).items()}  # one inference is enough
    doc = report.build_report(c.graph, c.plan, c.name, board=c.board, dtype="int8")
    return {"model": name, "macs": doc["macs"], "cmsis_nn": CMSIS_MODELS.get(name), "arena": doc["ram"]["arena"],
            "weights": doc["flash"]["weights"], **layers.dsp_and_portable(c, feeds)}


def model_names(models_dir: Path) -> list[str]:
    """Every *.onnx in the folder, bench/models.py's order first."""
    names = [p.stem for p in models_dir.glob("*.onnx")]
    return sorted(names, key=lambda n: (MODELS.index(n) if n in MODELS else len(MODELS), n))


def source_state() -> str:
    """The commit measured and whether runtime_c/ had uncommitted changes (read-only git)."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=HERE.parent, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""
    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (" + uncommitted runtime_c/ changes" if git("status", "--porcelain", "runtime_c") else "")


def _x(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}x"


def markdown(layer_rows: list[dict], model_rows: list[dict]) -> str:
    cols = ("MACs | instructions | per MAC | / (MACs/2) | CMSIS-NN | / CMSIS-NN | portable instructions | "
            "portable / DSP | DSP = portable bits | code B | arena B |")
    align = "---:|" * 11 + "\n"

    def cells(r: dict) -> str:
        ref = f"{r['cmsis_nn']:,}" if r["cmsis_nn"] else "-"
        return (f"{r['macs']:,} | {r['instructions']:,} | {r['instructions_per_mac']} | {_x(r['over_floor'])} | "
                f"{ref} | {_x(r['over_cmsis_nn'])} | {r['portable_instructions']:,} | "
                f"{_x(r['portable_over_dsp'])} | {'yes' if r['dsp_equals_portable'] else 'NO'} | "
                f"{r['code']:,} | {r['arena']:,} |\n")
    out = "| layer | kernel | " + cols + "\n|---|---|" + align
    out += "".join(f"| {r['layer']} | {r['kernel']} | " + cells(r) for r in layer_rows)
    out += "\n| model | " + cols + "\n|---|" + align
    out += "".join(f"| {r['model']} | " + cells(r) for r in model_rows)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--board", default=layers.BOARD)
    ap.add_argument("--models", type=Path, default=HERE.parent.parent / "shared" / "models")
    ap.add_argument("--out", type=Path, default=HERE / "results.json")
    args = ap.parse_args()
    layer_rows, model_rows = [], []
    for layer in layers.LAYERS:
        layer_rows.append(ratios(layers.measure_layer(layer, args.board)))
        r = layer_rows[-1]
        print(f"{r['layer']:36} {r['instructions']:>12,}  {_x(r['over_cmsis_nn'])} CMSIS-NN  "
              f"portable {r['portable_instructions']:>12,}", file=sys.stderr)
    for name in model_names(args.models):
        model_rows.append(ratios(measure_model(args.models, name, args.board)))
        r = model_rows[-1]
        print(f"{r['model']:36} {r['instructions']:>12,}  {_x(r['over_cmsis_nn'])} CMSIS-NN  "
              f"portable {r['portable_instructions']:>12,}", file=sys.stderr)
    note = (f"int8, QEMU {args.board} with -icount shift=0: counts are QEMU instruction counts per inference, "
            "not cycles. instructions = the normal build (DSP paths where the core has them); portable = the "
            "same firmware built with -DTINYC_PORTABLE (portable C kernels). arm-none-eabi-gcc -O2. "
            "/ (MACs/2) = instructions over the floor of one SMLAD per two MACs. CMSIS-NN = its instruction "
            "count for the same layer (issue 6's table) or model (KWS, VWW, ResNet-8, AD totals). Layers are "
            "one-node graphs with seeded random weights and calibration, no fused activation. code = the "
            "measured code bytes of the model's and kernels' functions in the ELF (DSP build); arena = the "
            f"planned activation arena. Source: {source_state()}.")
    doc = {"note": note, "board": args.board, "layers": layer_rows, "models": model_rows}
    args.out.write_text(json.dumps(doc, indent=2) + "\n")
    table = markdown(layer_rows, model_rows)
    args.out.with_suffix(".md").write_text(note + "\n\n" + table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
