"""tinyc_dense_s8 with the zero point folded out of the inner loop (bias_folded, or weight_sums when a sum
could saturate): bit-exact with ref_int8 on the host (portable path) for odd shapes, extreme zero points,
near-limit sums and a clipped bias. The same cases run on the DSP path under QEMU in
tests/qemu/test_dense_fast_qemu.py."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.helpers import quantize_graph, run_c_host, run_ref
from tests.host.test_conv_fast import calib_of
from tests.host.test_sparse_kernels import bundle
from tinyc import ops
from tinyc.ir import Graph
from tinyc.ops.dense import DENSE_BLOCK, dense_block_layout, nm24_table_positions, nm_table_values
from tinyc.passes.prune import keep_n_of_m

pytestmark = pytest.mark.host

# (x shape, out features, bias?, act): K and M cover every K % 4 and M % 4 (the DSP remainders),
# in_features 1, 3, 5, 7, 17, out 1, 3, 5, several rows, a rank-3 input.
SHAPES = [((1, 1), 1, True, None), ((1, 3), 5, True, (0.0, None)), ((1, 4), 4, False, None),
          ((1, 5), 7, True, None), ((1, 7), 3, True, (0.0, 6.0)), ((3, 8), 9, True, None),
          ((1, 13), 1, False, None), ((2, 33), 6, True, None), ((1, 3, 17), 5, True, (0.0, None)),
          ((1, 64), 8, True, None), ((1, 255), 13, True, None), ((3, 5), 3, True, None),
          ((2, 17), 1, True, None), ((5, 7), 5, False, None), ((2, 1), 3, True, None), ((1, 40), 19, True, None)]
# input ranges: symmetric, all positive (input_zp = -128), all negative (input_zp = 127)
RANGES = [(-1.0, 1.0), (0.0, 1.0), (-1.0, 0.0)]


def dense_cases(seed: int = 0) -> list[tuple]:
    """bundle() cases: every shape with every input range (each layer has its own input)."""
    rng = np.random.default_rng(seed)
    cases = []
    for xs, m, has_bias, act in SHAPES:
        for lo, hi in RANGES:
            w = rng.normal(0, 0.5, (m, xs[-1])).astype(np.float32)
            b = rng.normal(0, 0.5, m).astype(np.float32) if has_bias else None
            cases.append((f"d{len(cases)}", "dense", xs, w, b, {"act": act, "range": (lo, hi)}, "dense"))
    return cases


def int8_dense_bundle(samples: int = 3) -> tuple[Graph, dict[str, np.ndarray]]:
    cases = dense_cases()
    g = bundle(cases)
    calib = calib_of(g, cases, samples)
    return quantize_graph(g, calib), calib


def extreme_graph(k: int = 1999) -> tuple[Graph, dict[str, np.ndarray]]:
    """Weights at +-127 and inputs at the int8 ends with input_zp = -128: per-row sums near
    K * 127 * 255, the largest the int32 accumulator has to hold in these tests."""
    w = np.where(np.arange(4 * k).reshape(4, k) % 3 == 0, -1.0, 1.0).astype(np.float32)
    w[1] = 1.0  # one row all positive: sum_k x * w and input_zp * sum w both near their limits
    cases = [("big", "dense", (1, k), w, None, {"act": None, "range": (0.0, 1.0)}, "dense")]
    g = bundle(cases)
    calib = calib_of(g, cases, 2)
    calib["x0"] = np.concatenate([calib["x0"], np.ones((1, 1, k), np.float32), np.zeros((1, 1, k), np.float32)])
    return quantize_graph(g, calib), calib


def assert_equal_outputs(got: dict, want: dict) -> None:
    for name, expected in want.items():
        assert np.array_equal(got[name], expected), f"{name}: {np.sum(got[name] != expected)} values differ"


@pytest.fixture(autouse=True)
def _compiler():
    need_tool("gcc")


def clipped_bias_graph() -> tuple[Graph, dict[str, np.ndarray]]:
    """A row of tiny weights with a large bias: its int32 bias clips, so the kernel must take the
    weight_sums path (saturating bias add) instead of bias_folded."""
    rng = np.random.default_rng(3)
    w = rng.normal(0, 0.5, (6, 11)).astype(np.float32)
    w[2] = 1e-5  # tiny, not negligible: a row whose multiplier rounds to 0 is dead and stored as zeros
    b = rng.normal(0, 0.5, 6).astype(np.float32)
    b[2] = 50.0
    cases = [("clip", "dense", (2, 11), w, b, {"act": None, "range": (0.0, 1.0)}, "dense")]
    g = bundle(cases)
    return quantize_graph(g, calib_of(g, cases, 3)), calib_of(g, cases, 3)


def test_folded_bias_is_bias_minus_zp_times_row_sums():
    q, _ = int8_dense_bundle()
    for node in q.nodes:
        call = ops.get("dense").kernel(node, q)
        w = q.tensors[node.inputs[1]].data.astype(np.int64)
        b = q.tensors[node.inputs[2]].data.astype(np.int64) if node.inputs[2] else 0
        folded = call.params["bias_folded"]
        assert folded.dtype == np.int32 and "weight_sums" not in call.params
        assert np.array_equal(folded, b - node.attrs["int8"]["input_zp"] * w.sum(axis=1))
        assert call.args == [node.inputs[0], None, node.outputs[0]]  # the bias is inside bias_folded: not emitted


def test_a_clipped_bias_takes_the_saturating_path():
    q, _ = clipped_bias_graph()
    call = ops.get("dense").kernel(q.nodes[0], q)
    w = q.tensors[q.nodes[0].inputs[1]].data.astype(np.int64)
    assert "bias_folded" not in call.params and call.args[1] == q.nodes[0].inputs[2]
    assert np.array_equal(call.params["weight_sums"], w.sum(axis=1))


@pytest.mark.parametrize("m,k", [(1, 1), (5, 3), (6, 4), (7, 5), (12, 17), (13, 8), (3, 255),
                                 (6, 16), (12, 47), (7, 64)])
def test_block_layout_is_a_permutation_of_the_rows_as_the_kernel_reads_them(m, k):
    w = np.arange(m * k, dtype=np.int64).reshape(m, k)
    lay = dense_block_layout(w)
    assert sorted(lay.tolist()) == list(range(m * k))
    k16, k4, pos = k - k % 16, k - k % 4, 0
    for b0 in range(0, m - m % DENSE_BLOCK, DENSE_BLOCK):  # the walk of tinyc_dense_block
        for c in range(0, k16, 16):
            for r in range(DENSE_BLOCK):
                assert lay[pos:pos + 16].tolist() == w[b0 + r, c:c + 16].tolist()
                pos += 16
        for c in range(k16, k4, 4):
            for r in range(DENSE_BLOCK):
                assert lay[pos:pos + 4].tolist() == w[b0 + r, c:c + 4].tolist()
                pos += 4
        for r in range(DENSE_BLOCK):
            assert lay[pos:pos + k - k4].tolist() == w[b0 + r, k4:].tolist()
            pos += k - k4
    assert lay[pos:].tolist() == w[m - m % DENSE_BLOCK:].reshape(-1).tolist()


def test_clipped_bias_equals_ref_int8():
    q, calib = clipped_bias_graph()
    assert_equal_outputs(run_c_host(q, calib, sanitize=True), run_ref(q, calib))


def test_zero_points_cover_both_int8_ends():
    q, _ = int8_dense_bundle()
    zps = {node.attrs["int8"]["input_zp"] for node in q.nodes}
    assert -128 in zps and 127 in zps and len(zps) >= 3


def test_odd_shapes_and_zero_points_equal_ref_int8():
    q, calib = int8_dense_bundle(samples=4)
    assert_equal_outputs(run_c_host(q, calib, sanitize=True), run_ref(q, calib))


def test_near_limit_sums_equal_ref_int8():
    q, calib = extreme_graph()
    assert_equal_outputs(run_c_host(q, calib), run_ref(q, calib))


def sparse_bundle(samples: int = 3) -> tuple[Graph, dict[str, np.ndarray]]:
    """int8_dense_bundle with every weight stored sparse: CSR, or 1:4 / 2:4 (pruned) where K divides by 4;
    plus the clipped-bias layer in CSR (the saturating path of the sparse kernels)."""
    q, calib = int8_dense_bundle(samples)
    q = q.copy()
    for i, node in enumerate(q.nodes):
        t = q.tensors[node.inputs[1]]
        if t.shape[1] % 4 == 0 and i % 3:
            n = 1 if i % 3 == 1 else 2
            t.data = keep_n_of_m(t.data, n, 4)
            t.format = f"{n}:4"
        else:
            t.format = "csr"
    return q, calib


def test_sparse_layers_take_the_folded_bias():
    q, _ = sparse_bundle()
    for node in q.nodes:
        call = ops.get("dense").kernel(node, q)
        assert call.family == "tinyc_sparse" and "bias_folded" in call.params and call.args[1] is None


def test_sparse_odd_shapes_equal_ref_int8():
    q, calib = sparse_bundle(samples=4)
    assert_equal_outputs(run_c_host(q, calib, sanitize=True), run_ref(q, calib))


def test_sparse_clipped_bias_equals_ref_int8():
    q, calib = clipped_bias_graph()
    q = q.copy()
    q.tensors[q.nodes[0].inputs[1]].format = "csr"
    call = ops.get("dense").kernel(q.nodes[0], q)
    assert "bias_folded" not in call.params and call.args[1] == q.nodes[0].inputs[2]
    assert_equal_outputs(run_c_host(q, calib, sanitize=True), run_ref(q, calib))


# 1:4 (and 2:4) layers through tinyc_dense_nm_table_s8's pair table: K = 4 * groups with groups covering whole
# blocks of 16, units of 4 and 1-3 last groups (K not a multiple of 8 among them), x rows 1..7, M around the
# 16-output finish chunks; a tiny relu6-like clamp gives shifts above -2 (the finish's slow branch).
TABLE_SHAPES = [((1, 16), 8, True, None), ((2, 20), 9, True, (0.0, None)), ((3, 36), 17, False, None),
                ((4, 44), 8, True, (0.0, 6.0)), ((5, 64), 16, True, None), ((6, 68), 33, True, None),
                ((7, 100), 10, False, None), ((1, 132), 12, True, None), ((2, 260), 19, True, (0.0, None)),
                ((1, 2, 84), 8, True, None), ((1, 256), 8, True, (0.0, 0.002)), ((3, 24), 11, True, None)]


def table_bundle(n: int, samples: int = 3, seed: int = 4) -> tuple[Graph, dict[str, np.ndarray]]:
    """TABLE_SHAPES stored n:4 (pruned after quantization), every input range, plus a clipped-bias layer
    (no bias_folded: the zero-point term and the saturating finish)."""
    rng = np.random.default_rng(seed)
    cases = []
    for i, (xs, m, has_bias, act) in enumerate(TABLE_SHAPES):
        w = rng.normal(0, 0.5, (m, xs[-1])).astype(np.float32)
        b = rng.normal(0, 0.5, m).astype(np.float32) if has_bias else None
        cases.append((f"t{i}", "dense", xs, w, b, {"act": act, "range": RANGES[i % 3]}, "dense"))
    w = rng.normal(0, 0.5, (9, 68)).astype(np.float32)
    w[2] = 1e-5  # tiny, not negligible: a row whose multiplier rounds to 0 is dead and stored as zeros
    b = rng.normal(0, 0.5, 9).astype(np.float32)
    b[2] = 50.0
    cases.append(("tclip", "dense", (2, 68), w, b, {"act": None, "range": (0.0, 1.0)}, "dense"))
    g = bundle(cases)
    calib = calib_of(g, cases, samples)
    q = quantize_graph(g, calib).copy()
    for node in q.nodes:
        t = q.tensors[node.inputs[1]]
        t.data = keep_n_of_m(t.data, n, 4)
        t.format = f"{n}:4"
    return q, calib


@pytest.mark.parametrize("n", [1, 2])
def test_table_layers_take_the_table_kernel(n):
    q, _ = table_bundle(n)
    calls = [ops.get("dense").kernel(node, q) for node in q.nodes]
    for c, node in zip(calls, q.nodes):  # 2:4 needs K >= 32 (one block of 8 groups), else tinyc_dense_nm_s8
        table = q.tensors[node.inputs[1]].shape[1] >= 16 * n
        assert (c.kernel == "tinyc_dense_nm_table_s8" and c.scratch_bytes > 0) == table
    assert sum("bias_folded" not in c.params for c in calls) == 1  # the clipped-bias layer
    shifts = np.concatenate([np.atleast_1d(c.params["requant"]["shift"]) for c in calls])
    assert shifts.max() > -2 and shifts.min() < -2  # both branches of the finish


@pytest.mark.parametrize("n", [1, 2])
def test_table_layers_equal_ref_int8(n):
    q, calib = table_bundle(n, samples=4)
    assert_equal_outputs(run_c_host(q, calib, sanitize=True), run_ref(q, calib))


def test_table_values_order():
    vals = np.arange(2 * 11, dtype=np.int8)
    got = nm_table_values(vals, 2, 11).reshape(2, 11)
    assert list(got[0]) == [0, 2, 1, 3, 4, 6, 5, 7, 8, 9, 10] and list(got[1]) == [11, 13, 12, 14, 15, 17, 16, 18,
                                                                                 19, 20, 21]


def test_nm24_slots_keep_the_matrix():
    """2:4 positions as slots (TINYC_NM24_P0/P1): decoding the slots gives the same matrix; a pair stored
    high-low (not what encode_nm writes) is swapped with its values."""
    from tinyc.sparse import decode_nm, encode_nm, kernel_weights

    w = keep_n_of_m(np.random.default_rng(5).integers(-127, 128, (3, 36)).astype(np.int8), 2, 4)
    got = nm24_table_positions(kernel_weights(w, "2:4"), 3, 36)
    p0, p1 = [0, 0, 0, 0, 1, 1, 2], [0, 1, 2, 3, 2, 3, 3]
    slots = np.stack([got["positions"] & 15, got["positions"] >> 4], axis=1).reshape(3, -1)[:, :9]
    plain = (np.array(p0)[slots] | np.array(p1)[slots] << 2).reshape(3, 9)
    packed = (np.pad(plain, ((0, 0), (0, 1)))[:, 0::2] | np.pad(plain, ((0, 0), (0, 1)))[:, 1::2] << 4)
    assert np.array_equal(decode_nm({"values": got["values"], "positions": packed.astype(np.uint8).reshape(-1)},
                                    3, 36, 2, 4), w)
    enc = encode_nm(w, 2, 4)
    swapped = dict(kernel_weights(w, "2:4"), values=enc["values"].reshape(-1, 2)[:, ::-1].reshape(-1),
                   positions=((enc["positions"] & 0x33) << 2 | (enc["positions"] >> 2) & 0x33).astype(np.uint8))
    again = nm24_table_positions(swapped, 3, 36)
    assert np.array_equal(again["positions"], got["positions"]) and np.array_equal(again["values"], got["values"])
