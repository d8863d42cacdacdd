"""Post-training compression against --finetune on the digits models: accuracy on the held-out test split,
trained on the training split (examples/digits_train_*.npz), weight bytes and MACs. Markdown out.

    .venv/bin/python scripts/finetune_table.py [EPOCHS]

Each row is one `tinyc compile` with --calib, --eval, --finetune (int8: quantization-aware); "post-training"
is the same compression compiled without fine-tuning (report.json accuracy.before_finetune). Weight bytes are
report.json's flash weights (int8 values, CSR indices, N:M masks, lookup tables), against the float model's
weights and biases at 4 bytes each.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from tinyc import api, pipeline

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# (model, setting, compression options, target: most points below float, least x below float32, MACs share)
ROWS = [
    ("mlp", "--prune 0.9", {"prune": 0.9}, (1.0, 12.0, None)),
    ("cnn", "--prune 0.9", {"prune": 0.9}, (1.0, 12.0, None)),
    ("cnn", "--prune-channels 0.5", {"prune_channels": 0.5}, (1.5, None, 0.5)),
    ("mlp", "--sparsity 1:4", {"sparsity": "1:4"}, (1.0, None, None)),
    ("cnn", "--sparsity 1:4", {"sparsity": "1:4"}, (1.0, None, None)),
    ("mlp", "int8 (QAT)", {}, (0.2, None, None)),
    ("cnn", "int8 (QAT)", {}, (0.2, None, None)),
    # W (6,4)(x)(32,2), R (6,4)(x)(32,16): 17.5x and 22.9x fewer entries (the pass's gru_shape, >= 16x);
    # a longer run of its own (a recurrent KP starts near chance and needs it)
    ("gru", "--kronecker auto (W 17.5x, R 22.9x), 200 epochs, lr 0.005",
     {"kronecker": "auto", "epochs": 200, "lr": 0.005}, (1.0, None, None)),
]


def float32_bytes(model: Path) -> int:
    g = pipeline.frontend(model)
    return 4 * sum(t.size for t in g.tensors.values() if t.is_const and t.dtype == "float32")


def dense_macs(model: Path) -> int:
    return api.compile(model, calib=EXAMPLES / f"digits_calib_{model.stem.split('_')[1]}.npz")["macs"]


def row(kind: str, setting: str, options: dict, target: tuple, epochs: int) -> str:
    model = EXAMPLES / f"digits_{kind}.onnx"
    options = {"epochs": epochs, **options}  # a row may set its own epochs and lr
    doc = api.compile(model, calib=EXAMPLES / f"digits_calib_{kind}.npz", eval=EXAMPLES / f"digits_test_{kind}.npz",
                      finetune=EXAMPLES / f"digits_train_{kind}.npz", **options)
    acc = doc["accuracy"]
    ratio = float32_bytes(model) / doc["flash"]["weights"]
    macs = doc["macs"] / dense_macs(model)
    drop, least_ratio, most_macs = target
    met = acc["float"] - acc["compressed"] <= drop + 1e-9 and (least_ratio is None or ratio >= least_ratio) and \
        (most_macs is None or macs <= most_macs + 1e-9)
    goal = f"within {drop:g}" + (f", >= {least_ratio:g}x" if least_ratio else "") + \
        (f", MACs <= {most_macs:.0%}" if most_macs else "")
    return (f"| {kind.upper()} | {setting} | {acc['float']:.2f} | {acc['before_finetune']:.2f} | "
            f"{acc['compressed']:.2f} | {doc['flash']['weights']:,} ({ratio:.1f}x) | {doc['macs']:,} ({macs:.0%}) | "
            f"{goal}: {'yes' if met else 'NO'} |")


def main(epochs: int) -> None:
    np.seterr(all="ignore")
    print(f"Digits test split (600 images), fine-tuned {epochs} epochs on the 1,197 training images, seed 0.\n")
    print("| model | setting | float % | post-training % | fine-tuned % | int8 weight B (x below float32) | "
          "MACs (of dense) | target met |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for kind, setting, options, target in ROWS:
        print(row(kind, setting, options, target, epochs), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else pipeline.DEFAULT_EPOCHS)
