"""Zoo models in int8 (tests/zoo_int8.py) as firmware under QEMU on mps2-an386 (Cortex-M4, DSP kernels),
mps2-an385 (Cortex-M3, portable kernels) and mps3-an547 (Cortex-M55, compiled for that board: Helium kernels
and weight layouts): bit for bit the reference interpreter, as on the host. The default run takes one model of
each kind; TINYC_ZOO_FULL=1 runs every zoo file on every board."""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.qemu.test_zoo_qemu import DEFAULT
from tests.zoo_int8 import compiled, judged_inputs
from tests.zoo_models import FILES
from tinyc import interpreter, runners
from tinyc.board import load_board

MODELS = FILES if os.environ.get("TINYC_ZOO_FULL") == "1" else DEFAULT
BOARDS = ("mps2-an386", "mps2-an385", "mps3-an547")
COMPILED_FOR_BOARD = ("mps3-an547",)  # compiled with --board: the board decides kernels and weight layouts


@pytest.fixture(autouse=True)
def _tools():
    need_tool("arm-none-eabi-gcc")
    need_tool("qemu-system-arm")


@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("name", MODELS)
def test_zoo_model_in_int8_on_board_equals_the_reference(name, board):
    c = compiled(name, board) if board in COMPILED_FOR_BOARD else replace(compiled(name), board=load_board(board))
    feeds = interpreter.feeds_for(c.graph, judged_inputs(name))
    ref = interpreter.run_samples(c.graph, feeds)
    got, measured = runners.run_board(c, feeds)
    for out in c.graph.outputs:
        assert np.array_equal(got[out], ref[out]), out
    assert measured["instructions"] > 0
