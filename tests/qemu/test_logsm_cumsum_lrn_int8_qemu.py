"""The int8 log softmax (TFLM's rule), cumulative sum and local response normalization as bare-metal firmware
on Cortex-M4 (mps2-an386) and Cortex-M3 (mps2-an385): equal to ref_int8 bit for bit on the cases of
tests/host/test_logsm_cumsum_lrn_int8_c.py."""

from __future__ import annotations

import pytest

from tests.conftest import need_tool
from tests.host.test_logsm_cumsum_lrn_int8_c import int8_bundle
from tests.qemu.test_conv_fast_qemu import BOARDS, run_on


@pytest.fixture(autouse=True)
def _tools():
    need_tool("arm-none-eabi-gcc")
    need_tool("qemu-system-arm")


@pytest.mark.parametrize("board", BOARDS)
def test_int8_log_softmax_cumsum_and_lrn_on_board_equal_the_reference(board):
    run_on(*int8_bundle(3), board)
