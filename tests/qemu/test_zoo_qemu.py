"""Zoo models (tests/zoo/) as float32 firmware for mps2-an386 (Cortex-M4F) under QEMU: within the
tolerance of onnxruntime, as on the host. The default run takes one model of each kind (convolutional,
transformer, U-Net, recurrent, transposed convolution, temporal convolution, Keras); TINYC_ZOO_FULL=1 runs every
zoo file (slower, see tests/zoo/README.md)."""

from __future__ import annotations

import os

import pytest

from tests.conformance import TOLERANCE
from tests.conftest import need_tool
from tests.zoo_models import FILES, feeds_of, path_of, reference, worst_error
from tinyc import pipeline, runners

BOARD = "mps2-an386"
DEFAULT = ["mobilenetv3_classic17.onnx", "resnet_classic13nofold.onnx", "keras_cnn_tf2onnx.onnx",
           "kwt_dynamo18.onnx", "unet_classic17.onnx", "bilstm_classic13.onnx", "autoencoder_dynamo18.onnx",
           "tcn_classic17.onnx"]
MODELS = FILES if os.environ.get("TINYC_ZOO_FULL") == "1" else DEFAULT


@pytest.fixture(autouse=True)
def _tools():
    need_tool("arm-none-eabi-gcc")
    need_tool("qemu-system-arm")


@pytest.mark.parametrize("name", MODELS)
def test_zoo_model_on_board_matches_onnxruntime(name):
    compiled = pipeline.build(path_of(name), pipeline.Options(dtype="float32", name="model", board=BOARD))
    feeds = feeds_of(name)
    got, measured = runners.run_board(compiled, feeds)
    assert worst_error(got, reference(name, feeds)) <= TOLERANCE
    assert measured["instructions"] > 0
