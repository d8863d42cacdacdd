"""The fast depthwise 3x3 and pointwise kernels as bare-metal firmware: the Helium path (Cortex-M55,
mps3-an547, and built +nomve), the DSP path (Cortex-M4, mps2-an386) and the portable path (Cortex-M3,
mps2-an385) equal ref_int8 bit for bit on every case of tests/host/test_depthwise_fast.py (strides 1 and 2,
asymmetric pads, multiplier 2, Ci 8), one firmware per board."""

from __future__ import annotations

import pytest

from tests.conftest import need_tool
from tests.host.test_depthwise_fast import fast_bundle
from tests.qemu.test_conv_fast_qemu import BOARD_IDS, BOARDS, run_on


@pytest.fixture(autouse=True)
def _tools():
    need_tool("arm-none-eabi-gcc")
    need_tool("qemu-system-arm")


@pytest.mark.parametrize("board", BOARDS, ids=BOARD_IDS)
def test_depthwise_and_pointwise_cases_on_board_equal_the_reference(board):
    run_on(*fast_bundle(samples=3), board)


def test_helium_depthwise_without_its_asm_loop_equals_the_reference():
    """The M55 built without TINYC_MVE_ASM (a firmware with a frame pointer): the flat layout's C loops and
    the short requantize of the common channel, which the asm loop replaces in the board's own build."""
    run_on(*fast_bundle(samples=3), ("mps3-an547", ("-UTINYC_MVE_ASM",)))
