"""The shared real models (../shared/models) and what the tests know about them from its README."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

# ../shared/models beside the checkout, or TINYC_MODELS.
MODELS_DIR = Path(os.environ.get("TINYC_MODELS") or Path(__file__).resolve().parents[2] / "shared" / "models")

MODELS = ["kws_dscnn", "vww_mobilenetv1", "ic_resnet8", "ad_fc_autoencoder", "kws_arm_dnn_s",
          "kws_arm_gru_s", "kws_arm_basic_lstm_s", "mnist8_cnn", "sine_mlp"]
CLASSIFIERS = {"kws_dscnn", "vww_mobilenetv1", "ic_resnet8", "kws_arm_dnn_s", "kws_arm_gru_s",
               "kws_arm_basic_lstm_s", "mnist8_cnn"}
# TensorFlow Lite Micro's planned activation memory ("head"), from the models README.
TFLM_HEAD = {"kws_dscnn": 16_000, "vww_mobilenetv1": 73_728, "ic_resnet8": 49_152, "ad_fc_autoencoder": 768}


def model_path(name: str) -> Path:
    path = MODELS_DIR / f"{name}.onnx"
    if not path.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"shared model {path} not found (set TINYC_MODELS)")
        pytest.skip(f"shared models not found at {MODELS_DIR} (set TINYC_MODELS)")
    return path


def samples(name: str) -> dict[str, np.ndarray]:
    with np.load(MODELS_DIR / "samples" / f"{name}_samples.npz") as data:
        return {k: data[k] for k in data.files}


def sample_inputs(name: str, input_name: str, shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    """The README's samples as {input: (S, *model shape)} float32."""
    x = samples(name)["input"].astype(np.float32)
    return {input_name: x.reshape(len(x), *shape)}
