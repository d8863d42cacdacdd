"""tinyc_lstm_s8 and tinyc_gru_s8 as bare-metal firmware: the DSP path (Cortex-M4, mps2-an386; Cortex-M7,
mps2-an500; the M55 built +nomve), the MVE path (Cortex-M55, mps3-an547) and the portable path (Cortex-M3,
mps2-an385) equal ref_int8 bit for bit on shapes that reach every part of the packed-weight walk: groups of 8
columns, a tail of 4..7 and of 1..3 columns, an odd H (the GRU's lone z and r rows), H % 4 lone candidate rows,
saturated gates. The default run takes three cases a board; TINYC_RNN_FULL=1 runs every case on every board."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.helpers import quantize_graph
from tests.unit.test_rnn_ops import one_node
from tinyc import interpreter, pipeline, runners
from tinyc.board import load_board
from tinyc.passes.plan import plan_memory

# (board, extra compiler flags): a later -mcpu wins, so +nomve keeps the M55's DSP path only
BUILDS = [("mps2-an386", []), ("mps2-an385", []), ("mps3-an547", []), ("mps3-an547", ["-mcpu=cortex-m55+nomve"]),
          ("mps2-an500", [])]
IDS = ["m4-dsp", "m3-portable", "m55-mve", "m55-nomve", "m7-dsp"]
# (op, linear_before_reset, T, I, H, amplitude): I, H past 8 with tails of 5 and 6 / 5 and 2 / 3 and 7
CASES = [("lstm", 0, 3, 13, 13, 8.0), ("gru", 0, 3, 14, 10, 1.0), ("gru", 1, 2, 11, 15, 8.0),
         ("lstm", 0, 2, 3, 9, 1.0), ("gru", 0, 2, 9, 7, 8.0), ("gru", 1, 3, 16, 17, 1.0)]
DEFAULT = CASES[:3]


@pytest.fixture(autouse=True)
def _tools():
    need_tool("arm-none-eabi-gcc")
    need_tool("qemu-system-arm")


def _case_graph(op, lbr, t, i, h, amplitude):
    g = one_node(op, lbr, t, i, h, seed=t * 7 + h, states="input", scale=0.5 if amplitude == 1.0 else 3.0)
    rng = np.random.default_rng(i)
    samples = {n: rng.uniform(-amplitude, amplitude, (2, *g.tensors[n].shape)).astype(np.float32) for n in g.inputs}
    return quantize_graph(g, samples), samples


def _equal_on(compiled, feeds, board, flags):
    compiled = dataclasses.replace(compiled, board=load_board(board))
    got, measured = runners.run_board(compiled, feeds, flags)
    want = interpreter.run_samples(compiled.graph, feeds)
    for name in compiled.graph.outputs:
        differ = np.sum(got[name] != want[name])
        assert not differ, f"{board} {flags} {name}: {differ} differ"
    assert measured["instructions"] > 0


@pytest.mark.parametrize("case", CASES if os.environ.get("TINYC_RNN_FULL") == "1" else DEFAULT, ids=str)
@pytest.mark.parametrize("build", BUILDS, ids=IDS)
def test_int8_rnn_kernels_on_board_equal_the_reference(case, build):
    q, samples = _case_graph(*case)
    planned, plan = plan_memory(q)
    compiled = pipeline.Compiled(q.name, q, planned, plan, [], load_board(build[0]))
    _equal_on(compiled, runners.feeds_for(q, samples), *build)


@pytest.mark.parametrize("op", ["LSTM", "GRU"])
@pytest.mark.parametrize("build", BUILDS[2:4], ids=IDS[2:4])
def test_int8_bidirectional_batched_rnn_on_m55_equals_the_reference(op, build, tmp_path):
    """tests/qemu/test_int8_ops_qemu.py's bidirectional, batched cells (M4 and M3 there) on the M55."""
    from tests.qemu.test_int8_ops_qemu import bidirectional_batched_rnn

    _equal_on(*bidirectional_batched_rnn(op, tmp_path), *build)
