"""tinyc_dense_s8 and the sparse kernels as bare-metal firmware: the DSP paths (Cortex-M4, mps2-an386)
and the portable paths (Cortex-M3, mps2-an385) equal ref_int8 bit for bit on every odd shape, zero point
and near-limit sum of tests/host/test_dense_fast.py and test_sparse_conv_fast.py, one firmware per board."""

from __future__ import annotations

import pytest

from tests.conftest import need_tool
from tests.qemu.test_conv_fast_qemu import run_on
from tests.host.test_dense_fast import clipped_bias_graph, extreme_graph, int8_dense_bundle, sparse_bundle, table_bundle

BOARDS = ("mps2-an386", "mps2-an385")


@pytest.fixture(autouse=True)
def _tools():
    need_tool("arm-none-eabi-gcc")
    need_tool("qemu-system-arm")


@pytest.mark.parametrize("board", BOARDS)
def test_odd_dense_layers_on_board_equal_the_reference(board):
    run_on(*int8_dense_bundle(samples=3), board)


@pytest.mark.parametrize("board", BOARDS)
def test_near_limit_dense_sums_on_board_equal_the_reference(board):
    run_on(*extreme_graph(), board)


@pytest.mark.parametrize("board", BOARDS)
def test_clipped_bias_on_board_equals_the_reference(board):
    run_on(*clipped_bias_graph(), board)


@pytest.mark.parametrize("board", BOARDS)
def test_odd_sparse_dense_layers_on_board_equal_the_reference(board):
    run_on(*sparse_bundle(samples=3), board)


@pytest.mark.parametrize("board", BOARDS)
def test_odd_sparse_conv_layers_on_board_equal_the_reference(board):
    from tests.host.test_sparse_conv_fast import clipped_bias_conv_cases, conv_cases
    from tests.host.test_sparse_kernels import int8_bundle

    run_on(*int8_bundle(conv_cases() + clipped_bias_conv_cases(), samples=2, seed=2), board)


@pytest.mark.parametrize("n", [1, 2])
@pytest.mark.parametrize("board", BOARDS)
def test_table_layers_on_board_equal_the_reference(board, n):
    """1:4 and 2:4 layers through tinyc_dense_nm_table_s8 (remainder groups, rows 1..7, clipped bias)."""
    run_on(*table_bundle(n, samples=2), board)
