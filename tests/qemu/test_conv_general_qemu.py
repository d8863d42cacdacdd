"""The general int8 conv (tinyc_conv2d_s8) as bare-metal firmware: the Helium path (Cortex-M55, mps3-an547,
and built +nomve), the DSP path (Cortex-M4, mps2-an386) and the portable path (Cortex-M3, mps2-an385) equal
ref_int8 bit for bit on every odd shape of tests/host/test_conv_general.py, one firmware per board."""

from __future__ import annotations

import pytest

from tests.conftest import need_tool
from tests.host.test_conv_general import int8_general_bundle
from tests.qemu.test_conv_fast_qemu import BOARD_IDS, BOARDS, run_on


@pytest.fixture(autouse=True)
def _tools():
    need_tool("arm-none-eabi-gcc")
    need_tool("qemu-system-arm")


@pytest.mark.parametrize("board", BOARDS, ids=BOARD_IDS)
def test_general_conv_layers_on_board_equal_the_reference(board):
    run_on(*int8_general_bundle(samples=2), board)
