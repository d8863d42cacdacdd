"""The fast int8 conv paths (tinyc_conv2d_1x1_s8, the 3x3 depthwise plane loop, the unrolled interior
3x3 windows of tinyc_conv2d_s8, the zero point folded into per-channel weight sums): bit-exact with
ref_int8 on the host (portable path) for odd channel counts, odd widths, unit heights and widths,
both int8 ends of the input zero point and near-limit sums. The same cases run on the DSP path under
QEMU in tests/qemu/test_conv_fast_qemu.py."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.helpers import quantize_graph, run_c_host, run_ref
from tests.host.test_sparse_kernels import bundle
from tinyc import ops
from tinyc.ir import Graph

pytestmark = pytest.mark.host

# pointwise (x shape, Co, bias?, act): Ci and Co cover every Ci % 4 and Co % 2, planes of 1 to 35
# pixels (every pixel count % 4), and a rank-3 (1-D) input.
POINTWISE = [((1, 1, 1, 1), 1, True, None), ((1, 3, 3, 5), 5, True, (0.0, None)), ((1, 4, 2, 2), 2, False, None),
             ((1, 5, 1, 7), 7, True, None), ((1, 7, 5, 7), 3, True, (0.0, 6.0)), ((1, 8, 3, 3), 4, True, None),
             ((1, 9, 2, 3), 6, False, None), ((1, 16, 1, 6), 9, True, None), ((1, 6, 13), 5, True, (0.0, None))]
# depthwise 3x3 pad 1 (x shape, act): unit heights and widths (edge rows and columns at once), odd
# widths and channel counts.
DEPTHWISE = [((1, 1, 1, 1), None), ((1, 3, 1, 5), None), ((1, 5, 4, 1), (0.0, None)), ((1, 7, 2, 2), None),
             ((1, 3, 5, 7), (0.0, 6.0)), ((1, 8, 7, 3), None), ((1, 5, 6, 9), None)]
# input ranges: symmetric, all positive (input_zp = -128), all negative (input_zp = 127)
RANGES = [(-1.0, 1.0), (0.0, 1.0), (-1.0, 0.0)]


def conv_attrs(k: int, group: int, act, stride: int = 1) -> dict:
    p = k // 2
    return {"strides": (stride, stride), "pads": (p, p, p, p), "dilations": (1, 1), "group": group, "act": act}


def conv_cases(seed: int = 0) -> list[tuple]:
    """bundle() cases: every pointwise and depthwise shape with every input range, plus the fallbacks
    the fast paths must leave to the generic loops (depthwise multiplier 2, stride 2, 1-D)."""
    rng = np.random.default_rng(seed)
    cases = []

    def add(xs, w, b, attrs, rng_):
        attrs = dict(attrs, range=rng_)
        cases.append((f"c{len(cases)}", "conv2d", xs, w, b, attrs, "dense"))

    for lo_hi in RANGES:
        for xs, co, has_bias, act in POINTWISE:
            w = rng.normal(0, 0.5, (co, xs[1], 1, 1)).astype(np.float32)  # a 1-D input too: (Co, Ci, 1, K)
            b = rng.normal(0, 0.5, co).astype(np.float32) if has_bias else None
            add(xs, w, b, conv_attrs(1, 1, act), lo_hi)
        for xs, act in DEPTHWISE:
            c = xs[1]
            add(xs, rng.normal(0, 0.5, (c, 1, 3, 3)).astype(np.float32), rng.normal(0, 0.5, c).astype(np.float32),
                conv_attrs(3, c, act), lo_hi)
    # general 3x3 (interior windows unrolled, borders generic): odd sizes, stride 2, no pad, groups 2
    add((1, 3, 5, 7), rng.normal(0, 0.5, (5, 3, 3, 3)).astype(np.float32), rng.normal(0, 0.5, 5).astype(np.float32),
        conv_attrs(3, 1, (0.0, None)), (0.0, 1.0))
    add((1, 5, 6, 4), rng.normal(0, 0.5, (3, 5, 3, 3)).astype(np.float32), None, conv_attrs(3, 1, None, 2), (-1.0, 0.0))
    add((1, 2, 3, 3), rng.normal(0, 0.5, (1, 2, 3, 3)).astype(np.float32), None, dict(conv_attrs(3, 1, None),
        pads=(0, 0, 0, 0)), (-1.0, 1.0))
    add((1, 4, 7, 5), rng.normal(0, 0.5, (6, 2, 3, 3)).astype(np.float32), None, conv_attrs(3, 2, None), (0.0, 1.0))
    add((1, 3, 5, 5), rng.normal(0, 0.5, (6, 1, 3, 3)).astype(np.float32), None, conv_attrs(3, 3, None), (0.0, 1.0))
    add((1, 5, 7, 6), rng.normal(0, 0.5, (5, 1, 3, 3)).astype(np.float32), None, conv_attrs(3, 5, None, 2), (-1.0, 0.0))
    add((1, 5, 9), rng.normal(0, 0.5, (5, 1, 1, 3)).astype(np.float32), None,
        dict(conv_attrs(1, 5, None), pads=(0, 1, 0, 1)), (-1.0, 1.0))
    # DSP pointwise blocks of 4 pixels (Ci % 4 == 0, Ci <= 32) and of 8 (Ci 36): planes longer than one pass
    # of the pair buffer, a dead channel (multiplier 0), a bias too large for the fast form, a short last block
    for xs, co in (((1, 8, 9, 15), 5), ((1, 32, 5, 7), 4), ((1, 12, 3, 23), 3), ((1, 36, 3, 11), 3)):
        w = rng.normal(0, 0.5, (co, xs[1], 1, 1)).astype(np.float32)
        b = rng.normal(0, 0.5, co).astype(np.float32)
        w[1] *= 1e-30
        b[2] = 1e6
        add(xs, w, b, conv_attrs(1, 1, None), (-1.0, 1.0))
    return cases


def calib_of(g: Graph, cases: list[tuple], samples: int, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {x: rng.uniform(*case[5]["range"], (samples, *g.tensors[x].shape)).astype(np.float32)
            for x, case in zip(g.inputs, cases)}


def int8_conv_bundle(samples: int = 3) -> tuple[Graph, dict[str, np.ndarray]]:
    cases = conv_cases()
    g = bundle(cases)
    calib = calib_of(g, cases, samples)
    q = quantize_graph(g, calib)
    node = q.nodes[-4]  # a clamp inside int8 (as a fused activation narrower than the output range gives)
    node.attrs["int8"] = dict(node.attrs["int8"], act_min=-100, act_max=90)
    return q, calib


def extreme_graph(ci: int = 1999) -> tuple[Graph, dict[str, np.ndarray]]:
    """Pointwise weights at +-127 and inputs at the int8 ends with input_zp = -128: per-channel sums
    near Ci * 127 * 255, the largest the int32 accumulator has to hold in these tests."""
    w = np.where(np.arange(3 * ci).reshape(3, ci, 1, 1) % 3 == 0, -1.0, 1.0).astype(np.float32)
    w[1] = 1.0  # one channel all positive: sum x * w and input_zp * sum w both near their limits
    cases = [("big", "conv2d", (1, ci, 1, 5), w, None, dict(conv_attrs(1, 1, None), range=(0.0, 1.0)), "dense")]
    g = bundle(cases)
    calib = calib_of(g, cases, 2)
    calib["x0"] = np.concatenate([calib["x0"], np.ones((1, 1, ci, 1, 5), np.float32),
                                  np.zeros((1, 1, ci, 1, 5), np.float32)])
    return quantize_graph(g, calib), calib


def assert_equal_outputs(got: dict, want: dict) -> None:
    for name, expected in want.items():
        assert np.array_equal(got[name], expected), f"{name}: {np.sum(got[name] != expected)} values differ"


@pytest.fixture(autouse=True)
def _compiler():
    need_tool("gcc")


def test_pointwise_layers_use_the_1x1_kernel_and_others_do_not():
    q, _ = int8_conv_bundle()
    for node in q.nodes:
        call = ops.get("conv2d").kernel(node, q)
        w = q.tensors[node.inputs[1]].data
        pointwise = w.shape[2:] == (1, 1) and node.attrs["group"] == 1
        assert (call.kernel == "tinyc_conv2d_1x1_s8") == pointwise, node.name


def test_weight_sums_param_is_the_channel_sum_of_the_int8_weight():
    q, _ = int8_conv_bundle()
    for node in q.nodes:
        params = ops.get("conv2d").kernel(node, q).params
        w = q.tensors[node.inputs[1]].data.astype(np.int64)
        assert params["weight_sums"].dtype == np.int32
        assert np.array_equal(params["weight_sums"], w.reshape(len(w), -1).sum(axis=1))


def test_zero_points_cover_both_int8_ends():
    q, _ = int8_conv_bundle()
    zps = {node.attrs["int8"]["input_zp"] for node in q.nodes}
    assert -128 in zps and 127 in zps and len(zps) >= 3


def test_odd_shapes_and_zero_points_equal_ref_int8():
    q, calib = int8_conv_bundle(samples=3)
    assert_equal_outputs(run_c_host(q, calib, sanitize=True), run_ref(q, calib))


def test_near_limit_pointwise_sums_equal_ref_int8():
    q, calib = extreme_graph()
    assert_equal_outputs(run_c_host(q, calib), run_ref(q, calib))
