"""Benchmark (not a test): the two shared RNN models (kws_arm_gru_s, kws_arm_basic_lstm_s), int8, on the
Cortex-M4 (mps2-an386: DSP and portable builds) and the Cortex-M55 (mps3-an547: MVE, +nomve, portable).

    .venv/bin/python bench/rnn.py [--models DIR] [--out bench/results_rnn.json]

Compiled as bench/run.py compiles a model (one sample, calibrated on the model's samples). Counts are
QEMU -icount instruction counts per inference (deterministic), not cycles; per MAC uses the report's
MACs, as bench/run.py. Every build's outputs are checked against the reference interpreter bit for bit.
Writes JSON and a Markdown table beside it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

import numpy as np

from run import source_state
from tinyc import interpreter, pipeline, report, runners
from tinyc.board import load_board

HERE = Path(__file__).resolve().parent
MODELS = ("kws_arm_gru_s", "kws_arm_basic_lstm_s")
# Instructions and code bytes at 8506872, before the DSP and MVE int8 cells (same builds, same counting).
BEFORE = {("kws_arm_gru_s", "M4 DSP"): (11_054_240, 5_630), ("kws_arm_gru_s", "M4 portable"): (11_060_560, 5_246),
          ("kws_arm_gru_s", "M55 MVE"): (9_263_969, 5_764), ("kws_arm_gru_s", "M55 +nomve (DSP)"): (9_194_531, 5_586),
          ("kws_arm_gru_s", "M55 portable"): (9_270_125, 5_374),
          ("kws_arm_basic_lstm_s", "M4 DSP"): (18_156_960, 4_842),
          ("kws_arm_basic_lstm_s", "M4 portable"): (18_161_760, 4_458),
          ("kws_arm_basic_lstm_s", "M55 MVE"): (15_392_031, 4_860),
          ("kws_arm_basic_lstm_s", "M55 +nomve (DSP)"): (15_265_750, 4_750),
          ("kws_arm_basic_lstm_s", "M55 portable"): (15_396_719, 4_470)}
# (label, board, extra compiler flags): later -mcpu wins, so +nomve keeps the M55's DSP path only.
BUILDS = [("M4 DSP", "mps2-an386", []), ("M4 portable", "mps2-an386", ["-DTINYC_PORTABLE"]),
          ("M55 MVE", "mps3-an547", []), ("M55 +nomve (DSP)", "mps3-an547", ["-mcpu=cortex-m55+nomve"]),
          ("M55 portable", "mps3-an547", ["-DTINYC_PORTABLE"])]


def measure(models_dir: Path, name: str) -> list[dict]:
    path = models_dir / f"{name}.onnx"
    g = pipeline.frontend(path)
    x = np.load(models_dir / "samples" / f"{name}_samples.npz")["input"].astype(np.float32)
    samples = {g.inputs[0]: x.reshape(len(x), *g.tensors[g.inputs[0]].shape)}
    c = pipeline.build(path, pipeline.Options(dtype="int8", calib=samples, board=BUILDS[0][1]))
    feeds = {k: v[:1] for k, v in runners.feeds_for(c.graph, samples).items()}
    want = interpreter.run_samples(c.graph, feeds)
    macs = report.build_report(c.graph, c.plan, c.name, board=c.board, dtype="int8")["macs"]
    rows = []
    for label, board, flags in BUILDS:
        got, m = runners.run_board(dataclasses.replace(c, board=load_board(board)), feeds, flags)
        rows.append({"model": name, "build": label, "board": board, "flags": flags, "macs": macs,
                     "instructions": m["instructions"], "per_mac": round(m["instructions"] / macs, 2),
                     "code": m["code"], "equals_ref": all(np.array_equal(got[n], want[n]) for n in c.graph.outputs)})
        print(f"{name:22} {label:18} {m['instructions']:>12,} {rows[-1]['per_mac']:6.2f}/MAC code {m['code']:,}"
              f" {'=ref' if rows[-1]['equals_ref'] else 'DIFFERS'}", file=sys.stderr)
    return rows


def markdown(rows: list[dict]) -> str:
    out = ("| model | build | board | MACs | instructions | per MAC | before | before per MAC | code B | code B before "
           "| = ref |\n|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
    for r in rows:
        n0, code0 = BEFORE.get((r["model"], r["build"]), (0, 0))
        out += (f"| {r['model']} | {r['build']} | {r['board']} | {r['macs']:,} | {r['instructions']:,} | "
                f"{r['per_mac']} | {n0:,} | {n0 / r['macs']:.2f} | {r['code']:,} | {code0:,} | "
                f"{'yes' if r['equals_ref'] else 'NO'} |\n")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=Path, default=Path(os.environ.get("TINYC_MODELS", "/work/shared/models")))
    ap.add_argument("--out", type=Path, default=HERE / "results_rnn.json")
    args = ap.parse_args()
    rows = [r for name in MODELS for r in measure(args.models, name)]
    note = ("int8 RNN models, QEMU -icount shift=0: counts are QEMU instruction counts per inference, not cycles "
            "(one MVE instruction counts one). arm-none-eabi-gcc -O2; +nomve = -mcpu=cortex-m55+nomve, portable = "
            "-DTINYC_PORTABLE. per MAC = instructions / the report's MACs (bench/run.py's). code = the measured "
            "code bytes of the model's and kernels' functions in the ELF. before = commit 8506872 (the int8 cells "
            f"one row at a time, no DSP or MVE path). Source: {source_state()}.")
    args.out.write_text(json.dumps({"note": note, "rows": rows}, indent=2) + "\n")
    table = markdown(rows)
    args.out.with_suffix(".md").write_text(note + "\n\n" + table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
