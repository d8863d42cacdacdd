"""tinyc_conv2d_chunked_s8, the conv kernel a core with Helium gets (Graph.helium): its weight layout, when the
codegen chooses it, and its portable path bit-exact with ref_int8 on the host for odd shapes (Co % 4 of 1 to 3,
groups, strides, dilation, kernels of more than 16 taps or wider than 16, lone last pixels, K past the stack
columns, near-limit sums). The Helium and +nomve builds run the same cases in tests/qemu/test_conv_fast_qemu.py."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.helpers import quantize_graph, run_c_host, run_ref
from tests.host.test_conv_fast import assert_equal_outputs, calib_of
from tests.host.test_conv_general import int8_general_bundle
from tests.host.test_sparse_kernels import bundle
from tinyc import fit, ops
from tinyc.board import load_board
from tinyc.ir import Graph
from tinyc.ops.conv import CHUNK, CHUNKED_PIXELS, SMALLK, chunked_weights

pytestmark = pytest.mark.host


def _attrs(k: tuple[int, int], group: int = 1, stride: int = 1, dilation: int = 1, act=None, pads=None) -> dict:
    ph, pw = (k[0] - 1) * dilation // 2, (k[1] - 1) * dilation // 2
    return {"strides": (stride, stride), "pads": pads or (ph, pw, ph, pw), "dilations": (dilation, dilation),
            "group": group, "act": act}


# (x shape, (Co, Ci/g, KH, KW), bias?, attrs, input range)
SHAPES = [
    ((1, 16, 6, 5), (16, 16, 3, 3), True, _attrs((3, 3), act=(0.0, None)), (-1.0, 1.0)),  # K = 144: the stack columns
    ((1, 3, 7, 9), (7, 3, 3, 3), True, _attrs((3, 3)), (0.0, 1.0)),  # Co % 4 = 3, K = 27, odd plane: a lone pixel
    ((1, 20, 5, 5), (6, 20, 3, 3), False, _attrs((3, 3), stride=2), (-1.0, 0.0)),  # K = 180 (arena), Co % 4 = 2
    ((1, 8, 9, 8), (10, 4, 3, 3), True, _attrs((3, 3), group=2), (0.0, 1.0)),  # groups of Co 5 (4 + 1)
    ((1, 4, 9, 9), (4, 4, 3, 3), True, _attrs((3, 3), dilation=2), (-1.0, 1.0)),  # dilation 2
    ((1, 3, 8, 9), (9, 3, 5, 5), True, _attrs((5, 5), stride=2, act=(0.0, 6.0)), (0.0, 1.0)),  # 25 taps: row loads
    ((1, 2, 3, 20), (4, 2, 1, 17), False, _attrs((1, 17)), (-1.0, 1.0)),  # KW 17: scalar columns
    ((1, 2, 40, 130), (8, 2, 3, 3), True, _attrs((3, 3), stride=3), (0.0, 1.0)),  # a tap 260 bytes on: no gather
    ((1, 5, 4, 6), (4, 5, 2, 2), True, _attrs((2, 2), pads=(0, 0, 1, 1)), (-1.0, 1.0)),  # uneven pads
]


def chunked_cases(seed: int = 0) -> list[tuple]:
    rng = np.random.default_rng(seed)
    cases = []
    for xs, ws, has_bias, attrs, lo_hi in SHAPES:
        w = rng.normal(0, 0.5, ws).astype(np.float32)
        b = rng.normal(0, 0.5, ws[0]).astype(np.float32) if has_bias else None
        cases.append((f"c{len(cases)}", "conv2d", xs, w, b, dict(attrs, range=lo_hi), "dense"))
    # near-limit sums: weights +-1 (int8 +-127), inputs at an int8 end with input_zp = -128, K = 2304
    w = np.where(np.arange(4 * 256 * 9).reshape(4, 256, 3, 3) % 3 == 0, -1.0, 1.0).astype(np.float32)
    w[1] = 1.0
    cases.append(("big", "conv2d", (1, 256, 2, 3), w, None, dict(_attrs((3, 3)), range=(0.0, 1.0)), "dense"))
    return cases


def int8_chunked_bundle(samples: int = 3) -> tuple[Graph, dict[str, np.ndarray]]:
    """The cases compiled as for a core with Helium (Graph.helium): every layer a chunked conv."""
    cases = chunked_cases()
    g = bundle(cases)
    calib = calib_of(g, cases, samples)
    calib["x9"] = np.concatenate([calib["x9"], np.ones_like(calib["x9"][:1]), np.zeros_like(calib["x9"][:1])])
    q = quantize_graph(g, calib)
    q.helium = True
    return q, calib


def test_chunked_layout_holds_each_weight_where_the_kernel_reads_it():
    rng = np.random.default_rng(3)
    wq = rng.integers(-127, 128, (11, 3, 3, 3)).astype(np.int8)  # K = 27 -> 32: Co 11 (8 + 3), 2 groups of 5
    for groups, co in ((1, 11), (2, 10)):
        w = wq[:co]
        kp, words = chunked_weights(w, groups)
        flat = words.view(np.int8)
        assert kp == 32 and flat.size == co * kp
        cout_g, k = co // groups, w[0].size
        for oc in range(co):
            grp, m = divmod(oc, cout_g)
            base = grp * cout_g * kp
            blocks4 = cout_g // 4
            for kk in range(kp):
                if m < 4 * blocks4:
                    at = base + (m // 4) * 4 * kp + (kk // CHUNK) * 4 * CHUNK + (m % 4) * CHUNK + kk % CHUNK
                else:
                    at = base + m * kp + kk
                assert flat[at] == (w[oc].ravel()[kk] if kk < k else 0), (groups, oc, kk)


def test_helium_graphs_take_the_chunked_kernel_and_others_do_not():
    q, _ = int8_chunked_bundle(samples=1)
    for node in q.nodes:
        call = ops.get("conv2d").kernel(node, q)
        small = call.params["k_padded"] <= SMALLK
        assert call.kernel == ("tinyc_conv2d_chunked_small_s8" if small else "tinyc_conv2d_chunked_s8"), node.name
        assert call.scratch_bytes == (0 if small else CHUNKED_PIXELS * (call.params["k_padded"] + CHUNK))
    q.helium = False
    kernels = {ops.get("conv2d").kernel(node, q).kernel for node in q.nodes}
    assert "tinyc_conv2d_s8" in kernels  # the DSP pair layout's kernels again, none of the chunked ones
    assert kernels <= {"tinyc_conv2d_smallk_s8", "tinyc_conv2d_s8", "tinyc_conv2d_first_s8"}


def test_chunked_portable_path_equals_ref_int8():
    need_tool("gcc")
    q, calib = int8_chunked_bundle()
    assert_equal_outputs(run_c_host(q, calib, sanitize=True), run_ref(q, calib))


def general_bundle_for_helium(samples: int = 2) -> tuple[Graph, dict[str, np.ndarray]]:
    """tests/host/test_conv_general.py's odd shapes (kernels 1x1 to 4x10, pads, groups 3, 1-D) for Helium."""
    q, calib = int8_general_bundle(samples)
    q.helium = True
    return q, calib


def test_chunked_portable_path_equals_ref_int8_on_the_general_shapes():
    need_tool("gcc")
    q, calib = general_bundle_for_helium()
    assert "tinyc_conv2d_chunked_small_s8" in {ops.get("conv2d").kernel(node, q).kernel for node in q.nodes}
    assert_equal_outputs(run_c_host(q, calib, sanitize=True), run_ref(q, calib))


def test_code_estimate_counts_the_chunked_family_on_a_helium_core_only():
    doc = {"dtype": "int8", "layers": [{"op": "conv2d"}]}
    for name, helium in (("mps3-an547", True), ("mps2-an386", False)):
        board = load_board(name)
        table = fit.family_bytes(board.core)
        largest = max(sizes["int8"] for sizes in table.values())  # a family the table does not know yet
        families = set(fit.OP_FAMILY["conv2d"]) | ({"tinyc_conv_chunked"} if helium else set())
        want = fit.STARTUP_BYTES + fit.PER_LAYER_BYTES + sum(table.get(f, {"int8": largest})["int8"] for f in families)
        assert fit.estimated_code_bytes(doc, board) == want, name
