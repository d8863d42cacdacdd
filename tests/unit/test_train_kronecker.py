"""Trained Kronecker factors: dense_kp in torch equals the op's float reference, the doped residual keeps
its positions, co-matrix dropout's schedule, and the factor shapes chosen for a ratio."""

from __future__ import annotations

import numpy as np
import pytest

from tinyc import ops
from tinyc.ir import Graph, Node, Tensor
from tinyc.passes import kronecker as kp
from tinyc.passes.kronecker import dense_layer_bytes, factor_shapes, kp_layer_bytes, shape_for_ratio

torch = pytest.importorskip("torch")
from tinyc.train.kronecker import (KroneckerDense, comatrix_drop_probability, comatrix_keep,  # noqa: E402
                                   dense_kp)


def kp_case(layout: str, bias: bool, doped: bool, act, seed: int = 0):
    """A dense_kp node A (3x4) (x) B (5x2) in a float graph, and an input x for it."""
    rng = np.random.default_rng(seed)
    (m1, k1), (m2, k2) = (3, 4), (5, 2)
    m, k = m1 * m2, k1 * k2
    x = rng.standard_normal((2, 3, k) if layout == "dense" else (1, k, 2, 3)).astype(np.float32)
    res = rng.standard_normal((m, k)) * (rng.random((m, k)) < 0.1)
    consts = {"a": rng.standard_normal((m1, k1)), "b": rng.standard_normal((m2, k2)),
              "bias": rng.standard_normal(m), "res": res}
    tensors = {n: Tensor(n, v.shape, "float32", v.astype(np.float32)) for n, v in consts.items()}
    tensors["x"] = Tensor("x", x.shape, "float32")
    node = Node("kp", "dense_kp", ["x", "a", "b", "bias" if bias else "", "res" if doped else ""], ["y"],
                {"act": act, "shape_a": (m1, k1), "shape_b": (m2, k2), "layout": layout,
                 "residual_nnz": int(np.count_nonzero(res)) if doped else 0})
    shape = ops.get("dense_kp").infer_shape(node, [x.shape, (m1, k1), (m2, k2)])[0]
    tensors["y"] = Tensor("y", shape, "float32")
    return node, Graph("g", tensors, [node], ["x"], ["y"]), x


def _ref(node: Node, g: Graph, x: np.ndarray) -> np.ndarray:
    xs = [x] + [g.tensors[i].data if i else None for i in node.inputs[1:]]
    return ops.get("dense_kp").ref_float(node, xs)[0]


@pytest.mark.parametrize("layout,bias,doped,act", [("dense", True, False, None), ("dense", False, True, (0.0, None)),
                                                   ("nchw", True, True, (0.0, 6.0)), ("nchw", False, False, None)])
def test_torch_dense_kp_equals_the_float_reference(layout, bias, doped, act):
    node, g, x = kp_case(layout, bias, doped, act)
    expected = _ref(node, g, x)
    xs = [torch.tensor(x)] + [torch.tensor(g.tensors[i].data) if i else None for i in node.inputs[1:]]
    got = dense_kp(node, xs)[0].numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    module_out = KroneckerDense(node, g)(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(module_out, expected, rtol=1e-5, atol=1e-5)


def test_training_moves_the_factors_and_keeps_the_residual_positions():
    node, g, x = kp_case("dense", True, True, None)
    layer = KroneckerDense(node, g)
    opt = torch.optim.SGD(layer.parameters(), lr=0.1)
    for _ in range(3):
        loss = (layer(torch.tensor(x)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    trained = layer.arrays()
    positions = g.tensors["res"].data != 0
    assert not np.allclose(trained["a"], g.tensors["a"].data)
    assert np.all(trained["res"][~positions] == 0)  # nothing grew off the doped positions
    assert not np.allclose(trained["res"][positions], g.tensors["res"].data[positions])


def test_comatrix_dropout_drops_the_residual_only():
    node, g, x = kp_case("dense", True, True, None)
    layer = KroneckerDense(node, g)
    layer.comatrix_keep = 0.0
    without = layer(torch.tensor(x)).detach().numpy()
    g_plain = g.copy()
    g_plain.nodes[0] = Node("kp", "dense_kp", node.inputs[:4] + [""], ["y"], node.attrs)
    np.testing.assert_allclose(without, _ref(g_plain.nodes[0], g_plain, x), rtol=1e-5, atol=1e-5)


def test_comatrix_dropout_probability_anneals_to_zero():
    total = 100
    p = [comatrix_drop_probability(s, total) for s in range(total)]
    assert p[0] == pytest.approx(0.5)
    assert p[37] == pytest.approx(0.5 * (1 - 37 / 75))
    assert all(a >= b for a, b in zip(p, p[1:]))  # never rises
    assert all(v == 0.0 for v in p[75:])  # the last quarter trains what inference computes
    keeps = [comatrix_keep(s, 4000, torch.Generator().manual_seed(s)) for s in range(300)]
    assert 0.3 < 1 - np.mean(keeps) < 0.7  # early steps drop about half the time
    again = [comatrix_keep(s, 4000, torch.Generator().manual_seed(s)) for s in range(300)]
    assert keeps == again  # seeded


def _rank_and_entries(a, b) -> tuple[int, int]:
    return min(a) * min(b), a[0] * a[1] + b[0] * b[1]


@pytest.mark.parametrize("m,k", [(256, 256), (256, 64), (192, 64), (64, 512)])
def test_shape_for_ratio_reaches_the_ratio_with_the_most_capable_factors(m, k):
    a, b = shape_for_ratio(m, k, has_bias=True, min_ratio=10)
    budget = dense_layer_bytes(m, k) / 10
    assert kp_layer_bytes(a, b, True) <= budget
    fitting = [_rank_and_entries(*s) for s in factor_shapes(m, k) if kp_layer_bytes(*s, True) <= budget]
    assert _rank_and_entries(a, b) == max(fitting)  # brute force: no fitting shape has more rank, then entries


def test_shape_for_ratio_known_cases_and_none():
    assert shape_for_ratio(256, 256, True) == ((4, 4), (64, 64))  # full rank 256, 4,112 entries
    assert shape_for_ratio(8, 8, True, min_ratio=10) is None  # too small for any KP layer 10x below


def test_kronecker_pass_uses_ratio_shapes_when_trained():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((256, 256)).astype(np.float32)
    tensors = {"x": Tensor("x", (1, 256), "float32"), "w": Tensor("w", w.shape, "float32", w),
               "y": Tensor("y", (1, 256), "float32")}
    g = Graph("g", tensors, [Node("fc", "dense", ["x", "w"], ["y"], {})], ["x"], ["y"])
    out = kp.kronecker(g, "auto", trained=True)
    trained = out.nodes[0]
    shapes = (trained.attrs["shape_a"], trained.attrs["shape_b"])
    assert shapes == shape_for_ratio(256, 256, False) == ((4, 4), (64, 64))
    a, b = kp.nearest_kronecker(w, (4, 4), (64, 64))  # initialised to the nearest KP of those shapes
    np.testing.assert_allclose(out.tensors[trained.inputs[1]].data, a, rtol=1e-5)


def test_fit_to_data_recovers_an_exact_product_and_beats_the_nearest_kp_on_the_data():
    from tinyc.train.kronecker import fit_to_data
    rng = np.random.default_rng(2)
    a0, b0 = rng.standard_normal((4, 3)), rng.standard_normal((5, 2))
    x = rng.standard_normal((200, 6))
    a, b = fit_to_data(x, x @ np.kron(a0, b0).T, rng.standard_normal((4, 3)), rng.standard_normal((5, 2)))
    np.testing.assert_allclose(np.kron(a, b), np.kron(a0, b0), atol=1e-4)
    # a W that is no Kronecker product, inputs that use half the columns: the fit wins on those inputs
    w = rng.standard_normal((20, 6))
    x[:, ::2] = 0
    near = kp.nearest_kronecker(w, (4, 3), (5, 2))
    fitted = fit_to_data(x, x @ w.T, *near)
    err_near, err_fit = (np.linalg.norm(x @ w.T - x @ np.kron(*f).T) for f in (near, fitted))
    assert err_fit < 0.9 * err_near


def test_install_registers_dense_kp_gru_and_gru_kp_with_the_fine_tuning_executor():
    from types import SimpleNamespace

    from tinyc.train import kronecker as train_kp
    from tinyc.train import rnn as train_rnn
    table: dict = {}

    def register(*names):
        def add(fn):
            table.update(dict.fromkeys(names, fn))
            return fn
        return add

    core = SimpleNamespace(register=register, TRAINABLE={}, MASKED={}, QUANTIZED_WEIGHTS={})
    train_kp.install(core)
    train_rnn.install(core)
    assert table == {"dense_kp": train_kp.dense_kp, "gru": train_rnn.gru, "gru_kp": train_rnn.gru_kp}
    assert core.TRAINABLE == {"dense_kp": (1, 2, 3, 4), "gru": (1, 2, 3), "gru_kp": (1, 2, 3, 4, 5)}
    assert core.QUANTIZED_WEIGHTS == {"gru_kp": {1: "row", 2: "tensor", 3: "row", 4: "tensor"}}
    assert core.MASKED == {"dense_kp": (4,)}  # the doped residual's zeros stay zero
