"""Benchmark (not a test): instructions per inference of every shared model on a QEMU board.

    .venv/bin/python bench/models.py [--board mps2-an386] [--models DIR] [--out bench/results_models.json]

Counts are QEMU -icount instruction counts (deterministic), not cycles. Writes JSON and a Markdown
table beside it, so a change in speed or size shows up in review.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from tinyc import pipeline, report, runners

MODELS = ["kws_dscnn", "vww_mobilenetv1", "ic_resnet8", "ad_fc_autoencoder", "kws_arm_dnn_s",
          "kws_arm_gru_s", "kws_arm_basic_lstm_s", "mnist8_cnn", "sine_mlp"]
HERE = Path(__file__).resolve().parent


def measure(models_dir: Path, name: str, board: str, dtype: str) -> dict:
    path = models_dir / f"{name}.onnx"
    g = pipeline.frontend(path)
    x = np.load(models_dir / "samples" / f"{name}_samples.npz")["input"].astype(np.float32)
    samples = {g.inputs[0]: x.reshape(len(x), *g.tensors[g.inputs[0]].shape)}
    c = pipeline.build(path, pipeline.Options(dtype=dtype, calib=samples, board=board))
    feeds = {k: v[:1] for k, v in runners.feeds_for(c.graph, samples).items()}  # one inference is enough
    _, m = runners.run_board(c, feeds)
    doc = report.build_report(c.graph, c.plan, c.name, board=c.board, dtype=dtype)
    return {"model": name, "dtype": dtype, "board": board, "macs": doc["macs"],
            "instructions": m["instructions"], "instructions_per_mac": round(m["instructions"] / doc["macs"], 2),
            "arena": doc["ram"]["arena"], "weights": doc["flash"]["weights"], "code": m["code"],
            "text": m["text"], "rodata": m["rodata"], "data": m["data"], "bss": m["bss"], "stack": m["stack"],
            "flash": m["flash"], "ram": m["ram"]}


def markdown(rows: list[dict]) -> str:
    head = ("| model | dtype | MACs | instructions | per MAC | arena B | weights B | code B | flash B | RAM B |\n"
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
    return head + "".join(
        f"| {r['model']} | {r['dtype']} | {r['macs']:,} | {r['instructions']:,} | {r['instructions_per_mac']} | "
        f"{r['arena']:,} | {r['weights']:,} | {r['code']:,} | {r['flash']:,} | {r['ram']:,} |\n" for r in rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--board", default="mps2-an386")
    ap.add_argument("--models", type=Path, default=HERE.parent.parent / "shared" / "models")
    ap.add_argument("--dtype", default="int8")
    ap.add_argument("--out", type=Path, default=HERE / "results_models.json")
    args = ap.parse_args()
    rows = []
    for name in MODELS:
        rows.append(measure(args.models, name, args.board, args.dtype))
        print(f"{name:22} {rows[-1]['instructions']:>12,} instructions  {rows[-1]['instructions_per_mac']:>6} per MAC",
              file=sys.stderr)
    note = (f"Instructions per inference under QEMU {args.board} with -icount shift=0 (instruction counts, "
            "not cycles), portable C kernels, arm-none-eabi-gcc -O2. flash = .text + .rodata + .data of the test "
            "firmware; RAM = .data + .bss + measured stack; code = the model's and kernels' functions.")
    args.out.write_text(json.dumps({"note": note, "results": rows}, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(note + "\n\n" + markdown(rows))
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
