"""The CSR and N:M encodings (tinyc/sparse.py) round-trip on seeded random shapes, and the format
pass (passes/formats.py) stores each weight in the smallest format worth a sparse kernel."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import graph_of, quantize_graph, random_samples
from tinyc import ops, report, sparse
from tinyc.ir import Graph
from tinyc.passes.formats import best_format, choose_formats
from tinyc.sparse import kernel_weights
from tinyc.passes.plan import plan_memory
from tinyc.passes.prune import keep_n_of_m, prune_nm, prune_unstructured


def random_sparse(rng, rows: int, cols: int, density: float) -> np.ndarray:
    w = rng.integers(-127, 128, (rows, cols)).astype(np.int8)
    w[rng.random((rows, cols)) >= density] = 0
    return w


def decode_csr(enc: dict, rows: int, cols: int) -> np.ndarray:
    """The dense matrix back from encode_csr, written out plainly (the C kernels' reading)."""
    w = np.zeros((rows, cols), np.int8)
    ptr = enc["row_ptr"].astype(np.int64)
    for r in range(rows):
        for k in range(ptr[r], ptr[r + 1]):
            w[r, enc["cols"][k]] = enc["values"][k]
    return w


def read_position(positions: np.ndarray, row_bytes: int, row: int, entry: int, bits: int) -> int:
    """Entry `entry` of row `row`, read bit by bit as the C kernels do (LSB first, rows byte-aligned)."""
    bit = entry * bits
    return (int(positions[row * row_bytes + bit // 8]) >> (bit % 8)) & ((1 << bits) - 1)


@pytest.mark.parametrize("seed", range(12))
def test_csr_round_trips_on_random_shapes_and_sparsities(seed):
    rng = np.random.default_rng(seed)
    rows, cols = int(rng.integers(1, 40)), int(rng.integers(1, 700))
    w = random_sparse(rng, rows, cols, float(rng.choice([0.0, 0.03, 0.2, 0.5, 0.9, 1.0])))
    enc = sparse.encode_csr(w)
    assert np.array_equal(decode_csr(enc, rows, cols), w)
    assert enc["values"].dtype == np.int8 and np.all(enc["values"] != 0)
    assert enc["cols"].dtype == (np.uint8 if cols <= 256 else np.uint16)
    assert len(enc["row_ptr"]) == rows + 1 and enc["row_ptr"][-1] == np.count_nonzero(w)
    assert sparse.encoded_bytes(w, "csr") == sum(a.nbytes for a in enc.values())


def test_csr_index_types_are_the_narrowest_that_fit():
    assert sparse.index_dtype(255) == np.uint8 and sparse.index_dtype(256) == np.uint16
    assert sparse.index_dtype(65535) == np.uint16 and sparse.index_dtype(65536) == np.uint32
    w = np.ones((300, 300), np.int8)  # 90,000 nonzeros: row pointers need 32 bits
    assert sparse.encode_csr(w)["row_ptr"].dtype == np.uint32


@pytest.mark.parametrize("m", range(2, 17))
def test_nm_round_trips_for_every_m(m):
    rng = np.random.default_rng(m)
    for n in sorted({1, m // 2 or 1, m - 1}):
        rows, groups = int(rng.integers(1, 12)), int(rng.integers(1, 9))
        w = keep_n_of_m(random_sparse(rng, rows, groups * m, float(rng.choice([0.3, 0.8, 1.0]))), n, m)
        enc = sparse.encode_nm(w, n, m)
        assert np.array_equal(sparse.decode_nm(enc, rows, groups * m, n, m), w)
        bits = sparse.nm_bits(m)
        row_bytes = -(-groups * n * bits // 8)
        assert enc["values"].shape == (rows * groups * n,) and enc["positions"].shape == (rows * row_bytes,)
        # each (value, position) pair, read as the kernels read it, lands on its weight (padding on value 0)
        rebuilt = np.zeros_like(w, np.int32)
        for r in range(rows):
            for e in range(groups * n):
                col = e // n * m + read_position(enc["positions"], row_bytes, r, e, bits)
                rebuilt[r, col] += int(enc["values"][r * groups * n + e])
        assert np.array_equal(rebuilt, w)


def test_nm_position_bits_never_straddle_a_byte():
    assert [sparse.nm_bits(m) for m in (2, 3, 4, 5, 8, 16)] == [1, 2, 2, 4, 4, 4]


def test_fits_nm_needs_divisible_rows_and_at_most_n_per_group():
    w = np.array([[1, 2, 0, 0, 0, 0, 3, 0]], np.int8)
    assert sparse.fits_nm(w, 2, 4) and not sparse.fits_nm(w, 1, 4) and not sparse.fits_nm(w, 2, 3)


# ---- formats ----

def test_dense_weights_stay_dense():
    w = np.random.default_rng(0).integers(1, 127, (16, 64)).astype(np.int8)
    assert best_format(w) == "dense"


def test_barely_sparse_weights_stay_dense():
    """8 % zeros make a 1 B value + 1 B column CSR far larger; 15:16 saves under 10 %."""
    w = random_sparse(np.random.default_rng(1), 32, 64, 0.92)
    assert best_format(w) == "dense"


def test_unstructured_sparse_weights_become_csr():
    w = random_sparse(np.random.default_rng(2), 32, 200, 0.2)
    assert best_format(w) == "csr"


@pytest.mark.parametrize("n,m", [(1, 4), (2, 4), (1, 8), (2, 8), (1, 16), (3, 16)])
def test_nm_sparse_weights_take_the_smallest_fitting_pattern(n, m):
    w = keep_n_of_m(np.random.default_rng(3).integers(1, 127, (24, 96)).astype(np.int8), n, m)
    fmt = best_format(w)
    candidates = {"csr"} | {f"{k}:{mm}" for mm in (4, 8, 16) for k in range(1, mm) if sparse.fits_nm(w, k, mm)}
    best = min(sparse.encoded_bytes(w, c) for c in candidates)
    assert sparse.encoded_bytes(w, fmt) == best and fmt != "dense" and fmt != "csr"


def test_allow_limits_the_formats():
    w = keep_n_of_m(np.random.default_rng(4).integers(1, 127, (8, 64)).astype(np.int8), 1, 4)
    assert best_format(w, ("dense", "csr")) == "csr"
    assert best_format(w, ("dense",)) == "dense"
    assert best_format(np.ones((4, 8), np.int8), ("csr", "nm")) == "csr"  # no dense: the smallest sparse one


def test_an_all_zero_weight_is_stored_sparse():
    assert best_format(np.zeros((4, 16), np.int8)) in ("1:4", "1:8", "1:16", "csr")


def quantized_dense(prune: float, seed: int = 0) -> Graph:
    rng = np.random.default_rng(seed)
    w = rng.normal(0, 0.5, (13, 40)).astype(np.float32)
    g = graph_of("dense", [("x", (1, 40)), ("w", w), ("b", rng.normal(0, 0.5, 13).astype(np.float32))],
                 {"act": None})
    g = prune_unstructured(g, {"node": prune})
    return quantize_graph(g, random_samples(g, 4))


def test_choose_formats_sets_the_format_on_a_copy():
    q = quantized_dense(0.85)
    h = choose_formats(q)
    w = h.nodes[0].inputs[1]
    assert h.tensors[w].format == "csr" and q.tensors[w].format == "dense"
    assert h.tensors[w].data is q.tensors[w].data  # the values are shared, never rewritten


def test_float_graphs_keep_dense_weights():
    g = graph_of("dense", [("x", (1, 8)), ("w", np.zeros((4, 8), np.float32)), ("", None)], {"act": None})
    assert all(t.format == "dense" for t in choose_formats(g).tensors.values())


def test_sparse_kernel_call_passes_the_encoding_not_the_weight():
    h = choose_formats(quantized_dense(0.85))
    node = h.nodes[0]
    call = ops.get("dense").kernel(node, h)
    assert call.kernel == "tinyc_dense_csr_s8" and call.family == "tinyc_sparse"
    # the bias is folded into bias_folded (with the zero-point term), so the kernel gets NULL for it
    assert call.args == [node.inputs[0], None, node.outputs[0]] and call.params["bias_folded"].dtype == np.int32
    enc = sparse.encode_csr(h.tensors[node.inputs[1]].data)
    assert np.array_equal(call.params["weights"]["values"], enc["values"])
    assert np.array_equal(call.params["weights"]["cols_u8"], enc["cols"])
    assert np.array_equal(call.params["weights"]["row_ptr_u8"], enc["row_ptr"])


def test_report_counts_the_stored_bytes_indices_included():
    h = choose_formats(quantized_dense(0.85))
    planned, plan = plan_memory(h)
    layer = report.build_report(planned, plan, "m")["layers"][0]
    w = h.tensors[h.nodes[0].inputs[1]].data
    requant = 2 * 4 * 13  # multiplier and shift per output feature
    assert layer["format"] == "csr"
    assert layer["weights"] == sparse.encoded_bytes(w, "csr") + 13 * 4 + requant


def test_nm_kernel_weights_carry_n_and_m():
    w = keep_n_of_m(np.random.default_rng(5).integers(1, 127, (6, 3, 2, 2)).astype(np.int8), 1, 4)
    kw = kernel_weights(w, "1:4")
    assert kw["n"] == 1 and kw["m"] == 4
    assert np.array_equal(kw["values"], sparse.encode_nm(sparse.weight_matrix(w), 1, 4)["values"])


def test_conv_nm_call_uses_the_sparse_family():
    rng = np.random.default_rng(6)
    w = rng.normal(0, 0.5, (5, 4, 3, 3)).astype(np.float32)
    attrs = {"strides": (1, 1), "pads": (1, 1, 1, 1), "dilations": (1, 1), "group": 1, "act": None}
    g, _ = prune_nm(graph_of("conv2d", [("x", (1, 4, 6, 6)), ("w", w), ("", None)], attrs), 2, 4)
    h = choose_formats(quantize_graph(g, random_samples(g, 3)))
    call = ops.get("conv2d").kernel(h.nodes[0], h)
    assert h.tensors[h.nodes[0].inputs[1]].format == "2:4"
    assert call.kernel == "tinyc_conv2d_nm_cols_s8" and call.args == ["x", h.nodes[0].inputs[2], "y0"]
    assert call.family == "tinyc_sparse_conv" and call.scratch_bytes == 8 * 4 * 3 * 3 + 42 * 5


def test_dead_rows_the_dense_kernel_skips_count_as_free():
    """vww's 128 -> 128 pointwise: 71 dead channels (zero rows), the live rows 80 % nonzero. By bytes CSR wins
    (2 B per nonzero against 1 B per weight); the live rows alone are smaller dense, which runs faster."""
    w = random_sparse(np.random.default_rng(5), 128, 128, 0.8)
    w[:71] = 0
    assert best_format(w) == "csr"
    assert best_format(w, free_rows=71) == "dense"
    w[71:] = random_sparse(np.random.default_rng(6), 57, 128, 0.3)  # live rows sparse: CSR stays smaller
    assert best_format(w, free_rows=71) == "csr"
