"""The fast depthwise 3x3 and pointwise kernels as bare-metal firmware: the DSP path (Cortex-M4,
mps2-an386) and the portable path (Cortex-M3, mps2-an385) equal ref_int8 bit for bit on every case of
tests/host/test_depthwise_fast.py (strides 1 and 2, asymmetric pads, multiplier 2, Ci 8), one
firmware per board."""

from __future__ import annotations

import pytest

from tests.conftest import need_tool
from tests.host.test_depthwise_fast import fast_bundle
from tests.qemu.test_conv_fast_qemu import run_on

BOARDS = ("mps2-an386", "mps2-an385")


@pytest.fixture(autouse=True)
def _tools():
    need_tool("arm-none-eabi-gcc")
    need_tool("qemu-system-arm")


@pytest.mark.parametrize("board", BOARDS)
def test_depthwise_and_pointwise_cases_on_board_equal_the_reference(board):
    run_on(*fast_bundle(samples=3), board)
