"""Zoo models quantized by onnxruntime (tests/ort_quantized.py) as firmware under QEMU on mps2-an386 (Cortex-M4,
DSP kernels) and mps2-an385 (Cortex-M3, portable kernels): bit for bit the reference interpreter. The
transformer's files exercise what only such files get: multipliers that round once, softmax onto the file's
1/255, the bias add the file quantizes apart, GELU's erf(x / sqrt 2) as one table; resnet the conv kernels
with those multipliers."""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.ort_quantized import eval_samples, on_grid, quantized_file
from tests.zoo_models import feeds_of
from tinyc import interpreter, pipeline, runners
from tinyc.board import load_board

BOARDS = ("mps2-an386", "mps2-an385")
SAMPLES = 4


@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("model,form", [("kwt_classic17", "qdq"), ("kwt_classic13", "qoperator"),
                                        ("resnet_classic13", "qdq")])
def test_onnxruntime_quantized_model_on_board_equals_the_reference(model, form, board, tmp_path):
    need_tool("arm-none-eabi-gcc")
    need_tool("qemu-system-arm")
    logging.disable(logging.WARNING)  # onnxruntime's quantizer advises pre-processing on every call
    path = quantized_file(model + ".onnx", tmp_path, form)
    c = pipeline.build(path, pipeline.Options(dtype="int8", calib=feeds_of(model + ".onnx"), name="model"))
    c = replace(c, board=load_board(board))
    x = {k: v[:SAMPLES] for k, v in on_grid(c.graph, eval_samples(model + ".onnx")).items()}
    feeds = interpreter.feeds_for(c.graph, x)
    ref = interpreter.run_samples(c.graph, feeds)
    got, _ = runners.run_board(c, feeds)
    for out in c.graph.outputs:
        assert np.array_equal(got[out], ref[out]), f"{board} {out}: {np.sum(got[out] != ref[out])} differ"
