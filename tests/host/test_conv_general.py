"""The general int8 conv (tinyc_conv2d_s8: im2col of two pixels into int16 scratch, 4 channels x 2 pixels
per pass, weights reordered at compile time): bit-exact with ref_int8 on the host (portable path) for
odd channel counts, odd planes (odd pixel counts), kernels 1x1 to 4x10, strides 1 and 2, symmetric and
asymmetric pads, dilation 2, groups 2 and 3, all three input ranges. The same cases run on the DSP and
portable paths under QEMU in tests/qemu/test_conv_general_qemu.py."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.helpers import quantize_graph, run_c_host, run_ref
from tests.host.test_conv_fast import RANGES, assert_equal_outputs, calib_of
from tests.host.test_sparse_kernels import bundle
from tinyc import ops
from tinyc.ir import Graph
from tinyc.ops.conv import SMALLK, im2col_weights

pytestmark = pytest.mark.host

# (x shape, Co, (KH, KW), stride, pads (top, left, bottom, right), dilation, group, bias?, act)
GENERAL = [((1, 1, 5, 7), 1, (3, 3), 1, (1, 1, 1, 1), 1, 1, True, None),
           ((1, 3, 7, 5), 5, (3, 3), 1, (1, 1, 1, 1), 1, 1, True, (0.0, None)),
           ((1, 5, 6, 9), 3, (3, 3), 2, (1, 1, 1, 1), 1, 1, False, None),
           ((1, 7, 5, 5), 16, (3, 3), 1, (0, 0, 0, 0), 1, 1, True, (0.0, 6.0)),
           ((1, 16, 9, 7), 16, (3, 3), 1, (1, 1, 1, 1), 1, 1, True, (0.0, None)),
           ((1, 16, 8, 8), 5, (3, 3), 2, (0, 0, 1, 1), 1, 1, True, None),
           ((1, 16, 7, 7), 3, (1, 1), 2, (0, 0, 0, 0), 1, 1, True, None),
           ((1, 5, 4, 3), 1, (1, 1), 1, (1, 0, 0, 1), 1, 1, False, None),
           ((1, 1, 13, 11), 5, (4, 10), 2, (1, 4, 2, 5), 1, 1, True, (0.0, None)),
           ((1, 3, 9, 9), 3, (5, 5), 1, (2, 2, 2, 2), 1, 1, True, None),
           ((1, 3, 9, 8), 16, (3, 3), 2, (0, 0, 1, 1), 1, 1, True, (0.0, 6.0)),
           ((1, 5, 9, 7), 5, (3, 3), 1, (2, 2, 2, 2), 2, 1, True, None),
           ((1, 7, 6, 5), 3, (3, 3), 1, (0, 1, 2, 0), 1, 1, True, None),
           ((1, 4, 7, 5), 6, (3, 3), 1, (1, 1, 1, 1), 1, 2, True, None),
           ((1, 6, 5, 7), 3, (3, 3), 2, (1, 1, 1, 1), 1, 3, False, None),
           ((1, 3, 1, 1), 3, (3, 3), 1, (1, 1, 1, 1), 1, 1, True, None),
           ((1, 5, 11), 3, (1, 3), 1, (0, 1, 0, 1), 1, 1, True, None),
           ((1, 7, 5, 6), 7, (3, 3), 1, (1, 1, 1, 1), 1, 1, True, (0.0, None)),
           ((1, 29, 6, 5), 5, (3, 3), 1, (1, 1, 1, 1), 1, 1, True, None),  # K > SMALLK: arena scratch
           ((1, 32, 5, 7), 16, (3, 3), 2, (1, 1, 1, 1), 1, 1, True, (0.0, None)),
           # first layers (tinyc_conv2d_first_s8 for Ci * KH <= 12, KW = 3): Ci 1..4, odd widths, strides 1 and 2,
           # asymmetric pads, KH 1 to 4 (12 rows: the leaf's 18 pairs), windows wider than x, word loads at x's end
           ((1, 1, 9, 9), 4, (3, 3), 2, (0, 0, 1, 1), 1, 1, True, (0.0, 6.0)),
           ((1, 2, 7, 9), 3, (3, 3), 1, (0, 1, 1, 0), 1, 1, True, (0.0, None)),
           ((1, 3, 11, 13), 8, (3, 3), 2, (0, 0, 1, 1), 1, 1, True, (0.0, 6.0)),
           ((1, 4, 9, 7), 5, (3, 3), 2, (1, 0, 0, 1), 1, 1, False, None),
           ((1, 3, 8, 9), 16, (4, 3), 1, (2, 1, 1, 1), 1, 1, True, None),
           ((1, 3, 2, 3), 2, (3, 3), 1, (1, 1, 1, 1), 1, 1, True, None),
           ((1, 4, 6, 5), 9, (3, 3), 1, (0, 0, 0, 0), 1, 1, True, (0.0, None)),
           ((1, 2, 9, 11), 6, (2, 3), 2, (1, 1, 0, 1), 1, 1, True, None),
           ((1, 3, 11), 4, (1, 3), 1, (0, 1, 0, 1), 1, 1, True, None)]


def general_cases(seed: int = 0) -> list[tuple]:
    """bundle() cases: every GENERAL layer with each input range in turn."""
    rng = np.random.default_rng(seed)
    cases = []
    for i, (xs, co, (kh, kw), s, pads, d, group, has_bias, act) in enumerate(GENERAL):
        w = rng.normal(0, 0.5, (co, xs[1] // group, kh, kw)).astype(np.float32)
        b = rng.normal(0, 0.5, co).astype(np.float32) if has_bias else None
        rank1 = len(xs) == 3
        attrs = {"strides": (1, s) if rank1 else (s, s), "pads": pads, "dilations": (1, d) if rank1 else (d, d),
                 "group": group, "act": act, "range": RANGES[i % len(RANGES)]}
        cases.append((f"g{i}", "conv2d", xs, w, b, attrs, "dense"))
    return cases


def int8_general_bundle(samples: int = 2) -> tuple[Graph, dict[str, np.ndarray]]:
    cases = general_cases()
    g = bundle(cases)
    calib = calib_of(g, cases, samples)
    return quantize_graph(g, calib), calib


@pytest.fixture(autouse=True)
def _compiler():
    need_tool("gcc")


def test_general_layers_take_four_columns_of_arena_scratch_or_the_stack_when_k_is_small_first_layers_their_own():
    q, _ = int8_general_bundle()
    kernels = set()
    for node in q.nodes:
        call = ops.get("conv2d").kernel(node, q)
        if node.attrs["group"] == q.tensors[node.inputs[0]].shape[1]:  # one input channel: the depthwise family
            assert call.family == "tinyc_depthwise", node.name
            continue
        k = q.tensors[node.inputs[1]].data[0].size
        kp = call.params["k_padded"]
        assert kp == -(-k // 4) * 4, node.name
        ci, kh, kw = q.tensors[node.inputs[1]].data.shape[1:]
        first = node.attrs["group"] == 1 and kw == 3 and node.attrs["dilations"][1] == 1 and ci * kh <= 12
        small = kp <= SMALLK
        if first:  # its own weights and columns in scratch, at least tinyc_conv2d_s8's 8 k_padded
            rows = ci * kh
            co = call.params["geom"]["output"]["c"]
            c2 = (co + 1) // 2 * 2
            want = 4 * (c2 + 4) * (rows + (rows + 1) // 2) + 24 * co
            assert (call.kernel, call.scratch_bytes) == ("tinyc_conv2d_first_s8", max(want, 8 * kp)), node.name
        else:
            assert call.kernel == ("tinyc_conv2d_smallk_s8" if small else "tinyc_conv2d_s8"), node.name
            assert call.scratch_bytes == (0 if small else 8 * kp), node.name
        assert node.inputs[1] not in call.args  # the reordered copy replaces the weight tensor
        kernels.add(call.kernel)
    assert kernels == {"tinyc_conv2d_smallk_s8", "tinyc_conv2d_s8", "tinyc_conv2d_first_s8"}


def test_im2col_weights_pair_k_with_k_plus_half_in_blocks_of_4_2_1():
    w = (np.arange(7 * 2 * 3 * 3).reshape(7, 2, 3, 3) % 251 - 125).astype(np.int8)
    kp, words = im2col_weights(w, 1)
    half = kp // 2
    assert kp == 20 and words.dtype == np.int32 and words.size == 7 * kp // 4
    b = words.view(np.int8).reshape(-1)
    r = np.zeros((7, kp), np.int8)
    r[:, :18] = w.reshape(7, 18)
    # channels 0-3: per pair q the words (c0 q, c1 q, c0 q + half, c1 q + half), (c2 ..., c3 ...)
    assert list(b[:8]) == [r[0, 0], r[1, 0], r[0, half], r[1, half], r[2, 0], r[3, 0], r[2, half], r[3, half]]
    assert list(b[8:12]) == [r[0, 1], r[1, 1], r[0, half + 1], r[1, half + 1]]
    # channels 4, 5: one word per pair; channel 6: (w q, w q + 1, w q + half, w q + 1 + half)
    assert list(b[4 * kp: 4 * kp + 4]) == [r[4, 0], r[5, 0], r[4, half], r[5, half]]
    assert list(b[6 * kp: 6 * kp + 4]) == [r[6, 0], r[6, 1], r[6, half], r[6, half + 1]]
    assert sorted(b) == sorted(r.ravel())


def test_general_odd_shapes_equal_ref_int8():
    q, calib = int8_general_bundle(samples=2)
    assert_equal_outputs(run_c_host(q, calib, sanitize=True), run_ref(q, calib))
