"""int8 div, min, where and the bidirectional, batched LSTM and GRU as bare-metal firmware: Cortex-M4 with
DSP (mps2-an386) and Cortex-M3 without (mps2-an385) equal ref_int8 bit for bit, on the cases' samples and
random int8 inputs over the whole range (zero divisors, saturation)."""

from __future__ import annotations

import dataclasses

import numpy as np
import onnx
import pytest

from tests.host.test_int8_ops_c import int8_feeds
from tests.host.test_rnn_directions_int8 import _model
from tests.int8_op_cases import compile_int8
from tinyc import interpreter, pipeline, runners
from tinyc.board import load_board

BOARDS = ("mps2-an386", "mps2-an385")  # Cortex-M4 with DSP, M3 without


def _on_board(compiled, feeds, board):
    compiled = dataclasses.replace(compiled, board=load_board(board))
    got, _ = runners.run_board(compiled, feeds)
    want = interpreter.run_samples(compiled.graph, feeds)
    for name in compiled.graph.outputs:
        assert np.array_equal(got[name], want[name]), f"{board} {name}: {np.sum(got[name] != want[name])} differ"


@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("name", ["div_broadcast_negative", "min_broadcast", "where_two"])
def test_int8_binary_ops_on_board_equal_the_reference(name, board, tmp_path):
    compiled, _, x = compile_int8(name, tmp_path)
    _on_board(compiled, int8_feeds(compiled, x), board)


@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("op", ["LSTM", "GRU"])
def test_int8_bidirectional_batched_rnn_on_board_equals_the_reference(op, board, tmp_path):
    compiled, feeds = bidirectional_batched_rnn(op, tmp_path)
    _on_board(compiled, feeds, board)


def bidirectional_batched_rnn(op: str, tmp_path):
    """A bidirectional LSTM or GRU of batch 2 compiled int8 on 3 random samples, and its int8 feeds."""
    model = _model(op, "bidirectional", 2)
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    rng = np.random.default_rng(5)
    x = {vi.name: rng.uniform(-1, 1, (3, *[d.dim_value for d in vi.type.tensor_type.shape.dim])).astype(np.float32)
         for vi in model.graph.input}
    compiled = pipeline.build(path, pipeline.Options(dtype="int8", calib=x))
    return compiled, runners.feeds_for(compiled.graph, x)
