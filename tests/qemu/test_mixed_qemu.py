"""A mixed-precision model as bare-metal firmware on Cortex-M4 (mps2-an386, single-precision FPU): int8
layers, a float32 dense and a float32 LogSoftmax (newlib's expf/logf) inside, within MIXED_STEPS of the
reference; Max in float32 (exact arithmetic) bit for bit."""

from __future__ import annotations

import numpy as np
import onnx

from tests.conftest import need_tool
from tests.mixed_models import max_mlp, outlier_mlp, samples, without_int8_form
from tinyc import interpreter, pipeline, runners
from tinyc.selftest import MIXED_STEPS


def _board_and_ref(model, tmp_path, **kw):
    need_tool("arm-none-eabi-gcc")
    need_tool("qemu-system-arm")
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    c = pipeline.build(path, pipeline.Options(dtype="int8", calib={"x": samples(64)}, board="mps2-an386", **kw))
    feeds = interpreter.feeds_for(c.graph, {"x": samples(8, seed=9)})
    out = c.graph.outputs[0]
    return runners.run_board(c, feeds)[0][out], interpreter.run_samples(c.graph, feeds)[out]


def test_float_dense_and_log_softmax_on_m4_within_the_mixed_tolerance(tmp_path, monkeypatch):
    without_int8_form(monkeypatch, "log_softmax")  # the float32 log softmax inside an int8 model
    board, ref = _board_and_ref(outlier_mlp(log_softmax=True), tmp_path, float_layers="fc2")
    assert np.abs(board.astype(np.int32) - ref.astype(np.int32)).max() <= MIXED_STEPS


def test_an_exact_float_layer_on_m4_equals_the_reference(tmp_path):
    board, ref = _board_and_ref(max_mlp(), tmp_path, float_layers="/floor/Max")
    np.testing.assert_array_equal(board, ref)
