"""The int8 reductions and normalizations (tinyc_reduce_s8, tinyc_normalize_s8 and the integer inverse
square root) as bare-metal firmware on Cortex-M4 (mps2-an386) and Cortex-M3 (mps2-an385): equal to
ref_int8 bit for bit on the cases of tests/host/test_reduce_norm_int8.py."""

from __future__ import annotations

import pytest

from tests.conftest import need_tool
from tests.host.test_reduce_norm_int8 import int8_bundle
from tests.qemu.test_conv_fast_qemu import BOARDS, run_on


@pytest.fixture(autouse=True)
def _tools():
    need_tool("arm-none-eabi-gcc")
    need_tool("qemu-system-arm")


@pytest.mark.parametrize("board", BOARDS)
def test_int8_reductions_and_normalizations_on_board_equal_the_reference(board):
    run_on(*int8_bundle(3), board)
