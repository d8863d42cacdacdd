"""int8 ConvTranspose and linear Resize through the reference interpreter (ref_int8) against onnxruntime's
float result on the same quantized values (tests/spatial_int8_cases.py): ConvTranspose within half an
output quantization step (the integer sum is exact; only the requantization rounds), linear Resize within
1 + r/2 output steps, r = x's scale / y's scale (the blend rounds once in x's q, half an x step, before the
requantization to y's q rounds again; weights in 1/1024 and TFLite's rounded scale_10 move the source
coordinate by up to a few 1/1024 of a pixel), and within r/2 steps on average. Measured on these cases: at
most 1.48 steps (align_corners 7 -> 11, r 1.06; TFLite's scale_10 drift), 1.42 (antialias, r 1.97)."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import numpy_helper
from onnx.reference import ReferenceEvaluator

from tests.spatial_int8_cases import CONV_TRANSPOSE, RESIZE, build_int8, conv_transpose_model, inputs, resize_model
from tinyc import interpreter
from tinyc.ops.resize import _round_to_1024


def _int8_steps(compiled, model: onnx.ModelProto, replace: dict[str, np.ndarray], reference=False) -> np.ndarray:
    """|int8 output - onnxruntime's float output| in output quantization steps, onnxruntime running model
    on the dequantized input with initializers replaced (the dequantized weights); onnx's reference
    evaluator instead when reference."""
    g = compiled.graph
    samples = inputs(model, 3, 7)
    feeds = interpreter.feeds_for(g, samples)
    y = interpreter.run_samples(g, feeds)[g.outputs[0]].astype(np.float64)
    xq, yq = g.tensors[g.inputs[0]].q, g.tensors[g.outputs[0]].q
    x_deq = {g.inputs[0]: ((feeds[g.inputs[0]].astype(np.float64) - xq.zero_point[0]) * xq.scale[0])
             .astype(np.float32)}
    model = onnx.ModelProto.FromString(model.SerializeToString())
    for init in model.graph.initializer:
        if init.name in replace:
            init.CopyFrom(numpy_helper.from_array(replace[init.name].astype(np.float32), init.name))
    if reference:  # onnxruntime's linear Resize takes at most two resized axes
        run = ReferenceEvaluator(model).run
    else:
        run = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run
    expected = np.stack([run(None, {k: v[i] for k, v in x_deq.items()})[0] for i in range(3)])
    lo, hi = (-128 - yq.zero_point[0]) * yq.scale[0], (127 - yq.zero_point[0]) * yq.scale[0]
    return np.abs(y - (np.clip(expected, lo, hi) / yq.scale[0] + yq.zero_point[0]))


@pytest.mark.parametrize("name", sorted(CONV_TRANSPOSE))
def test_int8_conv_transpose_is_within_half_a_step_of_float(name):
    model = conv_transpose_model(name)
    compiled = build_int8(model)
    g = compiled.graph
    (node,) = [n for n in g.nodes if n.op == "conv_transpose2d"]
    x, w_q, b_q = node.inputs
    s_in = g.tensors[x].q.scale[0]
    w = g.tensors[w_q]
    ci, co_g = w.shape[:2]
    group = node.attrs["group"]
    s_w = np.broadcast_to(w.q.scale, (co_g * group,))  # one scale per output channel, group-major
    out_channel = (np.arange(ci) // (ci // group))[:, None] * co_g + np.arange(co_g)[None, :]
    w_deq = w.data * s_w[out_channel].reshape(ci, co_g, *[1] * (w.data.ndim - 2))
    kernel = CONV_TRANSPOSE[name][2]  # a 1-D layer's weight is (Ci, Co/g, 1, K) in tinyc
    replace = {"w": w_deq.reshape(ci, co_g, *kernel), "b": g.tensors[b_q].data * s_in * s_w}
    assert _int8_steps(compiled, model, replace).max() <= 0.5 + 1 / 64


def test_grouped_conv_transpose_scales_each_output_channel():
    g = build_int8(conv_transpose_model("group3_dilated")).graph
    (node,) = [n for n in g.nodes if n.op == "conv_transpose2d"]
    w = g.tensors[node.inputs[1]]
    assert w.q.scale.shape == (9,) and len(set(np.round(w.q.scale, 9))) == 9
    # every output channel's largest weight uses the full int8 range
    by_out = w.data.reshape(3, 2, 3, 2, 3).swapaxes(1, 2).reshape(9, -1)
    assert np.all(np.abs(by_out).max(axis=1) == 127)


@pytest.mark.parametrize("name", sorted(RESIZE))
def test_int8_linear_resize_is_within_steps_of_float(name):
    model = resize_model(name)
    compiled = build_int8(model)
    g = compiled.graph
    assert [n.op for n in g.nodes] == ["resize"] and g.tensors[g.outputs[0]].dtype == "int8"
    steps = _int8_steps(compiled, model, {}, reference=name == "three_axes")
    ratio = g.tensors[g.inputs[0]].q.scale[0] / g.tensors[g.outputs[0]].q.scale[0]  # x's steps in y's
    assert steps.max() <= 1 + ratio / 2, (steps.max(), ratio)
    assert steps.mean() <= ratio / 2, (steps.mean(), ratio)


def test_int8_linear_resize_requantizes_to_its_own_output_scale():
    g = build_int8(resize_model("half_pixel_down")).graph
    x_q, y_q = g.tensors[g.inputs[0]].q, g.tensors[g.outputs[0]].q
    assert x_q.scale[0] != y_q.scale[0]  # calibrated apart: the blend's range is narrower than x's
    assert g.nodes[0].attrs["int8"]["multiplier"] != 1 << 30


def test_half_pixel_x2_takes_tflites_fixed_point_taps():
    # half_pixel, scale 2: TFLite's ResizeBilinearInteger weights 1/4, 3/4 (256, 768 of 1024), edges whole
    node = build_int8(resize_model("half_pixel_x2")).graph.nodes[0]
    index, weight, _ = node.attrs["axes"][3]
    assert index[:3].tolist() == [[0, 0], [0, 1], [0, 1]]
    assert (weight[:3] * 1024).tolist() == [[1024, 0], [768, 256], [256, 768]]


def test_rounded_weights_keep_each_row_summing_to_one():
    rng = np.random.default_rng(0)
    w = rng.dirichlet(np.ones(5), 200)
    r = _round_to_1024(w)
    assert np.array_equal((r * 1024).sum(axis=1), np.full(200, 1024))
    assert np.abs(r - w).max() <= 3 / 1024


def test_cubic_resize_has_no_int8_form():
    model = resize_model("half_pixel_x2")
    for a in model.graph.node[0].attribute:
        if a.name == "mode":
            a.s = b"cubic"
    compiled = build_int8(model)  # the op refuses int8; the pipeline runs it in float32 and says why
    assert compiled.graph.is_mixed
    assert any("no int8 form (mode 'cubic' has no int8 form" in w for w in compiled.warnings)
