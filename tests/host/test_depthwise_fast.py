"""The fast int8 depthwise 3x3 (tinyc_depthwise_3x3_s8: padded rows, strides 1 and 2, any pads and
multiplier), other depthwise (tinyc_depthwise_cols_s8: gathered columns) and pointwise kernels, and the
folded-bias requantization they share (tinyc_conv_fastq): bit-exact with ref_int8 on random odd shapes.
The host runs the portable path; the DSP path runs under QEMU in tests/qemu/test_depthwise_fast_qemu.py
on the same graphs."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.helpers import quantize_graph, run_c_host, run_ref
from tests.host.test_conv_fast import calib_of
from tests.host.test_sparse_kernels import bundle
from tinyc import ops, quant
from tinyc.ops import conv as conv_op
from tinyc.ir import Graph
from tinyc.resources import runtime_dir
from tinyc.toolchain.host import SANITIZE, WARNINGS, compiler

pytestmark = pytest.mark.host

# depthwise 3x3 (x shape, multiplier, strides, pads (top, left, bottom, right), act): channels 1, 3, 5,
# 7, 64; widths and heights 1, 2 and odd; pads 0, 1, 2 and asymmetric (VWW's (0, 0, 1, 1)); multiplier 2.
DEPTHWISE = [
    ((1, 1, 1, 1), 1, (1, 1), (1, 1, 1, 1), None),
    ((1, 3, 2, 2), 1, (1, 1), (1, 1, 1, 1), (0.0, None)),
    ((1, 5, 7, 1), 1, (1, 1), (1, 1, 1, 1), None),
    ((1, 7, 5, 9), 1, (1, 1), (1, 1, 1, 1), (0.0, 6.0)),
    ((1, 64, 5, 5), 1, (1, 1), (1, 1, 1, 1), (0.0, None)),
    ((1, 3, 6, 7), 1, (1, 1), (0, 0, 0, 0), None),
    ((1, 5, 5, 6), 1, (2, 2), (0, 0, 1, 1), (0.0, None)),
    ((1, 7, 9, 7), 1, (2, 2), (1, 1, 1, 1), None),
    ((1, 3, 4, 3), 1, (2, 2), (0, 0, 0, 0), None),
    ((1, 1, 2, 2), 1, (2, 2), (0, 0, 1, 1), None),
    ((1, 5, 3, 8), 1, (1, 2), (1, 0, 1, 2), None),
    ((1, 3, 7, 5), 1, (2, 1), (2, 1, 0, 1), (0.0, None)),
    ((1, 3, 5, 7), 2, (1, 1), (1, 1, 1, 1), None),
    ((1, 5, 6, 5), 2, (2, 2), (0, 0, 1, 1), None),
    # the DSP path's flat rows (stride 1, pad 1, the plane in scratch): KWS's 25x5 planes in 4 blocks of
    # output rows, VWW's 12x12 in 3, width 2 (the narrowest)
    ((1, 4, 25, 5), 1, (1, 1), (1, 1, 1, 1), (0.0, None)),
    ((1, 3, 12, 12), 1, (1, 1), (1, 1, 1, 1), None),
    ((1, 2, 9, 2), 1, (1, 1), (1, 1, 1, 1), (0.0, 6.0)),
    # wide rows: the scratch holds a band of rows (8, 3 and 4 of them), sums flush every row
    ((1, 3, 20, 61), 1, (1, 1), (1, 1, 1, 1), None),
    ((1, 2, 9, 130), 1, (1, 1), (1, 1, 1, 1), (0.0, None)),
    ((1, 3, 15, 101), 1, (2, 2), (0, 0, 1, 1), None),
    # scratch over TINYC_DW_STACK_BYTES: the arena variant
    ((1, 2, 5, 300), 1, (1, 1), (1, 1, 1, 1), None),
    # Helium's flat layout (stride 1, rows <= 16): KWS's 25x5 planes in chunks of 7 rows, a last of 4;
    # left pad over right and right over left (the row width is W + the larger)
    ((1, 3, 25, 5), 1, (1, 1), (1, 1, 1, 1), (0.0, None)),
    ((1, 3, 6, 4), 1, (1, 1), (0, 2, 2, 1), None),
    ((1, 2, 4, 6), 1, (1, 1), (2, 0, 1, 2), (0.0, 6.0)),
    ((1, 2, 5, 5), 1, (1, 1), (1, 1, 1, 1), (0.0, 0.002)),  # a clamp this narrow: a left shift, saturation
    # Helium's split layout (stride 2): pad_left 2 over two chunks of output rows (the first's pad rows
    # refilled), x rows of 37 (two whole 16-byte steps and a tail); pad_left 1 (the halves swapped) through the
    # C loop (a narrow clamp); OW 66, too wide for it: the byte gathers
    ((1, 3, 11, 37), 1, (2, 2), (2, 2, 0, 1), None),
    ((1, 2, 8, 9), 1, (2, 2), (1, 1, 0, 0), (0.0, 0.002)),
    ((1, 2, 5, 131), 1, (2, 2), (1, 1, 1, 1), (0.0, None)),
]
# depthwise cases whose channel 0 takes the slow requantize (the DSP path's other tail): flat rows, a wide
# stride-1 row and a wide stride-2 row
SLOW_TAIL = {(1, 4, 25, 5), (1, 3, 20, 61), (1, 3, 15, 101)}
# pointwise (x shape, Co): Ci 8 (VWW's first 1x1: blocks of many 8-pixel units), 1 to 9, 64 (the stack's last
# 8-pixel Ci), 67, 128 (VWW's 6x6 planes: 8-pixel units, a last unit of 4) and 130 (tinyc_conv2d_1x1_wide_s8
# for Ci > 64: the pair buffer in scratch); pixel counts of every % 4 and % 8.
POINTWISE = [((1, 8, 5, 7), 16), ((1, 8, 3, 3), 3), ((1, 1, 1, 3), 5), ((1, 5, 2, 9), 7), ((1, 7, 3, 1), 2),
             ((1, 64, 5, 5), 9), ((1, 9, 1, 13), 1), ((1, 3, 6, 6), 4), ((1, 67, 3, 3), 5), ((1, 130, 2, 3), 3),
             ((1, 128, 6, 6), 3), ((1, 8, 11, 13), 2)]
# other depthwise geometries (tinyc_depthwise_cols_s8): (x shape, multiplier, kernel, strides, pads, dilations):
# KWS's first layer (1 channel, multiplier 64, 10x4 stride 2), every K % 4, dilation 2, a 1-D input.
COLS = [
    ((1, 1, 49, 10), 64, (10, 4), (2, 2), (4, 1, 5, 1), (1, 1)),
    ((1, 1, 13, 6), 8, (5, 4), (2, 2), (2, 1, 2, 1), (1, 1)),
    ((1, 3, 7, 7), 1, (5, 5), (1, 1), (2, 2, 2, 2), (1, 1)),
    ((1, 2, 9, 5), 2, (2, 3), (1, 2), (0, 1, 1, 1), (1, 1)),
    ((1, 3, 6, 5), 1, (3, 3), (1, 1), (2, 2, 2, 2), (2, 2)),
    ((1, 5, 4, 3), 3, (3, 1), (3, 1), (1, 0, 1, 0), (1, 1)),
    ((1, 4, 11), 1, (1, 5), (1, 1), (0, 2, 0, 2), (1, 1)),
    ((1, 3, 40, 33), 1, (1, 1), (2, 2), (0, 0, 0, 0), (1, 1)),  # 2 KiB of scratch: the arena variant
]
RANGES = [(-1.0, 1.0), (0.0, 1.0), (-1.0, 0.0)]  # input_zp near 0, -128 and 127


def cases(seed: int = 0) -> list[tuple]:
    rng = np.random.default_rng(seed)
    out = []
    for i, (xs, mult, strides, pads, act) in enumerate(DEPTHWISE):
        c = xs[1]
        attrs = {"strides": strides, "pads": pads, "dilations": (1, 1), "group": c, "act": act,
                 "range": RANGES[i % 3]}
        w = rng.normal(0, 0.5, (c * mult, 1, 3, 3)).astype(np.float32)
        if xs in SLOW_TAIL:  # channel 0 near zero: its requantize shift is past -23, the slow tail
            w[0] *= 1e-6
        b = rng.normal(0, 0.5, c * mult).astype(np.float32) if i % 4 else None
        out.append((f"dw{i}", "conv2d", xs, w, b, attrs, "dense"))
    for i, (xs, mult, kernel, strides, pads, dil) in enumerate(COLS):
        c = xs[1]
        attrs = {"strides": strides, "pads": pads, "dilations": dil, "group": c, "act": (0.0, None) if i % 2 else None,
                 "range": RANGES[i % 3]}
        w = rng.normal(0, 0.5, (c * mult, 1, *kernel)).astype(np.float32)
        out.append((f"cl{i}", "conv2d", xs, w, rng.normal(0, 0.5, c * mult).astype(np.float32), attrs, "dense"))
    for i, (xs, co) in enumerate(POINTWISE):
        attrs = {"strides": (1, 1), "pads": (0, 0, 0, 0), "dilations": (1, 1), "group": 1,
                 "act": (0.0, None) if i % 2 else None, "range": RANGES[i % 3]}
        w = rng.normal(0, 0.5, (co, xs[1], 1, 1)).astype(np.float32)
        out.append((f"pw{i}", "conv2d", xs, w, rng.normal(0, 0.5, co).astype(np.float32), attrs, "dense"))
    return out


def fast_bundle(samples: int = 3) -> tuple[Graph, dict[str, np.ndarray]]:
    """Every case as one int8 graph, calibrated per case on its input range."""
    cs = cases()
    g = bundle(cs)
    calib = calib_of(g, cs, samples)
    return quantize_graph(g, calib), calib


@pytest.fixture(autouse=True)
def _compiler():
    need_tool("gcc")


def test_layers_pick_the_padded_row_column_or_pointwise_kernel_and_its_scratch():
    q, _ = fast_bundle()
    kernels = set()
    for node in q.nodes:
        call = ops.get("conv2d").kernel(node, q)
        if node.name.startswith("dw"):
            need = conv_op._depthwise_3x3_scratch(call.params["geom"])
            kernels.add(call.kernel)
            if need <= conv_op.DW_STACK_BYTES:  # small: the stack variant, no arena bytes
                assert call.kernel == "tinyc_depthwise_3x3_small_s8" and call.scratch_bytes == 0, node.name
            else:
                assert call.kernel == "tinyc_depthwise_3x3_s8" and call.scratch_bytes == need, node.name
        elif node.name.startswith("cl"):
            need = conv_op._depthwise_cols_scratch(call.params["geom"])
            small = need <= conv_op.DW_STACK_BYTES + 256
            assert call.kernel == ("tinyc_depthwise_cols_small_s8" if small else "tinyc_depthwise_cols_s8"), node.name
            assert call.scratch_bytes == (0 if small else need), node.name
            kernels.add(call.kernel)
        else:  # Ci > 64: the DSP pair buffer (8 pixels) in scratch
            wide = q.tensors[node.inputs[0]].shape[1] > 64
            assert call.kernel == ("tinyc_conv2d_1x1_wide_s8" if wide else "tinyc_conv2d_1x1_s8"), node.name
            assert call.scratch_bytes == (16 * q.tensors[node.inputs[0]].shape[1] if wide else 0), node.name
    assert kernels == {"tinyc_depthwise_3x3_small_s8", "tinyc_depthwise_3x3_s8", "tinyc_depthwise_cols_small_s8",
                       "tinyc_depthwise_cols_s8"}


def test_depthwise_and_pointwise_cases_equal_ref_int8():
    q, calib = fast_bundle()
    got, want = run_c_host(q, calib, sanitize=True), run_ref(q, calib)
    for name, expected in want.items():
        assert np.array_equal(got[name], expected), f"{name}: {np.sum(got[name] != expected)} values differ"


PROGRAM = r"""
#include <stdio.h>
#include "tinyc_conv_common.h"
int main(void)
{
    long long sum, zsum, bias, mult, shift, zp, lo, hi;
    while (scanf("%lld %lld %lld %lld %lld %lld %lld %lld", &sum, &zsum, &bias, &mult, &shift, &zp, &lo, &hi) == 8) {
        int32_t m = (int32_t)mult, s = (int32_t)shift, b = (int32_t)bias, acc = (int32_t)sum;
        int8_t row;
        tinyc_conv2d_s8_params p;
        tinyc_conv_fastq q;
        memset(&p, 0, sizeof p);
        p.output_zp = (int32_t)zp;
        p.requant.multiplier = &m;
        p.requant.shift = &s;
        p.clamp.min = (int32_t)lo;
        p.clamp.max = (int32_t)hi;
        q = tinyc_conv_fastq_of_s8(&p, &b, 0, (int32_t)zsum);
        tinyc_conv_fastq_row_s8(&q, &acc, &row, 1, 1);
        printf("%d %d %d\n", (int)tinyc_conv_fastq_s8(&q, acc), (int)row, (int)q.fast);
    }
    return 0;
}
"""


def test_folded_bias_requantize_equals_tinyc_requantize(tmp_path):
    """tinyc_conv_fastq (both its one-output and row forms) equals ref_int8's tail: sat32(sum - zsum +
    bias) through quant.requantize, plus output_zp, clamped; rounding ties and int32 limits included."""
    (tmp_path / "main.c").write_text(PROGRAM)
    exe = tmp_path / "fastq"
    subprocess.run([compiler(), *WARNINGS, "-O2", *SANITIZE, "-I", str(runtime_dir()), "-o", str(exe),
                    str(tmp_path / "main.c")], check=True)
    rng = np.random.default_rng(5)
    n = 30000
    mult = rng.choice([1 << 30, (1 << 30) + 1, 2**31 - 1, 1518500250, 0], n)
    mult = np.where(rng.random(n) < 0.5, rng.integers(1 << 30, 2**31, n), mult)
    shift = rng.integers(-26, 3, n)
    # sums that land exactly on ties: multiples of 2^k times a power-of-two multiplier, either sign
    small = rng.integers(-(2**17), 2**17, n) << rng.integers(0, 8, n)
    big = rng.integers(-(2**31) + 2**18, 2**31 - 2**18, n)
    # (a positive shift of a near-limit sum would overflow tinyc_requantize_s8's + output_zp)
    total = np.where((rng.random(n) < 0.8) | (shift > -2), small, big)
    zsum = rng.integers(-(2**18), 2**18, n)
    bias = np.where((rng.random(n) < 0.9) | (shift > -2), rng.integers(-(2**20), 2**20, n),
                    rng.integers(-(2**31), 2**31, n))
    sums = total + zsum  # the raw sum; sum - zsum (the exact one) fits int32, as in the kernels
    zp = rng.integers(-128, 128, n)
    lo = np.where(rng.random(n) < 0.5, -128, zp)
    hi = np.where(rng.random(n) < 0.7, 127, rng.integers(0, 128, n))
    hi = np.maximum(hi, lo)
    rows = np.stack([sums, zsum, bias, mult, shift, zp, lo, hi], axis=1)
    text = "".join(" ".join(str(int(v)) for v in r) + "\n" for r in rows)
    out = subprocess.run([str(exe)], input=text, capture_output=True, text=True, check=True).stdout.split()
    got = np.array(out, np.int64).reshape(-1, 3)
    acc = np.clip((sums - zsum) + bias, -(2**31), 2**31 - 1)
    want = np.clip(quant.requantize(acc, mult, shift) + zp, lo, hi)
    assert got[:, 2].sum() > n // 2  # most rows take the fast form
    assert np.array_equal(got[:, 0], want) and np.array_equal(got[:, 1], want)
