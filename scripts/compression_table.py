"""Compressed int8 against float on the MLPerf Tiny models (no labels here): class agreement on the
samples, mean and max output error, and weight bytes, for each compression setting. Markdown out.

    .venv/bin/python scripts/compression_table.py [MODELS_DIR]

Calibration (and the pruning reconstruction) uses each model's own samples. KWS has one sample,
VWW two and ResNet-8 four, so agreement there is on very few inputs; the AD autoencoder's 196
windows are its real test.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from tinyc import interpreter, pipeline, report, runners
from tinyc.compress import Compression
from tinyc.errors import TinycError

MODELS = ["kws_dscnn", "vww_mobilenetv1", "ic_resnet8", "ad_fc_autoencoder"]
SETTINGS = {
    "int8": Compression(),
    "--prune 0.5": Compression(prune=0.5),
    "--prune 0.8": Compression(prune=0.8),
    "--sparsity 2:4": Compression(sparsity="2:4"),
    "--prune-channels 0.1": Compression(prune_channels=0.1),
    "--kronecker auto": Compression(kronecker="auto"),
}


def row(models_dir: Path, name: str, label: str, c: Compression) -> str:
    path = models_dir / f"{name}.onnx"
    g = pipeline.frontend(path)
    x = np.load(models_dir / "samples" / f"{name}_samples.npz")["input"].astype(np.float32)
    samples = {g.inputs[0]: x.reshape(len(x), *g.tensors[g.inputs[0]].shape)}
    try:
        compiled = pipeline.build(path, pipeline.Options(calib=samples, compression=c))
    except TinycError as e:  # a setting that does not apply to this model (Kronecker on a CNN, say)
        return f"| {name} | {label} | - | - | - | {type(e).__name__}: {str(e)[:60]} |"
    out = g.outputs[0]
    ref = interpreter.run_samples(g, samples)[out]
    q8 = interpreter.run_samples(compiled.graph, runners.feeds_for(compiled.graph, samples))[out]
    y = (q8.astype(np.float64) - compiled.graph.tensors[out].q.zero_point[0]) * compiled.graph.tensors[out].q.scale[0]
    flat_ref, flat_y = ref.reshape(len(ref), -1), y.reshape(len(y), -1)
    agree = int(np.sum(flat_ref.argmax(1) == flat_y.argmax(1)))
    err = np.abs(flat_y - flat_ref)
    weights = report.build_report(compiled.graph, compiled.plan, compiled.name)["flash"]["weights"]
    return (f"| {name} | {label} | {agree}/{len(ref)} | {err.mean():.4f} | {err.max():.4f} | {weights:,} |")


def main() -> None:
    models_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "models"
    print("| model | setting | class agreement | mean abs error | max abs error | weights B |")
    print("|---|---|---:|---:|---:|---:|")
    for name in MODELS:
        for label, c in SETTINGS.items():
            print(row(models_dir, name, label, c), flush=True)


if __name__ == "__main__":
    main()
