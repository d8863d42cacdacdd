"""Channel pruning: which filters go, how the layers downstream follow, when a layer is left whole,
and what it does to the shared models (fewer weights, a valid graph, outputs close at small ratios)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import random_samples, run_ref
from tests.models import model_path, sample_inputs
from tinyc import ops, pipeline
from tinyc.errors import BadInput
from tinyc.ir import Graph, Node, Tensor, verify
from tinyc.passes.channel_prune import prune_channels

CONV = {"strides": (1, 1), "dilations": (1, 1), "pads": (1, 1, 1, 1), "group": 1, "act": (0.0, None)}
POINTWISE = dict(CONV, pads=(0, 0, 0, 0))
RELU = {"fn": "relu"}


class Chain:
    """A float graph built node by node; ndarray inputs become constants."""

    def __init__(self, shape: tuple[int, ...], seed: int = 0):
        self.g = Graph("test", {"x": Tensor("x", shape)}, [], ["x"], [])
        self.rng = np.random.default_rng(seed)

    def add(self, op: str, inputs: list, attrs: dict | None = None) -> str:
        names = []
        for i in inputs:
            if isinstance(i, np.ndarray):
                i = self.g.add_const(f"c{len(self.g.tensors)}", i.astype(np.float32), "float32")
            names.append(i)
        k = len(self.g.nodes)
        node = Node(f"n{k}", op, names, [f"t{k}"], dict(attrs or {}))
        shape = ops.get(op).infer_shape(node, [self.g.tensors[n].shape if n else None for n in names])[0]
        self.g.tensors[f"t{k}"] = Tensor(f"t{k}", tuple(shape))
        self.g.nodes.append(node)
        return f"t{k}"

    def normal(self, *shape: int) -> np.ndarray:
        return self.rng.standard_normal(shape)

    def done(self, *outputs: str) -> Graph:
        self.g.outputs = list(outputs)
        verify(self.g)
        return self.g


def weights(g: Graph, node: str, index: int = 1) -> np.ndarray:
    return g.tensors[next(n for n in g.nodes if n.name == node).inputs[index]].data


def weight_count(g: Graph) -> int:
    return sum(g.tensors[n.inputs[1]].size for n in g.nodes if n.op in ("conv2d", "dense"))


def outputs(g: Graph, samples: dict) -> np.ndarray:
    return run_ref(g, samples)[g.outputs[0]]


def with_weak_filters(w: np.ndarray, weak: list[int], scale: float = 0.0) -> np.ndarray:
    w = w.copy()
    w[weak] *= scale
    return w


def test_removes_the_filters_of_least_l1_norm_and_the_matching_input_channels():
    c = Chain((1, 3, 6, 6))
    w1 = with_weak_filters(c.normal(5, 3, 3, 3), [1, 3], 0.1)
    h = c.add("conv2d", ["x", w1, c.normal(5)], CONV)
    h = c.add("maxpool", [h], {"kernel": (2, 2), "strides": (2, 2)})
    w2 = c.normal(7, 5, 3, 3)
    g = c.done(c.add("conv2d", [h, w2, c.normal(7)], CONV))
    p, skipped = prune_channels(g, {"n0": 0.4})
    verify(p)
    assert skipped == []
    assert np.array_equal(weights(p, "n0"), w1[[0, 2, 4]].astype(np.float32))
    assert np.array_equal(weights(p, "n2"), w2[:, [0, 2, 4]].astype(np.float32))
    assert p.tensors["t0"].shape == (1, 3, 6, 6) and p.tensors["t1"].shape == (1, 3, 3, 3)
    assert p.tensors["t2"].shape == g.tensors["t2"].shape


def test_ratio_zero_is_the_identity():
    c = Chain((1, 3, 5, 5))
    h = c.add("conv2d", ["x", c.normal(7, 3, 3, 3), c.normal(7)], CONV)
    g = c.done(c.add("conv2d", [h, c.normal(4, 7, 1, 1), c.normal(4)], POINTWISE))
    p, skipped = prune_channels(g, 0.0)
    x = random_samples(g, 4)
    assert skipped == [] and weight_count(p) == weight_count(g)
    assert np.array_equal(outputs(p, x), outputs(g, x))


def zero_filter_chain(bias_scale: float, kernel: int = 3) -> tuple[Graph, list[int]]:
    """conv 1x1 (5 filters, two of them zero) -> relu'd depthwise kernel x kernel -> flatten -> dense."""
    c = Chain((1, 3, 4, 4), seed=1)
    weak = [0, 3]
    b1 = c.normal(5)
    b1[weak] *= bias_scale
    h = c.add("conv2d", ["x", with_weak_filters(c.normal(5, 3, 1, 1), weak), b1], POINTWISE)
    b2 = c.normal(5)
    b2[weak] *= bias_scale
    pad = kernel // 2
    h = c.add("conv2d", [h, c.normal(5, 1, kernel, kernel), b2], dict(CONV, group=5, pads=(pad,) * 4))
    h = c.add("reshape", [h], {"shape": (1, 80)})
    g = c.done(c.add("dense", [h, c.normal(6, 80), c.normal(6)], {"act": None}))
    return g, weak


def test_zero_filters_prune_exactly_through_depthwise_and_flatten():
    g, weak = zero_filter_chain(bias_scale=0.0)
    p, skipped = prune_channels(g, {"n0": 0.4})
    verify(p)
    kept = [1, 2, 4]
    columns = np.concatenate([np.arange(16 * c, 16 * c + 16) for c in kept])  # flatten: channel c -> c*H*W..
    assert skipped == []
    assert weights(p, "n1").shape == (3, 1, 3, 3) and p.nodes[1].attrs["group"] == 3
    assert np.array_equal(weights(p, "n1"), weights(g, "n1")[kept])
    assert p.nodes[2].attrs["shape"] == (1, 48)
    assert np.array_equal(weights(p, "n3"), weights(g, "n3")[:, columns])
    x = random_samples(g, 5)
    assert np.allclose(outputs(p, x), outputs(g, x), rtol=1e-5, atol=1e-5)


def test_removed_constant_channels_pass_a_depthwise_conv_into_the_next_bias():
    g, _ = zero_filter_chain(bias_scale=1.0, kernel=1)  # the removed channels output relu(bias): constants
    p, _ = prune_channels(g, {"n0": 0.4})
    assert weights(p, "n3").shape == (6, 48)
    x = random_samples(g, 5)
    assert np.allclose(outputs(p, x), outputs(g, x), rtol=1e-5, atol=1e-5)


def test_pointwise_convs_absorb_removed_constants_exactly():
    c = Chain((1, 3, 4, 4), seed=3)
    h = c.add("conv2d", ["x", with_weak_filters(c.normal(7, 3, 1, 1), [1, 4]), c.normal(7)], POINTWISE)
    g = c.done(c.add("conv2d", [h, c.normal(5, 7, 1, 1), c.normal(5)], POINTWISE))
    p, _ = prune_channels(g, {"n0": 0.3})
    assert weights(p, "n1").shape == (5, 5, 1, 1)
    x = random_samples(g, 4)
    assert np.allclose(outputs(p, x), outputs(g, x), rtol=1e-5, atol=1e-5)


def test_dense_chain_absorbs_removed_constants_exactly():
    c = Chain((1, 8), seed=2)
    w1 = with_weak_filters(c.normal(9, 8), [2, 5, 7])
    h = c.add("dense", ["x", w1, c.normal(9)], {"act": (0.0, None)})
    h = c.add("prelu", [h, np.abs(c.normal(9)) * 0.1])
    g = c.done(c.add("dense", [h, c.normal(3, 9), ""], {"act": None}))
    p, skipped = prune_channels(g, 0.3)
    verify(p)
    assert [s[0] for s in skipped] == ["n2"] and "graph output" in skipped[0][1]
    assert weights(p, "n0").shape == (6, 8) and weights(p, "n1").shape == (6,)
    assert weights(p, "n2").shape == (3, 6) and p.nodes[2].inputs[2]  # a bias now holds the constants
    x = random_samples(g, 6)
    assert np.allclose(outputs(p, x), outputs(g, x), rtol=1e-5, atol=1e-5)


def test_keeps_at_least_one_channel():
    c = Chain((1, 4))
    h = c.add("dense", ["x", c.normal(3, 4), c.normal(3)], {"act": (0.0, None)})
    g = c.done(c.add("dense", [h, c.normal(2, 3), c.normal(2)], {"act": None}))
    p, _ = prune_channels(g, {"n0": 1.0})
    assert weights(p, "n0").shape == (1, 4) and weights(p, "n1").shape == (2, 1)


def residual_graph() -> Graph:
    c = Chain((1, 3, 4, 4))
    a = c.add("conv2d", ["x", c.normal(5, 3, 1, 1), c.normal(5)], POINTWISE)
    b = c.add("conv2d", [a, c.normal(5, 5, 1, 1), c.normal(5)], POINTWISE)
    s = c.add("add", [a, b], {"act": None})
    t = c.add("transpose", [s], {"perm": (0, 2, 3, 1)})
    return c.done(t)


def test_residual_branches_transposes_and_outputs_are_left_whole_with_reasons():
    g = residual_graph()
    p, skipped = prune_channels(g, 0.5)
    reasons = dict(skipped)
    assert "2 consumers" in reasons["n0"] and "residual" in reasons["n1"]
    assert weight_count(p) == weight_count(g)
    c = Chain((1, 3, 4, 4))
    a = c.add("conv2d", ["x", c.normal(5, 3, 1, 1), c.normal(5)], POINTWISE)
    b = c.add("conv2d", ["x", c.normal(4, 3, 1, 1), c.normal(4)], POINTWISE)
    g = c.done(c.add("concat", [a, b], {"axis": 1}))
    _, skipped = prune_channels(g, 0.5)
    assert all("concat" in why for _, why in skipped) and len(skipped) == 2
    c = Chain((1, 3, 4, 4))
    g = c.done(c.add("conv2d", ["x", c.normal(5, 3, 1, 1), c.normal(5)], POINTWISE))
    assert "graph output" in prune_channels(g, 0.5)[1][0][1]


def test_unknown_layer_or_bad_ratio_is_a_one_line_error():
    g = residual_graph()
    with pytest.raises(BadInput, match="no conv2d or dense layer 'nope'"):
        prune_channels(g, {"nope": 0.5})
    with pytest.raises(BadInput, match="a ratio from 0 to 1"):
        prune_channels(g, 1.5)


# ---- the shared models ----------------------------------------------------------------------------

# (model, ratio, largest |output change| allowed on the README samples); outputs are softmax
# probabilities for kws and vww, logits (range ~6,000) for mnist8. Measured: kws 6.3e-05 at 0.02 and
# 5.1e-03 at 0.05; vww 0.018 at 0.02 (0.57 at 0.05: its thin layers have no slack without fine-tuning);
# mnist8 589 (9 % of the logit range) at 0.05, same class on every sample.
SHARED = [("kws_dscnn", 0.05, 0.01), ("vww_mobilenetv1", 0.02, 0.03), ("mnist8_cnn", 0.05, 600.0)]


@pytest.mark.parametrize("name,ratio,bound", SHARED)
def test_shared_model_gets_smaller_stays_valid_and_close(name, ratio, bound):
    g = pipeline.frontend(model_path(name))
    x = sample_inputs(name, g.inputs[0], g.tensors[g.inputs[0]].shape)
    p, skipped = prune_channels(g, ratio)
    verify(p)
    assert weight_count(p) < weight_count(g)
    assert {s[0] for s in skipped} <= {n.name for n in g.nodes if n.op == "dense"}  # the classifier at most
    before, after = outputs(g, x), outputs(p, x)
    assert np.abs(after - before).max() <= bound
    assert np.array_equal(after.reshape(len(after), -1).argmax(1), before.reshape(len(before), -1).argmax(1))
    same, _ = prune_channels(g, 0.0)
    assert np.array_equal(outputs(same, x), before)


def test_half_of_the_channels_halves_vww_weights_and_keeps_shapes_consistent():
    g = pipeline.frontend(model_path("vww_mobilenetv1"))
    p, _ = prune_channels(g, 0.5)
    verify(p)
    assert weight_count(p) < 0.3 * weight_count(g)
    for node in p.nodes:  # every stored shape is what the op infers
        inferred = ops.get(node.op).infer_shape(node, [p.tensors[i].shape if i else None for i in node.inputs])
        assert [p.tensors[o].shape for o in node.outputs] == [tuple(s) for s in inferred]
