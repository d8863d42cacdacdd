"""Both sparse conv kernels on every geometry: the column kernels (tinyc_conv2d_csr_cols_s8 / _nm_cols_s8: 4
pixels per column pass, runs of 4 with stride 1 and edge runs from word loads, lists of 4 otherwise) and the
direct taps (tinyc_conv2d_csr_s8 / _nm_s8), each forced through conv.SPARSE_COLUMNS_MIN_COUT, bit-exact with
ref_int8 on odd shapes: channels 1, 3, 5, 7, groups and depthwise (multiplier 1 and 2), strides, dilations,
asymmetric and wide pads, widths that are not a multiple of 4, kernels 1, 2, 3, 5 wide, CSR with 8- and
16-bit columns, rows without entries, pointwise planes, N:M with m = 4 (the asm steps, n = 1, 2, 3) and
other m. The same cases run under QEMU in
tests/qemu/test_sparse_conv_cols_qemu.py (DSP on mps2-an386, portable on mps2-an385)."""

from __future__ import annotations

import pytest

from tests.conftest import need_tool
from tests.helpers import run_c_host, run_ref
from tests.host.test_sparse_kernels import CONV_SHAPES, _nm, _prune_to, assert_outputs_equal, conv, int8_bundle, \
    layer_cases
from tinyc import ops
from tinyc.ops import conv as conv_op
from tinyc.sparse import weight_matrix

pytestmark = pytest.mark.host

# (id, x shape, w shape, attrs, bias?)
SHAPES = CONV_SHAPES + [
    ("c3_3x3_pad1_w13", (1, 3, 7, 13), (5, 3, 3, 3), conv(pads=(1, 1, 1, 1), act=(0.0, None)), True),
    ("c5_3x3_pad1_w6", (1, 5, 5, 6), (3, 5, 3, 3), conv(pads=(1, 1, 1, 1)), True),
    ("c7_3x3_w4_pad1", (1, 7, 3, 4), (4, 7, 3, 3), conv(pads=(1, 1, 1, 1)), True),
    ("c1_3x3_nopad", (1, 1, 6, 11), (3, 1, 3, 3), conv(), True),
    ("c3_3x3_pad2_left", (1, 3, 6, 9), (5, 3, 3, 3), conv(pads=(0, 2, 1, 0)), True),
    ("c3_5x5_pad2", (1, 3, 9, 10), (4, 3, 5, 5), conv(pads=(2, 2, 2, 2)), True),
    ("c4_1x2_dil_h", (1, 4, 9, 7), (6, 4, 2, 2), conv(dilations=(2, 1), pads=(1, 0, 0, 1)), True),
    ("c3_3x3_dil_h2", (1, 3, 9, 9), (5, 3, 3, 3), conv(dilations=(2, 1), pads=(2, 1, 2, 1)), False),
    ("c6_g3_stride1", (1, 6, 7, 9), (9, 2, 3, 3), conv(group=3, pads=(1, 1, 1, 1)), True),
    ("c3_3x3_stride_w2", (1, 3, 7, 9), (4, 3, 3, 3), conv(strides=(1, 2), pads=(1, 1, 1, 1)), True),
    ("c16_3x3_u16", (1, 32, 5, 6), (4, 32, 3, 3), conv(pads=(1, 1, 1, 1)), True),
    ("c1_1x5_conv1d", (1, 2, 1, 23), (3, 2, 1, 5), conv(pads=(0, 2, 0, 2)), True),
    ("pointwise_5x7", (1, 6, 5, 7), (9, 6, 1, 1), conv(), True),  # planes run as one row of 35 pixels
    ("pointwise_g2_3x6", (1, 4, 3, 6), (6, 2, 1, 1), conv(group=2), True),
    ("pointwise_2x2", (1, 5, 2, 2), (7, 5, 1, 1), conv(act=(0.0, None)), False),
]
PATTERNS = ("1:4", "2:4", "3:4", "1:2", "2:8")


def variants(w):
    k = weight_matrix(w).shape[1]
    nm = [(p, _nm(w, p)) for p in PATTERNS if k % int(p.split(":")[1]) == 0]
    return [("csr30", _prune_to(w, 0.3)), ("csr90", _prune_to(w, 0.9)), ("csrdead", _dead_rows(w))] + nm


def _dead_rows(w):
    """Half the output channels without entries (CSR rows the column kernels fill with one constant), the
    others 30 % pruned."""
    out = _prune_to(w, 0.3)
    out[1::2] = 0
    return out


def cases():
    return layer_cases(SHAPES, variants, seed=11)


@pytest.fixture(autouse=True)
def _compiler():
    need_tool("gcc")


@pytest.mark.parametrize("min_cout,suffix", [(1, "_cols_s8"), (10**9, "_s8")], ids=["columns", "direct"])
def test_sparse_conv_kernels_equal_ref_int8_on_every_geometry(monkeypatch, min_cout, suffix):
    monkeypatch.setattr(conv_op, "SPARSE_COLUMNS_MIN_COUT", min_cout)
    cs = cases()
    q, calib = int8_bundle(cs, samples=2, seed=3)
    for node, case in zip(q.nodes, cs):
        kind = "csr" if case[6].startswith("csr") else "nm"
        assert ops.get("conv2d").kernel(node, q).kernel == f"tinyc_conv2d_{kind}{suffix}"
    assert_outputs_equal(run_c_host(q, calib, sanitize=True), run_ref(q, calib), q, cs)
