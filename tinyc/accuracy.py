"""Top-1 accuracy of a float or int8 IR graph on labelled samples, run in the reference interpreter.

Reads labelled files (--eval) but never prints or writes; the pipeline and CLI report the numbers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tinyc import interpreter, io, quant
from tinyc.errors import BadInput
from tinyc.ir import Graph
from tinyc.progress import Progress, silent


def accuracy(g: Graph, samples: dict[str, np.ndarray], labels: np.ndarray, progress: Progress = silent) -> float:
    """Percent of samples whose first output's argmax is the label; samples are float32 in model
    units with a leading sample axis (quantized with g's input parameters for an int8 graph)."""
    feeds = interpreter.feeds_for(g, samples)
    count = len(labels)
    assert all(len(v) == count for v in feeds.values()), f"{count} labels for {[len(v) for v in feeds.values()]}"
    out = g.outputs[0]
    # argmax of int8 outputs is that of the real values: dequantizing is increasing (scale > 0)
    dtype = "int8" if g.is_int8 else "float32"
    predicted = [int(np.argmax(interpreter.run(g, {k: v[i] for k, v in feeds.items()})[out]))
                 for i in progress(range(count), f"accuracy ({dtype})", count)]
    return float(np.mean(np.array(predicted) == labels) * 100.0) if count else 0.0


CLASSIFIER_MAX_CLASSES = 100  # a first output with more values per sample is a signal (autoencoder, map), not scores


def agreement(float_graph: Graph, compiled: Graph, samples: dict[str, np.ndarray],
              progress: Progress = silent) -> tuple[str, float]:
    """How far the compiled graph agrees with the float one on unlabelled samples, in percent (100 = the same):
    ("top class", share of samples whose argmax matches) for a classifier (a first output of at most
    CLASSIFIER_MAX_CLASSES values, rank <= 2); else ("output", 100 - relative RMS error % of the outputs)."""
    out = float_graph.outputs[0]
    count = len(next(iter(samples.values())))
    reference = interpreter.run_samples(float_graph, samples)[out].reshape(count, -1).astype(np.float64)
    feeds = interpreter.feeds_for(compiled, samples)
    t = compiled.tensors[compiled.outputs[0]]
    got = np.stack([interpreter.run(compiled, {k: v[i] for k, v in feeds.items()})[compiled.outputs[0]]
                    for i in progress(range(count), "agreement with float", count)]).reshape(count, -1)
    if t.dtype == "int8":  # real values: (q - zero_point) * scale
        got = quant.dequantize_array(got, t.q).astype(np.float64)
    shape = float_graph.tensors[out].shape
    if reference.shape[1] <= CLASSIFIER_MAX_CLASSES and len(shape) <= 2:
        return "top class", float(np.mean(reference.argmax(1) == got.argmax(1)) * 100.0)
    rms = float(np.sqrt(np.mean(reference ** 2))) or 1.0
    return "output", 100.0 - float(np.sqrt(np.mean((got - reference) ** 2))) / rms * 100.0


def load_labelled(path: str | Path, float_graph: Graph) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """(samples, labels) from an .npz holding the inputs (as --input) and "labels", int (S,)."""
    samples = io.load_samples(path, float_graph)
    data = np.load(path, allow_pickle=False)  # load_samples has checked that it loads
    labels = None
    if not isinstance(data, np.ndarray):
        with data:
            labels = data["labels"] if "labels" in data.files else None
    if labels is None:
        raise BadInput(f"{path}: no 'labels' array; --eval takes an .npz with the inputs and 'labels' "
                       "(one integer class per sample)")
    if labels.dtype.kind not in "iu" or labels.ndim != 1:
        raise BadInput(f"{path}: 'labels' is {labels.dtype} of shape {list(labels.shape)}; "
                       "expected one integer class per sample")
    if len(labels) != samples.count:
        raise BadInput(f"{path}: {len(labels)} labels for {samples.count} samples")
    return samples.arrays, labels.astype(np.int64)
