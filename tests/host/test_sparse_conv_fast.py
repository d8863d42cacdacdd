"""Sparse conv kernels (runtime_c/tinyc_sparse_conv.c: the column kernels for groups of >= 2 output channels,
else the direct taps bucketed by kernel position): bit-exact with ref_int8 on odd shapes (channels 1, 3, 5, 7,
odd widths and heights, pads wider than the kernel, stride 2, a kernel above TINYC_SPARSE_KPOS positions that keeps the
per-tap border check, rows longer than one decoded chunk). The same cases run under QEMU in
tests/qemu/test_dense_fast_qemu.py (DSP on mps2-an386, portable on mps2-an385)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.helpers import run_c_host, run_ref
from tests.host.test_sparse_kernels import assert_outputs_equal, conv, int8_bundle, layer_cases, _nm, _prune_to

pytestmark = pytest.mark.host

# (id, x shape, w shape, attrs, bias?)
SHAPES = [
    ("c1_3x3_pad1", (1, 1, 7, 9), (3, 1, 3, 3), conv(pads=(1, 1, 1, 1)), True),
    ("c3_3x3_pad1_odd", (1, 3, 5, 11), (5, 3, 3, 3), conv(pads=(1, 1, 1, 1), act=(0.0, None)), True),
    ("c5_3x3_w13", (1, 5, 9, 13), (7, 5, 3, 3), conv(pads=(1, 1, 1, 1)), False),
    ("c7_5x5_pad2", (1, 7, 7, 7), (3, 7, 5, 5), conv(pads=(2, 2, 2, 2)), True),
    ("c3_stride2", (1, 3, 9, 7), (5, 3, 3, 3), conv(strides=(2, 2), pads=(1, 1, 1, 1)), True),
    ("c2_1x51_fallback", (1, 2, 3, 60), (3, 2, 1, 52), conv(pads=(0, 30, 0, 30)), True),
    ("c16_long_rows", (1, 16, 6, 9), (3, 16, 3, 3), conv(pads=(1, 1, 1, 1)), True),
    ("c3_pads_wide", (1, 3, 3, 5), (5, 3, 2, 2), conv(pads=(3, 2, 2, 3)), True),
]


def variants(w):
    nm = [("1:4", _nm(w, "1:4")), ("2:4", _nm(w, "2:4"))] if w[0].size % 4 == 0 else []
    return [("csr30", _prune_to(w, 0.3)), ("csr90", _prune_to(w, 0.9))] + nm


def conv_cases():
    return layer_cases(SHAPES, variants, seed=7)


@pytest.fixture(autouse=True)
def _compiler():
    need_tool("gcc")


def test_sparse_conv_odd_shapes_equal_ref_int8():
    cases = conv_cases()
    q, calib = int8_bundle(cases, samples=3, seed=2)
    assert_outputs_equal(run_c_host(q, calib, sanitize=True), run_ref(q, calib), q, cases)


def clipped_bias_conv_cases():
    """A filter of tiny weights with a large bias: its int32 bias clips, so the kernel adds the bias at the
    end with saturation instead of starting the sums with it."""
    rng = np.random.default_rng(5)
    w = rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32)
    w[1] = 1e-5  # tiny, not negligible: a channel whose multiplier rounds to 0 is dead and stored as zeros
    b = rng.normal(0, 0.5, 4).astype(np.float32)
    b[1] = 50.0
    attrs = conv(pads=(1, 1, 1, 1))
    return [(f"clip_{fmt}", "conv2d", (1, 3, 6, 9), _prune_to(w, 0.5) if fmt == "csr" else w, b, attrs, fmt)
            for fmt in ("csr",)]


def test_sparse_conv_clipped_bias_equals_ref_int8():
    cases = clipped_bias_conv_cases()
    q, calib = int8_bundle(cases, samples=3, seed=4)
    assert abs(int(q.tensors[q.nodes[0].inputs[2]].data[1])) == 2**31 - 1  # the bias did clip
    got, want = run_c_host(q, calib, sanitize=True), run_ref(q, calib)
    y = q.nodes[0].outputs[0]
    assert np.array_equal(got[y], want[y])
