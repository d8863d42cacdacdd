"""gru_kp (a GRU with W = WA (x) WB and R = RA (x) RB): its float reference equals the GRU's with the
products formed, its torch form equals that, its int8 products stay within the step bound of
docs/rnn_int8.md against exact rational arithmetic, its int8 output stays near float, the kronecker
pass factors the digits GRU at >= 16x, and the report counts the factors."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import graph_of, quantize_graph, random_samples, run_ref
from tinyc import ops, pipeline, quant, report
from tinyc.errors import BadInput
from tinyc.ir import Node
from tinyc.ops.rnn_kp import kp_int
from tinyc.passes.kronecker import kronecker
from tinyc.passes.plan import plan_memory

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FACTORS = ("wa", "wb", "ra", "rb")


def gru_kp_case(hidden=6, n_in=4, shapes=((3, 2), (6, 2), (6, 3), (3, 2)), steps=5, batch=2, lbr=0,
                direction="forward", seed=0, scale=0.6):
    rng = np.random.default_rng(seed)
    f = [rng.normal(0, scale, s).astype(np.float32) for s in shapes]
    inputs = [("x", (steps, batch, n_in)), *zip(("WA", "WB", "RA", "RB"), f),
              ("B", rng.normal(0, 0.3, (1, 6 * hidden)).astype(np.float32))]
    attrs = {"hidden_size": hidden, "direction": direction, "linear_before_reset": lbr,
             **{"shape_" + k: s for k, s in zip(FACTORS, shapes)}}
    return graph_of("gru_kp", inputs, attrs, n_outputs=2)


@pytest.mark.parametrize("lbr,direction", [(0, "forward"), (1, "reverse")])
def test_float_reference_equals_the_gru_with_the_products_formed(lbr, direction):
    g = gru_kp_case(lbr=lbr, direction=direction)
    node = g.nodes[0]
    x = random_samples(g, 1, seed=1)["x"][0]
    wa, wb, ra, rb, b = (g.tensors[n].data for n in node.inputs[1:])
    attrs = {"hidden_size": 6, "direction": direction, "linear_before_reset": lbr}
    gru_node = Node("g", "gru", [], ["y", "y_h"], attrs)
    want = ops.get("gru").ref_float(gru_node, [x, np.kron(wa, wb)[None], np.kron(ra, rb)[None], b])
    got = ops.get("gru_kp").ref_float(node, [x, wa, wb, ra, rb, b])
    for w, o in zip(want, got):
        np.testing.assert_allclose(o, w, rtol=0, atol=1e-6)


def test_torch_form_equals_the_float_reference():
    torch = pytest.importorskip("torch")
    from tinyc.train.rnn import gru_kp

    g = gru_kp_case(lbr=1, seed=4)
    node = g.nodes[0]
    x = random_samples(g, 1, seed=2)["x"][0]
    vals = [x] + [g.tensors[n].data for n in node.inputs[1:]]
    want = ops.get("gru_kp").ref_float(node, vals)
    got = gru_kp(node, [torch.from_numpy(v) for v in vals])
    for w, o in zip(want, got):
        np.testing.assert_allclose(o.detach().numpy(), w, rtol=0, atol=1e-5)


@pytest.mark.parametrize("v_max,seed", [(255, 0), (32768, 1), (32768, 2)])
def test_int8_product_within_the_step_bound_of_exact_arithmetic(v_max, seed):
    """|acc - r1 (A (x) B) v| <= L1(row of B) (docs/rnn_int8.md), r1 as quantized, on random vectors and on
    the worst-case vector of the widest row of A (T at its bound: T16 must not saturate)."""
    rng = np.random.default_rng(seed)
    a = rng.integers(-127, 128, (6, 4))
    b = rng.integers(-127, 128, (8, 16))
    l1a = int(np.abs(a).sum(axis=1).max())
    mult, shift = quant.quantize_multiplier(min(1.0, 32767 / (v_max * l1a)))
    r1 = Fraction(int(mult), 2**31) * Fraction(2) ** int(shift)
    worst = np.tile(np.sign(a[np.abs(a).sum(axis=1).argmax()])[:, None] * (v_max - 1), (1, 16)).reshape(-1)
    vectors = [rng.integers(-v_max, v_max, 64) for _ in range(20)] + [worst]
    bound = np.tile(np.abs(b).sum(axis=1), 6)
    worst_err = 0.0
    for v in vectors:
        acc = kp_int(a, b, v.astype(np.int64), (mult, shift), slice(0, 6))
        exact = np.kron(a, b).astype(object) @ [int(e) for e in v]  # Python ints: no overflow
        err = np.array([abs(Fraction(int(c)) - r1 * e) for c, e in zip(acc, exact)])
        assert np.all(err <= bound), f"max error {max(err)} over bound"
        worst_err = max(worst_err, float(max(err / bound)))
    assert worst_err > 0.05  # the bound is met, not vacuous: the rounding shows


def test_int8_output_stays_near_float():
    g = gru_kp_case(hidden=12, n_in=6, shapes=((6, 3), (6, 2), (6, 4), (6, 3)), steps=8, batch=3, scale=0.5)
    calib = random_samples(g, 16, seed=5)
    q = quantize_graph(g, calib)
    feeds = random_samples(g, 4, seed=6)
    f = run_ref(g, feeds)["y1"]
    i8 = run_ref(q, feeds)["y1"].astype(np.float64) / 128
    err = np.abs(i8 - f).max()
    assert err <= 0.02, err  # measured 0.0071 (|Y_h| up to 0.86): int8 x and factors, Q0.15 h, tables


def digits_gru():
    return pipeline.frontend(EXAMPLES / "digits_gru.onnx")


def test_pass_factors_the_digits_gru_at_16x_with_gates_in_rows_of_a():
    g = digits_gru()
    h = kronecker(g, "auto", trained=True)
    node = next(n for n in h.nodes if n.op == "gru_kp")
    assert not any(n.op == "gru" for n in h.nodes)
    gru = next(n for n in g.nodes if n.op == "gru")
    for mat, dense in (("w", g.tensors[gru.inputs[1]].data), ("r", g.tensors[gru.inputs[2]].data)):
        (m1, k1), (m2, k2) = node.attrs[f"shape_{mat}a"], node.attrs[f"shape_{mat}b"]
        assert m1 % 3 == 0 and dense.size / (m1 * k1 + m2 * k2) >= 16
    assert (node.attrs["shape_wa"], node.attrs["shape_wb"]) == ((6, 4), (32, 2))
    assert (node.attrs["shape_ra"], node.attrs["shape_rb"]) == ((6, 4), (32, 16))
    assert gru.inputs[1] not in h.tensors and gru.inputs[2] not in h.tensors
    named = kronecker(g, [gru.name], trained=True)
    assert [n.op for n in named.nodes] == [n.op for n in h.nodes]


def test_pass_names_a_layer_it_cannot_factor():
    with pytest.raises(BadInput, match="'softmax'.*GRU"):
        kronecker(digits_gru(), ["softmax"])


def test_report_layer_bytes_count_the_factors():
    g = kronecker(digits_gru(), "auto", trained=True)
    calib = {g.inputs[0]: np.load(EXAMPLES / "digits_calib_gru.npz")["input"][:32]}
    q = quantize_graph(g, calib)
    node = next(n for n in q.nodes if n.op == "gru_kp")
    q, mem = plan_memory(q)
    layer = next(entry for entry in report.build_report(q, mem, "digits")["layers"] if entry["name"] == node.name)
    factors = 6 * 4 + 32 * 2 + 6 * 4 + 32 * 16  # int8
    params = 4 * 4 * 64 + 2 * 8 * 6 + 2 * 257 * 2  # int32 bias, multiplier and shift per row of each A, tables
    assert layer["weights"] == factors + params, layer


def test_qat_fake_quantizes_every_factor():
    pytest.importorskip("torch")
    from tinyc.train.finetune import fake_quantize
    from tinyc.train.module import GraphModule

    g = kronecker(digits_gru(), "auto", trained=True)
    calib = {g.inputs[0]: np.load(EXAMPLES / "digits_calib_gru.npz")["input"][:32]}
    model = GraphModule(g)
    fake_quantize(model, g, calib, "minmax")
    node = next(n for n in g.nodes if n.op == "gru_kp")
    assert set(node.inputs[1:5]) <= set(model.weight_hooks)
