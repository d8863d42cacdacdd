"""Per-model figures for the shared models: float32 C error vs onnxruntime, int8 C bit-exactness
with the reference, arena, lower bound and weight bytes. Prints a Markdown table.

    .venv/bin/python scripts/model_table.py [MODELS_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort

from tinyc import interpreter, pipeline, report, runners

MODELS = ["kws_dscnn", "vww_mobilenetv1", "ic_resnet8", "ad_fc_autoencoder", "kws_arm_dnn_s",
          "kws_arm_gru_s", "kws_arm_basic_lstm_s", "mnist8_cnn", "sine_mlp"]


def figures(models_dir: Path, name: str) -> dict:
    path = models_dir / f"{name}.onnx"
    g = pipeline.frontend(path)
    x = np.load(models_dir / "samples" / f"{name}_samples.npz")["input"].astype(np.float32)
    samples = {g.inputs[0]: x.reshape(len(x), *g.tensors[g.inputs[0]].shape)}
    row = {"model": name}
    c32 = pipeline.build(path, pipeline.Options(dtype="float32"))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    expected = np.stack([session.run(None, {g.inputs[0]: xi})[0] for xi in samples[g.inputs[0]]])
    got = runners.run_host(c32, runners.feeds_for(c32.graph, samples))[c32.graph.outputs[0]]
    row["float max err"] = float(np.abs(got.reshape(expected.shape) - expected).max())
    row["float max abs output"] = float(np.abs(expected).max())
    c8 = pipeline.build(path, pipeline.Options(dtype="int8", calib=samples))
    feeds = runners.feeds_for(c8.graph, samples)
    rng = np.random.default_rng(1234)
    for n in c8.graph.inputs:
        feeds[n] = np.concatenate([feeds[n], rng.integers(-128, 128, (32, *c8.graph.tensors[n].shape), np.int8)])
    ref = interpreter.run_samples(c8.graph, feeds)
    host = runners.run_host(c8, feeds)
    row["int8 bit-exact"] = all(np.array_equal(ref[o], host[o]) for o in c8.graph.outputs)
    row["samples"] = len(feeds[c8.graph.inputs[0]])
    for dtype, c in (("int8", c8), ("float32", c32)):
        doc = report.build_report(c.graph, c.plan, c.name, dtype=dtype)
        row[f"{dtype} arena"] = doc["ram"]["arena"]
        row[f"{dtype} lower bound"] = doc["ram"]["lower_bound"]
        row[f"{dtype} weights"] = doc["flash"]["weights"]
    row["MACs"] = doc["macs"]
    return row


def main() -> None:
    models_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "models"
    rows = [figures(models_dir, m) for m in MODELS]
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for r in rows:
        cells = [f"{v:.2e}" if isinstance(v, float) else (f"{v:,}" if isinstance(v, int) and not isinstance(v, bool)
                                                          else str(v)) for v in r.values()]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
