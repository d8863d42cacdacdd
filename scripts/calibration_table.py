"""The calibration table of the README: float against int8 with each --calibration method.

    .venv/bin/python scripts/calibration_table.py            # digits, the zoo, the shared models
    .venv/bin/python scripts/calibration_table.py --quick    # one export (classic13) per zoo model

- digits (examples/): top-1 accuracy (%) on the labelled test split, calibrated on the calibration split.
- zoo (tests/zoo/, random weights, no data): calibrated on 16 seeded random inputs (the compiler's own default),
  compared with float on 128 other seeded random inputs. A classifier's figure is the share (%) of its argmaxes
  (over the last axis: per frame for bilstm) that match float; the autoencoder's and the U-Net's is the relative
  RMS error of the outputs, rms(int8 - float) / rms(float), in %. Models with no int8 form yet are listed apart.
- shared models (../shared/models, or TINYC_MODELS): calibrated and compared on their few samples (in-sample).

Every row also gives the relative RMS error (%) of the outputs against float: the finer measure on which the
methods differ when argmaxes agree. The last lines average each column.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tinyc import interpreter, io, pipeline, quant  # noqa: E402
from tinyc.accuracy import load_labelled  # noqa: E402
from tinyc.errors import TinycError  # noqa: E402
from tinyc.passes.calibration import DEFAULT, METHODS  # noqa: E402

ZOO = ROOT / "tests" / "zoo"
SHARED = Path(os.environ.get("TINYC_MODELS") or ROOT.parent / "shared" / "models")
NOT_CLASSIFIERS = ("autoencoder", "unet", "ad_fc_autoencoder", "sine_mlp")
CALIB_SAMPLES, EVAL_SAMPLES = 16, 128


def outputs_of(g, samples: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Every output of g on the float samples, in real units (int8 outputs dequantized)."""
    results = interpreter.run_samples(g, interpreter.feeds_for(g, samples))
    return [quant.dequantize_array(results[o], g.tensors[o].q) if g.tensors[o].dtype == "int8"
            else results[o].astype(np.float32) for o in g.outputs]


def relative_rms(got: list[np.ndarray], want: list[np.ndarray]) -> float:
    err = sum(float(np.sum((a.astype(np.float64) - b) ** 2)) for a, b in zip(got, want))
    ref = sum(float(np.sum(np.asarray(b, np.float64) ** 2)) for b in want)
    return 100.0 * np.sqrt(err / max(ref, 1e-30))


def agreement(got: list[np.ndarray], want: list[np.ndarray]) -> float:
    """% of argmaxes over the first output's last axis equal to float's."""
    return 100.0 * float(np.mean(got[0].argmax(axis=-1) == want[0].argmax(axis=-1)))


def accuracy(got: list[np.ndarray], labels: np.ndarray) -> float:
    """Top-1 accuracy (%) of the first output, one class per sample."""
    return 100.0 * float(np.mean(got[0].reshape(len(labels), -1).argmax(axis=1) == labels))


def compare(path: Path, calib: dict, evaluate: dict, labels: np.ndarray | None, classifier: bool) -> dict:
    """{"float": figure, method: (figure, relative rms %)}; figure: accuracy, agreement or relative RMS."""
    g = pipeline.frontend(path)
    want = outputs_of(g, evaluate)
    row = {"float": accuracy(want, labels) if labels is not None else None}
    for method in METHODS:
        q, _ = pipeline.lower(g, "int8", calib, method=method)
        got = outputs_of(q, evaluate)
        rms = relative_rms(got, want)
        if labels is not None:
            figure = accuracy(got, labels)
        else:
            figure = agreement(got, want) if classifier else rms
        row[method] = (figure, rms)
    return row


def digits_rows():
    for kind in ("mlp", "cnn"):
        path = ROOT / "examples" / f"digits_{kind}.onnx"
        g = pipeline.frontend(path)
        calib = io.load_samples(ROOT / "examples" / f"digits_calib_{kind}.npz", g).arrays
        test, labels = load_labelled(ROOT / "examples" / f"digits_test_{kind}.npz", g)
        yield f"digits_{kind}", "accuracy %", compare(path, calib, test, labels, True)


def zoo_rows(quick: bool, skipped: list[str]):
    for path in sorted(ZOO.glob("*.onnx")):
        if quick and not path.stem.endswith("classic13"):
            continue
        g = pipeline.frontend(path)
        calib = pipeline.random_inputs(g, CALIB_SAMPLES, 0)
        evaluate = pipeline.random_inputs(g, EVAL_SAMPLES, 1)
        classifier = not path.stem.startswith(NOT_CLASSIFIERS)
        try:
            row = compare(path, calib, evaluate, None, classifier)
        except TinycError as e:
            skipped.append(f"{path.stem} ({str(e).splitlines()[0][:90]})")
            continue
        yield path.stem, "agreement %" if classifier else "rel. RMS %", row


def shared_rows(skipped: list[str]):
    if not (SHARED / "samples").is_dir():
        skipped.append(f"shared models (not found at {SHARED})")
        return
    for path in sorted(SHARED.glob("*.onnx")):
        g = pipeline.frontend(path)
        with np.load(SHARED / "samples" / f"{path.stem}_samples.npz") as data:
            x = data["input"].astype(np.float32)
        samples = {g.inputs[0]: x.reshape(len(x), *g.tensors[g.inputs[0]].shape)}
        classifier = path.stem not in NOT_CLASSIFIERS
        try:
            row = compare(path, samples, samples, None, classifier)
        except TinycError as e:
            skipped.append(f"{path.stem} ({str(e).splitlines()[0][:90]})")
            continue
        yield path.stem, "agreement %" if classifier else "rel. RMS %", row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="one export (classic13) per zoo model")
    p.add_argument("--no-shared", action="store_true", help="leave out the shared models")
    args = p.parse_args(argv)
    skipped: list[str] = []
    start = time.time()
    head = "| model | measure | float | " + " | ".join(f"int8 {m}" for m in METHODS) + " |"
    print(head)
    print("|" + "---|" * (3 + len(METHODS)))
    totals: dict[str, list[list[float]]] = {}
    groups = [("digits", digits_rows()), ("zoo", zoo_rows(args.quick, skipped))]
    if not args.no_shared:
        groups.append(("shared", shared_rows(skipped)))
    for group, rows in groups:
        for name, measure, row in rows:
            cells = [f"{row[m][0]:.1f} ({row[m][1]:.1f})" for m in METHODS]
            base = "-" if row["float"] is None else f"{row['float']:.1f}"
            print(f"| {name} | {measure} | {base} | " + " | ".join(cells) + " |", flush=True)
            key = f"{group} {measure}"
            totals.setdefault(key, []).append([row[m][0] for m in METHODS])
            totals.setdefault(f"{group} rel. RMS % (all rows)", []).append([row[m][1] for m in METHODS])
    print()
    print("| mean over | rows | " + " | ".join(f"int8 {m}" for m in METHODS) + " |")
    print("|" + "---|" * (2 + len(METHODS)))
    for key, values in totals.items():
        mean = np.mean(np.array(values), axis=0)
        print(f"| {key} | {len(values)} | " + " | ".join(f"{v:.2f}" for v in mean) + " |")
    print()
    print("Cells: the measure, then in brackets the relative RMS error (%) of the outputs against float. "
          f"Default: --calibration {DEFAULT}.")
    for s in skipped:
        print(f"not in the table: {s}")
    print(f"({time.time() - start:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
