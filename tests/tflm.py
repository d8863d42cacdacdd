"""TensorFlow Lite Micro as the reference for .tflite models: its interpreter (pip tflite-micro, TFLM's
reference kernels) run on seeded random int8 inputs, and the shared MLPerf Tiny int8 models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.models import MODELS_DIR

TFLITE_DIR = MODELS_DIR / "tflite_int8"  # ../shared/models beside the checkout, or TINYC_MODELS
MLPERF = {"ad": "ad01_int8.tflite", "kws": "kws_ref_model_int8.tflite", "resnet": "pretrainedResnet_quant.tflite",
          "vww": "vww_96_int8.tflite"}


def runtime():
    return pytest.importorskip("tflite_micro.python.tflite_micro.runtime", reason="pip install tflite-micro")


def random_inputs(shapes: list[tuple], dtypes: list, count: int, seed: int) -> list[np.ndarray]:
    """count inputs per model input: int8 over the whole range, float32 standard normal."""
    rng = np.random.default_rng(seed)
    return [rng.integers(-128, 128, (count, *s), dtype=np.int8) if np.dtype(d) == np.int8
            else rng.standard_normal((count, *s)).astype(np.float32) for s, d in zip(shapes, dtypes)]


def run_tflm(model: str | Path | bytes, inputs: list[np.ndarray], outputs: int = 1) -> list[np.ndarray]:
    """TFLM's outputs, stacked over the samples (inputs: one array per model input, leading sample axis)."""
    rt = runtime()
    interp = (rt.Interpreter.from_bytes(model) if isinstance(model, (bytes, bytearray))
              else rt.Interpreter.from_file(str(model)))
    outs: list[list[np.ndarray]] = []
    for k in range(len(inputs[0])):
        interp.reset()  # variable tensors (an LSTM's state) start each sample at zero
        for i, x in enumerate(inputs):
            interp.set_input(x[k], i)
        interp.invoke()
        outs.append([np.array(interp.get_output(j)) for j in range(outputs)])
    return [np.stack([o[j] for o in outs]) for j in range(len(outs[0]))]
