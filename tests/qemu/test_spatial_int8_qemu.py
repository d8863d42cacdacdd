"""int8 ConvTranspose (groups, dilation, output_padding) and bilinear Resize (TFLite's fixed-point taps,
requantized to the output's scale) as one-node firmware under QEMU: Cortex-M4 with DSP (mps2-an386) and
Cortex-M3 (mps2-an385) equal ref_int8 bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.spatial_int8_cases import build_int8, conv_transpose_model, inputs, resize_model
from tinyc import interpreter, runners

BOARDS = ["mps2-an386", "mps2-an385"]
MODELS = {"conv_transpose": lambda: conv_transpose_model("group3_dilated"),
          "conv_transpose_k3_s2_op1": lambda: conv_transpose_model("k3_s2_p1_op1"),
          "bilinear": lambda: resize_model("pytorch_half_pixel_odd")}


@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_one_node_model_on_board_equals_the_reference(name, board):
    need_tool("arm-none-eabi-gcc")
    need_tool("qemu-system-arm")
    model = MODELS[name]()
    compiled = build_int8(model, board=board)
    g = compiled.graph
    feeds = interpreter.feeds_for(g, {k: v * 1.5 for k, v in inputs(model, 3, 5).items()})
    got, _ = runners.run_board(compiled, feeds)
    ref = interpreter.run_samples(g, feeds)[g.outputs[0]]
    assert np.array_equal(got[g.outputs[0]], ref)
