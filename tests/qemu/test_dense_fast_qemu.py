"""tinyc_dense_s8 and the sparse kernels as bare-metal firmware: the Helium paths (Cortex-M55, mps3-an547), the
DSP paths (the M55 built +nomve, Cortex-M4 mps2-an386) and the portable paths (Cortex-M3, mps2-an385) equal
ref_int8 bit for bit on every odd shape, zero point and near-limit sum of tests/host/test_dense_fast.py and
test_sparse_conv_fast.py, one firmware per board."""

from __future__ import annotations

import pytest

import numpy as np

from tests.conftest import need_tool
from tests.host.test_dense_fast import clipped_bias_graph, extreme_graph, int8_dense_bundle, sparse_bundle, table_bundle
from tinyc import interpreter, pipeline, runners
from tinyc.board import load_board
from tinyc.ir import Graph
from tinyc.passes.plan import plan_memory

# A board, or a board and extra compiler flags: "mps3-an547+nomve" is the Cortex-M55 without Helium (its DSP paths)
BOARDS = ("mps3-an547", "mps3-an547+nomve", "mps2-an386", "mps2-an385")
FLAGS = {"mps3-an547+nomve": ("mps3-an547", ["-mcpu=cortex-m55+nomve"])}


def run_on(g: Graph, calib: dict[str, np.ndarray], board: str) -> None:
    """g's firmware on a board of BOARDS (or FLAGS) under QEMU equals ref_int8 bit for bit."""
    name, flags = FLAGS.get(board, (board, []))
    planned, plan = plan_memory(g)
    c = pipeline.Compiled(g.name, g, planned, plan, [], load_board(name))
    feeds = runners.feeds_for(c.graph, calib)
    got, measured = runners.run_board(c, feeds, flags)
    want = interpreter.run_samples(c.graph, feeds)
    for out in c.graph.outputs:
        assert np.array_equal(got[out], want[out]), f"{board} {out}: {np.sum(got[out] != want[out])} differ"
    assert measured["instructions"] > 0


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
