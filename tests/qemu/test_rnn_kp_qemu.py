"""gru_kp as firmware under QEMU: int8 bit-exact with the reference on mps2-an386 (M4) and mps2-an385
(M3), on the digits GRU factored by the kronecker pass and on an odd-shaped node (linear_before_reset 0,
reverse, batch 3); float32 close on mps2-an386."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.helpers import random_samples
from tests.host.test_rnn_kp_kernels import gru_kp_graph
from tinyc import interpreter, pipeline, runners
from tinyc.board import load_board
from tinyc.passes.kronecker import kronecker
from tinyc.passes.plan import plan_memory
from tinyc.passes.quantize import quantize

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(autouse=True)
def _tools():
    need_tool("arm-none-eabi-gcc")
    need_tool("qemu-system-arm")


def compiled(float_graph, graph, board: str) -> pipeline.Compiled:
    graph, plan = plan_memory(graph)
    return pipeline.Compiled(float_graph.name, float_graph, graph, plan, [], load_board(board))


def digits_kp():
    g = kronecker(pipeline.frontend(EXAMPLES / "digits_gru.onnx"), "auto", trained=True)
    x = np.load(EXAMPLES / "digits_calib_gru.npz")["input"]
    return g, {g.inputs[0]: x[:64]}, {g.inputs[0]: x[64:70]}


def odd_node():
    g = gru_kp_graph(10, 15, ((3, 5), (10, 3), (6, 2), (5, 5)), 6, 3, 0, "reverse", True)
    return g, random_samples(g, 8, seed=1), random_samples(g, 4, seed=2, lo=-1.5, hi=1.5)


@pytest.mark.parametrize("board", ["mps2-an386", "mps2-an385"])
@pytest.mark.parametrize("case", [digits_kp, odd_node], ids=["digits_gru", "odd_reverse_batch3"])
def test_gru_kp_int8_on_qemu_equals_reference(board, case):
    g, calib, samples = case()
    q = quantize(g, calib)
    feeds = runners.feeds_for(q, samples)
    on_board, measured = runners.run_board(compiled(g, q, board), feeds)
    ref = interpreter.run_samples(q, feeds)
    for out in q.outputs:
        assert np.array_equal(on_board[out], ref[out]), f"{out}: {np.sum(on_board[out] != ref[out])} values differ"
    assert measured["instructions"] > 0


def test_gru_kp_float_on_qemu_matches_reference():
    g, _, samples = odd_node()
    on_board, _ = runners.run_board(compiled(g, g, "mps2-an386"), samples)
    ref = interpreter.run_samples(g, samples)
    for out in g.outputs:
        assert np.abs(on_board[out] - ref[out]).max() <= 1e-4 * max(1.0, float(np.abs(ref[out]).max()))
