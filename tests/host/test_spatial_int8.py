"""int8 ConvTranspose and linear Resize as host C (AddressSanitizer and UndefinedBehaviorSanitizer on):
tinyc_conv_transpose2d_s8 and tinyc_resize_linear_s8 equal ref_int8 bit for bit on every case of
tests/spatial_int8_cases.py (strides, pads, groups, dilations, output_padding; scale factors, coordinate
modes, axes, antialias, crop with extrapolation), inputs beyond the calibrated range included."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.spatial_int8_cases import CONV_TRANSPOSE, RESIZE, build_int8, conv_transpose_model, inputs, resize_model
from tinyc import interpreter, ops, runners

pytestmark = pytest.mark.host

CASES = {**{f"convt_{k}": (conv_transpose_model, k) for k in CONV_TRANSPOSE},
         **{f"resize_{k}": (resize_model, k) for k in RESIZE}}


@pytest.mark.parametrize("case", sorted(CASES))
def test_int8_c_equals_reference(case):
    need_tool("cc")
    make, name = CASES[case]
    model = make(name)
    compiled = build_int8(model)
    g = compiled.graph
    (node,) = g.nodes
    assert ops.get(node.op).kernel(node, g).kernel in ("tinyc_conv_transpose2d_s8", "tinyc_resize_linear_s8")
    samples = {k: v * 1.5 for k, v in inputs(model, 4, 5).items()}  # some past the calibrated range: clamps
    feeds = interpreter.feeds_for(g, samples)
    ref = interpreter.run_samples(g, feeds)[g.outputs[0]]
    got = runners.run_host(compiled, feeds, sanitize=True)[g.outputs[0]]
    assert got.dtype == np.int8 and np.array_equal(got, ref)
    assert len(np.unique(ref)) > 10  # not a constant output
