"""The fast int8 conv paths as bare-metal firmware: the Helium path (Cortex-M55, mps3-an547), the M55 built
+nomve (DSP only), the DSP path (Cortex-M4, mps2-an386) and the portable path (Cortex-M3, mps2-an385) equal
ref_int8 bit for bit on every odd pointwise and depthwise shape, zero
point and near-limit sum of tests/host/test_conv_fast.py, one firmware per board; the chunked conv a core with
Helium gets (tests/host/test_conv_chunked.py) on the M55 with Helium and +nomve."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.host.test_conv_chunked import general_bundle_for_helium, int8_chunked_bundle
from tests.host.test_conv_fast import extreme_graph, int8_conv_bundle
from tinyc import interpreter, pipeline, runners
from tinyc.board import load_board
from tinyc.ir import Graph
from tinyc.passes.plan import plan_memory

# (board, extra compiler flags): the M55 twice, with Helium and built +nomve (its DSP path)
BOARDS = (("mps3-an547", ()), ("mps3-an547", ("-mcpu=cortex-m55+nomve",)), ("mps2-an386", ()), ("mps2-an385", ()))
BOARD_IDS = ["m55-mve", "m55-nomve", "m4-dsp", "m3"]


@pytest.fixture(autouse=True)
def _tools():
    need_tool("arm-none-eabi-gcc")
    need_tool("qemu-system-arm")


def run_on(g: Graph, calib: dict[str, np.ndarray], board: str | tuple[str, tuple[str, ...]]) -> None:
    """board: a name, or (name, extra compiler flags) as in BOARDS."""
    board, flags = (board, ()) if isinstance(board, str) else board
    planned, plan = plan_memory(g)
    c = pipeline.Compiled(g.name, g, planned, plan, [], load_board(board))
    feeds = runners.feeds_for(c.graph, calib)
    got, measured = runners.run_board(c, feeds, list(flags) or None)
    want = interpreter.run_samples(c.graph, feeds)
    for name in c.graph.outputs:
        assert np.array_equal(got[name], want[name]), f"{board} {name}: {np.sum(got[name] != want[name])} differ"
    assert measured["instructions"] > 0


@pytest.mark.parametrize("board", BOARDS, ids=BOARD_IDS)
def test_odd_conv_layers_on_board_equal_the_reference(board):
    run_on(*int8_conv_bundle(samples=3), board)


@pytest.mark.parametrize("board", BOARDS, ids=BOARD_IDS)
def test_near_limit_pointwise_sums_on_board_equal_the_reference(board):
    run_on(*extreme_graph(), board)


@pytest.mark.parametrize("board", BOARDS[:2], ids=BOARD_IDS[:2])
def test_chunked_conv_layers_on_the_m55_equal_the_reference(board):
    run_on(*int8_chunked_bundle(samples=3), board)


@pytest.mark.parametrize("board", BOARDS[:2], ids=BOARD_IDS[:2])
def test_chunked_conv_on_the_general_shapes_on_the_m55_equals_the_reference(board):
    run_on(*general_bundle_for_helium(samples=2), board)


def test_chunked_conv_without_the_asm_loop_on_the_m55_equals_the_reference():
    """The intrinsics loop a build without TINYC_MVE_ASM (or at -Os) takes instead of the asm one."""
    run_on(*int8_chunked_bundle(samples=2), ("mps3-an547", ("-UTINYC_MVE_ASM",)))
