"""Zoo models quantized by onnxruntime.quantization.quantize_static, and how tinyc's int8 output agrees
with onnxruntime's own execution of the same file (in output quantization steps).

Shared by tests/host/test_ort_quantized.py and scripts that print the agreement table."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.zoo_models import feeds_of, path_of
from tinyc import interpreter, quant


def quantized_file(name: str, out_dir: Path, fmt: str = "qdq", activations: str = "int8",
                   per_channel: bool = True) -> Path:
    """quantize_static of zoo model `name` (fmt qdq or qoperator), calibrated on its seeded inputs."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    feeds = feeds_of(name)

    class Samples(CalibrationDataReader):
        def __init__(self):
            self.left = iter([{k: v[i] for k, v in feeds.items()} for i in range(len(next(iter(feeds.values()))))])

        def get_next(self):
            return next(self.left, None)

    out = out_dir / f"{Path(name).stem}_{fmt}_{activations}.onnx"
    quantize_static(str(path_of(name)), str(out), Samples(),
                    quant_format=QuantFormat.QDQ if fmt == "qdq" else QuantFormat.QOperator,
                    per_channel=per_channel, weight_type=QuantType.QInt8,
                    activation_type=QuantType.QInt8 if activations == "int8" else QuantType.QUInt8)
    return out


def onnxruntime_outputs(path: Path, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """onnxruntime's float outputs, sample by sample, with its default optimizations (what a user runs:
    QDQ groups fused into its integer kernels)."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    count = len(next(iter(feeds.values())))
    runs = [sess.run(names, {k: v[i] for k, v in feeds.items()}) for i in range(count)]
    return {n: np.stack([r[k] for r in runs]) for k, n in enumerate(names)}


def on_grid(g, samples: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The samples moved onto tinyc's int8 input grid, so both engines see the same integers (onnxruntime
    rounds an input half to even, tinyc half away from zero: a tie would differ before any kernel)."""
    feeds = interpreter.feeds_for(g, samples)
    return {n: quant.dequantize_array(feeds[n], g.tensors[n].q) for n in g.inputs}


def steps(g, got: dict[str, np.ndarray], ort_out: dict[str, np.ndarray]) -> np.ndarray:
    """|tinyc - onnxruntime| in output quantization steps, every output element of every sample."""
    diffs = []
    for n in g.outputs:
        q = g.tensors[n].q
        mine = (got[n].astype(np.float64) - q.zero_point[0]) * q.scale[0]
        diffs.append(np.abs(mine - ort_out[n].astype(np.float64)).reshape(-1) / q.scale[0])
    return np.concatenate(diffs)
