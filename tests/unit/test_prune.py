"""Pruning passes: exact zero counts, N:M patterns along the reduction axis, deterministic ties,
one-line errors, and the input graph left untouched."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import graph_of
from tinyc.errors import BadInput
from tinyc.ir import Graph, Node, Tensor, verify
from tinyc.passes.prune import keep_n_of_m, prune_nm, prune_unstructured, uniform_ratios
from tinyc.sparse import fits_nm, weight_matrix


def conv_attrs(group=1, pads=(1, 1, 1, 1)) -> dict:
    return {"strides": (1, 1), "pads": pads, "dilations": (1, 1), "group": group, "act": None}


def two_layer_graph(seed: int = 0) -> Graph:
    """x (1, 4, 6, 6) -> conv 3x3 (8 filters) -> depthwise 3x3 -> y; weights random, no zeros."""
    rng = np.random.default_rng(seed)
    w1 = rng.normal(0, 1, (8, 4, 3, 3)).astype(np.float32)
    w2 = rng.normal(0, 1, (8, 1, 3, 3)).astype(np.float32)
    t = {"x": Tensor("x", (1, 4, 6, 6)), "w1": Tensor("w1", w1.shape, "float32", w1),
         "h": Tensor("h", (1, 8, 6, 6)), "w2": Tensor("w2", w2.shape, "float32", w2), "y": Tensor("y", (1, 8, 6, 6))}
    nodes = [Node("conv", "conv2d", ["x", "w1", ""], ["h"], conv_attrs()),
             Node("dw", "conv2d", ["h", "w2", ""], ["y"], conv_attrs(group=8))]
    g = Graph("two", t, nodes, ["x"], ["y"])
    verify(g)
    return g


def weight(g: Graph, node: str) -> np.ndarray:
    n = next(n for n in g.nodes if n.name == node)
    return g.tensors[n.inputs[1]].data


@pytest.mark.parametrize("ratio", [0.0, 0.1, 0.37, 0.5, 0.8, 0.95, 1.0])
def test_unstructured_zeroes_exactly_round_ratio_times_size(ratio):
    g = two_layer_graph()
    h = prune_unstructured(g, {"conv": ratio, "dw": ratio})
    for name, size in (("conv", 8 * 4 * 9), ("dw", 8 * 9)):
        assert np.count_nonzero(weight(h, name) == 0) == round(ratio * size)


def test_unstructured_zeroes_the_smallest_magnitudes():
    g = two_layer_graph()
    w = weight(g, "conv")
    pruned = weight(prune_unstructured(g, {"conv": 0.5}), "conv")
    kept = np.abs(w[pruned != 0])
    dropped = np.abs(w[pruned == 0])
    assert dropped.max() <= kept.min()
    assert np.array_equal(pruned[pruned != 0], w[pruned != 0])  # survivors keep their values


def test_unstructured_ties_break_by_position_deterministically():
    w = np.array([[1.0, -1.0, 1.0, 2.0], [-1.0, 3.0, 1.0, 1.0]], np.float32)
    g = graph_of("dense", [("x", (1, 4)), ("w", w), ("", None)], {"act": None})
    pruned = weight(prune_unstructured(g, {"node": 0.5}), "node")  # 4 zeros among six |w| = 1
    assert np.array_equal(pruned, [[0, 0, 0, 2], [0, 3, 1, 1]])


def test_prune_leaves_the_input_graph_and_shared_arrays_unchanged():
    g = two_layer_graph()
    before = {k: t.data.copy() for k, t in g.tensors.items() if t.is_const}
    prune_unstructured(g, {"conv": 0.9, "dw": 0.9})
    prune_nm(g, 1, 4, ["conv"])
    for k, data in before.items():
        assert np.array_equal(g.tensors[k].data, data)
    assert [n.inputs for n in g.nodes] == [["x", "w1", ""], ["h", "w2", ""]]


def test_pruned_graph_verifies_and_drops_the_unpruned_weight():
    h = prune_unstructured(two_layer_graph(), {"conv": 0.5})
    verify(h)
    assert "w1" not in h.tensors and h.nodes[0].inputs[1] in h.tensors


def test_uniform_ratios_cover_every_conv_and_dense_with_constant_weights():
    assert uniform_ratios(two_layer_graph(), 0.3) == {"conv": 0.3, "dw": 0.3}
    mm = graph_of("matmul", [("a", (2, 3)), ("b", (3, 4))], {})
    assert uniform_ratios(mm, 0.3) == {}


def test_unknown_layer_is_a_one_line_error_listing_valid_layers():
    with pytest.raises(BadInput) as e:
        prune_unstructured(two_layer_graph(), {"conv9": 0.5})
    assert "conv9" in str(e.value) and "'conv'" in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(BadInput, match="'nope'"):
        prune_nm(two_layer_graph(), 2, 4, ["nope"])


def test_ratio_outside_0_1_is_an_error():
    with pytest.raises(BadInput, match="1.5"):
        prune_unstructured(two_layer_graph(), {"conv": 1.5})


@pytest.mark.parametrize("seed", range(6))
def test_nm_keeps_the_n_largest_of_every_m_along_the_reduction(seed):
    rng = np.random.default_rng(seed)
    m = int(rng.integers(2, 17))
    n = int(rng.integers(1, m))
    rows, groups = int(rng.integers(1, 9)), int(rng.integers(1, 6))
    w = rng.normal(0, 1, (rows, groups * m)).astype(np.float32)
    kept = keep_n_of_m(w, n, m)
    assert fits_nm(kept, n, m)
    blocks, orig = kept.reshape(rows, groups, m), np.abs(w).reshape(rows, groups, m)
    assert np.all(np.count_nonzero(blocks, axis=2) == n)  # no exact zeros in w: exactly n kept
    for r in range(rows):
        for gi in range(groups):
            kept_mags = orig[r, gi][blocks[r, gi] != 0]
            assert kept_mags.min() >= orig[r, gi][blocks[r, gi] == 0].max()


def test_nm_on_a_conv_groups_over_input_channel_then_kernel_taps():
    rng = np.random.default_rng(3)
    w = rng.normal(0, 1, (5, 4, 3, 3)).astype(np.float32)  # reduction 36
    g = graph_of("conv2d", [("x", (1, 4, 7, 7)), ("w", w), ("", None)], conv_attrs())
    h, skipped = prune_nm(g, 2, 4)
    assert skipped == []
    mat = weight_matrix(weight(h, "node"))
    assert fits_nm(mat, 2, 4) and np.count_nonzero(mat) == 5 * 36 // 2


def test_nm_skips_layers_that_do_not_divide_when_automatic():
    h, skipped = prune_nm(two_layer_graph(), 2, 4)
    assert skipped == ["dw"]  # a 3x3 depthwise: 9 taps
    assert fits_nm(weight_matrix(weight(h, "conv")), 2, 4)
    assert np.count_nonzero(weight(h, "dw") == 0) == 0


def test_nm_named_layer_that_does_not_divide_is_an_error():
    with pytest.raises(BadInput) as e:
        prune_nm(two_layer_graph(), 2, 4, ["dw"])
    assert str(e.value) == "layer 'dw' reduction length 9 is not a multiple of M=4"


@pytest.mark.parametrize("n,m,message", [(3, 2, "--sparsity 3:2: N must be below M"),
                                         (4, 4, "N must be below M"), (0, 4, "N must be at least 1"),
                                         (1, 32, "M must be at most 16")])
def test_bad_nm_patterns_are_one_line_errors(n, m, message):
    with pytest.raises(BadInput, match=message):
        prune_nm(two_layer_graph(), n, m)


def test_dense_nm_groups_along_input_features():
    w = np.arange(1, 17, dtype=np.float32).reshape(2, 8)
    g = graph_of("dense", [("x", (1, 8)), ("w", w), ("", None)], {"act": None})
    h, _ = prune_nm(g, 1, 4)
    assert np.array_equal(weight(h, "node"), [[0, 0, 0, 4, 0, 0, 0, 8], [0, 0, 0, 12, 0, 0, 0, 16]])
