"""The fast int8 add/sub/mul loops as bare-metal firmware: SMMULR/SSAT (Cortex-M4, mps2-an386) and the
portable path (Cortex-M3, mps2-an385) equal ref_int8 bit for bit on the cases of
tests/host/test_elementwise_fast.py (an odd length, so the 4-element passes leave a remainder)."""

from __future__ import annotations

import pytest

from tests.host.test_elementwise_fast import fast_bundle, in_place_chain
from tests.host.test_pool_fast import pool_bundle
from tests.qemu.test_conv_fast_qemu import BOARDS, run_on


@pytest.mark.parametrize("board", BOARDS)
def test_fast_binary_loops_on_board_equal_the_reference(board):
    run_on(*fast_bundle((1, 5, 3, 7), 3), board)


@pytest.mark.parametrize("board", BOARDS)
def test_avgpool_sums_on_board_equal_the_reference(board):
    run_on(*pool_bundle(3), board)


@pytest.mark.parametrize("board", BOARDS)
def test_a_chain_planned_in_place_on_board_equals_the_reference(board):
    run_on(*in_place_chain(3), board)
