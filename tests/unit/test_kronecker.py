"""Kronecker compression: the identity the kernels use, Van Loan-Pitsianis factors, the shape rule,
doping, the pass on small graphs, and the dense_kp op's float and int8 references."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import graph_of, quantize_graph, random_samples, run_ref
from tinyc import ops
from tinyc.errors import BadInput, UnsupportedOp
from tinyc.ir import Graph, Node, Tensor, verify
from tinyc.ops.kronecker import a_first
from tinyc.passes.kronecker import (choose_shape, dense_layer_bytes, dope_residual, kp_layer_bytes, kronecker,
                                    nearest_kronecker, relative_error)


def rand(rng, *shape):
    return rng.normal(size=shape).astype(np.float32)


@pytest.mark.parametrize("m1,k1,m2,k2", [(3, 5, 7, 2), (1, 4, 5, 3), (6, 1, 1, 7)])
def test_kron_times_row_major_vec_is_vec_of_a_x_bt(m1, k1, m2, k2):
    rng = np.random.default_rng(0)
    a, b, x = rng.normal(size=(m1, k1)), rng.normal(size=(m2, k2)), rng.normal(size=(k1, k2))
    np.testing.assert_allclose(np.kron(a, b) @ x.reshape(-1), (a @ x @ b.T).reshape(-1), rtol=1e-12, atol=1e-12)


def test_nearest_kronecker_recovers_an_exact_product():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(4, 8)), rng.normal(size=(16, 16))
    w = np.kron(a, b)
    fa, fb = nearest_kronecker(w, (4, 8), (16, 16))
    assert relative_error(w, np.kron(fa, fb)) < 1e-12


def test_nearest_kronecker_is_no_worse_than_a_perturbed_pair():
    rng = np.random.default_rng(2)
    w = rng.normal(size=(15, 14))
    fa, fb = nearest_kronecker(w, (3, 2), (5, 7))
    best = relative_error(w, np.kron(fa, fb))
    for _ in range(20):
        da, db = 0.05 * rng.normal(size=fa.shape), 0.05 * rng.normal(size=fb.shape)
        assert relative_error(w, np.kron(fa + da, fb + db)) >= best


def test_shape_rule_finds_the_shape_of_an_exact_product():
    rng = np.random.default_rng(3)
    w = np.kron(rng.normal(size=(4, 8)), rng.normal(size=(16, 16)))
    assert choose_shape(w, has_bias=False, min_ratio=1.0) == ((4, 8), (16, 16))


def test_shape_rule_keeps_the_layer_ten_times_smaller():
    w = np.random.default_rng(4).normal(size=(128, 256))
    a, b = choose_shape(w, has_bias=True)
    assert kp_layer_bytes(a, b, True) * 10 <= dense_layer_bytes(128, 256)


def test_shape_rule_gives_none_when_no_shape_is_small_enough():
    assert choose_shape(np.ones((4, 6)), has_bias=True) is None


def test_doped_error_decreases_as_the_residual_grows():
    rng = np.random.default_rng(5)
    w = rng.normal(size=(24, 30))
    fa, fb = nearest_kronecker(w, (4, 5), (6, 6))
    approx = np.kron(fa, fb)
    errors = [relative_error(w, approx + dope_residual(w - approx, n)) for n in (0, 7, 72, 360, 720)]
    assert all(e1 > e2 for e1, e2 in zip(errors, errors[1:])) and errors[-1] < 1e-12


def test_dope_residual_keeps_the_largest_entries():
    r = np.array([[0.1, -3.0, 0.2], [2.0, 0.0, -0.5]])
    np.testing.assert_array_equal(dope_residual(r, 2), [[0, -3.0, 0], [2.0, 0, 0]])


def chain(specs: list[tuple[str, np.ndarray, np.ndarray | None, dict]], x_shape: tuple[int, ...]) -> Graph:
    """A float graph of weighted nodes (op, weight, bias, attrs) applied in turn to input x."""
    tensors = {"x": Tensor("x", x_shape)}
    nodes, prev = [], "x"
    for i, (op, w, b, attrs) in enumerate(specs):
        names = [prev, f"w{i}", f"b{i}" if b is not None else ""]
        tensors[f"w{i}"] = Tensor(f"w{i}", w.shape, "float32", w)
        if b is not None:
            tensors[f"b{i}"] = Tensor(f"b{i}", b.shape, "float32", b)
        node = Node(f"layer{i}", op, names, [f"y{i}"], dict(attrs))
        shape = ops.get(op).infer_shape(node, [tensors[n].shape if n else None for n in names])[0]
        tensors[f"y{i}"] = Tensor(f"y{i}", shape)
        nodes.append(node)
        prev = f"y{i}"
    g = Graph("chain", tensors, nodes, ["x"], [prev])
    verify(g)
    return g


def test_auto_replaces_big_dense_layers_and_keeps_the_result_on_exact_products():
    rng = np.random.default_rng(6)
    w0 = np.kron(rand(rng, 4, 8), rand(rng, 16, 16)).astype(np.float32)  # 64 x 128: 8192 entries
    w1 = rand(rng, 16, 64)  # 1024 entries: below the auto threshold
    g = chain([("dense", w0, rand(rng, 64), {"act": (0.0, None)}), ("dense", w1, None, {"act": None})], (1, 128))
    h = kronecker(g)
    verify(h)
    assert [n.op for n in h.nodes] == ["dense_kp", "dense"]
    assert h.nodes[0].attrs["shape_a"] == (4, 8) and h.nodes[0].attrs["shape_b"] == (16, 16)
    assert "w0" not in h.tensors and g.tensors["w0"].data is w0  # the old weight left h, g is untouched
    x = random_samples(g, 3, seed=1)
    want, got = run_ref(g, x)["y1"], run_ref(h, x)["y1"]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


def test_a_1x1_conv_becomes_a_dense_kp_over_channels():
    rng = np.random.default_rng(7)
    w = np.kron(rand(rng, 3, 2), rand(rng, 5, 7)).reshape(15, 14, 1, 1).astype(np.float32)
    conv = {"strides": (1, 1), "pads": (0, 0, 0, 0), "dilations": (1, 1), "group": 1, "act": None}
    g = chain([("conv2d", w, rand(rng, 15), conv)], (1, 14, 3, 5))
    h = kronecker(g, ["layer0"], min_ratio=1.0)
    assert h.nodes[0].op == "dense_kp" and h.nodes[0].attrs["layout"] == "nchw"
    x = random_samples(g, 2, seed=2)
    np.testing.assert_allclose(run_ref(h, x)["y0"], run_ref(g, x)["y0"], rtol=1e-4, atol=1e-5)


def test_doped_pass_stores_a_csr_residual_within_the_budget():
    rng = np.random.default_rng(8)
    g = chain([("dense", rand(rng, 128, 128), rand(rng, 128), {"act": None})], (1, 128))
    plain, doped = kronecker(g), kronecker(g, doped=True)
    node = doped.nodes[0]
    residual = doped.tensors[node.inputs[4]]
    assert residual.format == "csr" and doped.tensors[node.inputs[1]].format == "dkp"
    assert plain.nodes[0].inputs[4] == "" and plain.tensors[plain.nodes[0].inputs[1]].format == "kp"
    nnz = int(np.count_nonzero(residual.data))
    assert nnz == node.attrs["residual_nnz"] > 0
    a, b = node.attrs["shape_a"], node.attrs["shape_b"]
    assert kp_layer_bytes(a, b, True, nnz) * 10 <= dense_layer_bytes(128, 128)
    w = g.tensors["w0"].data
    kp = np.kron(plain.tensors[plain.nodes[0].inputs[1]].data, plain.tensors[plain.nodes[0].inputs[2]].data)
    assert relative_error(w, kp + residual.data) < relative_error(w, kp)


def test_an_explicit_dope_fraction_keeps_that_share_of_entries():
    rng = np.random.default_rng(10)
    g = chain([("dense", rand(rng, 64, 96), None, {"act": None})], (1, 96))
    h = kronecker(g, "layer0", doped=True, dope=0.05)
    assert h.nodes[0].attrs["residual_nnz"] == round(0.05 * 64 * 96)


def test_auto_doping_dopes_only_where_plain_kp_loses_accuracy():
    rng = np.random.default_rng(9)
    exact = np.kron(rand(rng, 8, 8), rand(rng, 16, 16)).astype(np.float32)
    g = chain([("dense", exact, None, {"act": None}), ("dense", rand(rng, 128, 128), None, {"act": None})], (1, 128))
    h = kronecker(g, doped="auto")
    assert [bool(n.inputs[4]) for n in h.nodes] == [False, True]


def test_unknown_layer_is_a_one_line_error_listing_the_valid_ones():
    g = chain([("dense", np.ones((64, 64), np.float32), None, {"act": None})], (1, 64))
    with pytest.raises(BadInput, match=r"\['nope'\].*valid: \['layer0'\]") as e:
        kronecker(g, ["nope"])
    assert "\n" not in str(e.value)


def test_a_named_layer_too_small_for_ten_times_is_a_clear_error():
    g = chain([("dense", np.ones((8, 6), np.float32), None, {"act": None})], (1, 6))
    with pytest.raises(BadInput, match="'layer0' \\(8x6\\): no factor shape is 10x smaller"):
        kronecker(g, ["layer0"])


def test_bad_doped_value_is_an_error():
    g = chain([("dense", np.ones((64, 64), np.float32), None, {"act": None})], (1, 64))
    with pytest.raises(BadInput, match="doped"):
        kronecker(g, doped="yes")


def kp_graph(shape_a, shape_b, rows=1, bias=True, residual=False, act=None, seed=0) -> Graph:
    rng = np.random.default_rng(seed)
    (m1, k1), (m2, k2) = shape_a, shape_b
    m, k = m1 * m2, k1 * k2
    res = np.where(rng.random((m, k)) < 0.1, rng.normal(size=(m, k)), 0).astype(np.float32)
    inputs = [("x", (rows, k)), ("A", rand(rng, m1, k1)), ("B", rand(rng, m2, k2)),
              ("b", rand(rng, m)) if bias else ("", None), ("R", res) if residual else ("", None)]
    attrs = {"shape_a": shape_a, "shape_b": shape_b, "act": act, "layout": "dense",
             "residual_nnz": int(np.count_nonzero(res)) if residual else 0}
    return graph_of("dense_kp", inputs, attrs)


@pytest.mark.parametrize("shape_a,shape_b,rows,bias,residual,act", [
    ((3, 5), (7, 2), 1, True, False, None), ((2, 3), (5, 7), 3, True, True, (0.0, None)),
    ((5, 7), (2, 3), 2, False, True, (0.0, 6.0))])
def test_dense_kp_float_ref_equals_x_times_kron_transposed(shape_a, shape_b, rows, bias, residual, act):
    g = kp_graph(shape_a, shape_b, rows, bias, residual, act)
    x = random_samples(g, 2, seed=3)
    t = g.tensors
    w = np.kron(t["A"].data, t["B"].data).astype(np.float64) + (t["R"].data if residual else 0)
    want = x["x"].astype(np.float64) @ w.T + (t["b"].data if bias else 0)
    if act:
        want = np.clip(want, *act)
    np.testing.assert_allclose(run_ref(g, x)["y0"], want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


def test_dense_kp_macs_count_the_cheaper_order_and_the_residual():
    g = kp_graph((2, 3), (5, 7), rows=3, residual=True)
    node = g.nodes[0]
    shapes = [g.tensors[i].shape if i else None for i in node.inputs]
    cheaper = min(2 * 7 * (3 + 5), 5 * 3 * (7 + 2))
    assert a_first((2, 3), (5, 7)) == (2 * 7 * (3 + 5) <= 5 * 3 * (7 + 2))
    assert ops.get("dense_kp").macs(node, shapes, [(3, 10)]) == 3 * (cheaper + node.attrs["residual_nnz"])


@pytest.mark.parametrize("residual", [False, True])
def test_dense_kp_int8_ref_stays_within_few_steps_of_float(residual):
    g = kp_graph((3, 4), (5, 6), rows=2, residual=residual, act=(0.0, None))
    calib = random_samples(g, 16, seed=4)
    q = quantize_graph(g, calib)
    yq = q.tensors["y0"].q
    got = (run_ref(q, calib)["y0"].astype(np.float64) - yq.zero_point[0]) * yq.scale[0]
    want = run_ref(g, calib)["y0"]
    assert np.abs(got - want).max() <= 3 * yq.scale[0]
    assert q.tensors[q.nodes[0].inputs[1]].format == ("dkp" if residual else "kp")


def test_dense_kp_int8_switches_order_when_int16_sums_would_overflow():
    # B-first is cheaper here, but its second stage sums 600 int16 x int8 (127) products: over int32
    g = kp_graph((50, 600), (1, 2), bias=False)
    g.tensors["A"].data = np.ones((50, 600), np.float32)
    assert not a_first((50, 600), (1, 2))
    q = quantize_graph(g, random_samples(g, 4))
    assert q.nodes[0].attrs["int8"]["a_first"] == 1


def test_dense_kp_int8_with_too_long_factor_rows_on_both_sides_is_unsupported():
    g = kp_graph((1, 600), (1, 600), bias=False)
    g.tensors["A"].data = np.ones((1, 600), np.float32)
    g.tensors["B"].data = np.ones((1, 600), np.float32)
    with pytest.raises(UnsupportedOp, match="dense_kp"):
        quantize_graph(g, random_samples(g, 2))


def test_dense_kp_int8_intermediate_never_saturates_at_extreme_inputs():
    """All-ones factors and inputs at the int8 limits make |T| its bound; the result must still be exact."""
    g = kp_graph((2, 8), (3, 8), bias=False)
    g.tensors["A"].data = np.ones((2, 8), np.float32)
    g.tensors["B"].data = np.ones((3, 8), np.float32)
    calib = {"x": np.stack([np.full((1, 64), -1.0, np.float32), np.full((1, 64), 1.0, np.float32)])}
    q = quantize_graph(g, calib)
    got = run_ref(q, calib)["y0"].astype(np.float64)
    yq = q.tensors["y0"].q
    want = run_ref(g, calib)["y0"]  # +-64 everywhere
    assert np.abs((got - yq.zero_point[0]) * yq.scale[0] - want).max() <= yq.scale[0]
