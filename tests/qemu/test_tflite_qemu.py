"""The four MLPerf Tiny int8 .tflite models as firmware on mps2-an386 (Cortex-M4) under QEMU: bit for bit
equal to TensorFlow Lite Micro's interpreter on 32 seeded random int8 inputs each."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.host.test_tflite_models import expected
from tests.tflm import MLPERF, TFLITE_DIR
from tinyc import pipeline, runners


@pytest.mark.parametrize("name", MLPERF)
def test_firmware_equals_tflm_bit_for_bit(name):
    need_tool("arm-none-eabi-gcc")
    need_tool("qemu-system-arm")
    c = pipeline.build(TFLITE_DIR / MLPERF[name], pipeline.Options(dtype="int8", board="mps2-an386"))
    x, want = expected(name)
    got, measured = runners.run_board(c, {c.graph.inputs[0]: x})
    assert np.array_equal(got[c.graph.outputs[0]], want), f"{np.sum(got[c.graph.outputs[0]] != want)} values differ"
    assert measured["instructions"] > 0
