"""Kronecker kernels on the host: int8 C equals ref_int8 bit for bit, float32 within 1e-5, on random
factor shapes and on the shared AD autoencoder compressed by the kronecker pass."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.helpers import graph_of, quantize_graph, random_samples, run_c_host, run_ref
from tests.models import model_path, sample_inputs
from tinyc import interpreter, ir, pipeline, report
from tinyc.ir import Graph
from tinyc.ops.kronecker import a_first
from tinyc.passes.kronecker import kronecker
from tinyc.passes.plan import plan_memory
from tinyc.passes.quantize import quantize

pytestmark = pytest.mark.host


@pytest.fixture(autouse=True)
def _compiler():
    need_tool("gcc")


def kp_graph(shape_a, shape_b, x_shape, bias, residual, act, layout="dense", seed=0) -> Graph:
    """One dense_kp node with random factors; the residual keeps ~10 % of entries."""
    rng = np.random.default_rng(seed)
    (m1, k1), (m2, k2) = shape_a, shape_b
    m, k = m1 * m2, k1 * k2
    res = np.where(rng.random((m, k)) < 0.1, rng.normal(0, 0.3, (m, k)), 0).astype(np.float32)
    inputs = [("x", x_shape), ("A", rng.normal(size=shape_a).astype(np.float32)),
              ("B", rng.normal(size=shape_b).astype(np.float32)),
              ("b", rng.normal(size=m).astype(np.float32)) if bias else ("", None),
              ("R", res) if residual else ("", None)]
    attrs = {"shape_a": shape_a, "shape_b": shape_b, "act": act, "layout": layout,
             "residual_nnz": int(np.count_nonzero(res)) if residual else 0}
    return graph_of("dense_kp", inputs, attrs)


# (id, shape_a, shape_b, x shape, bias, residual, act, layout); odd sizes so every loop bound differs
CASES = [
    ("a_first_bias", (3, 5), (7, 2), (1, 10), True, False, None, "dense"),
    ("b_first_rows3_doped_relu", (5, 7), (2, 3), (3, 21), True, True, (0.0, None), "dense"),
    ("a_first_doped_no_bias", (2, 3), (5, 7), (2, 21), False, True, None, "dense"),
    ("ones_factor_relu6", (1, 7), (5, 1), (1, 7), True, False, (0.0, 6.0), "dense"),
    ("rows_rank3", (3, 3), (3, 3), (1, 5, 9), True, True, None, "dense"),
    ("wide_residual_u16_cols", (4, 20), (3, 15), (1, 300), True, True, None, "dense"),
    ("conv1x1_nchw_doped", (3, 2), (5, 7), (1, 14, 3, 5), True, True, (0.0, None), "nchw"),
    ("conv1d_nchw", (1, 3), (7, 5), (1, 15, 7), False, False, None, "nchw"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_dense_kp_int8_c_equals_reference(case):
    g = kp_graph(*case[1:])
    q = quantize_graph(g, random_samples(g, 8, seed=1))
    feeds = random_samples(g, 6, seed=2, lo=-1.5, hi=1.5)  # some inputs past the calibrated range saturate
    ref, c = run_ref(q, feeds)["y0"], run_c_host(q, feeds, sanitize=True)["y0"]
    assert np.array_equal(c, ref), f"{np.sum(c != ref)} of {c.size} values differ"
    assert len(np.unique(ref)) > min(10, ref.size // 4)  # not a constant or saturated output


def test_cases_cover_both_orders():
    assert {a_first(c[1], c[2]) for c in CASES} == {True, False}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_dense_kp_float_c_matches_reference(case):
    g = kp_graph(*case[1:])
    feeds = random_samples(g, 3, seed=3)
    ref, c = run_ref(g, feeds)["y0"], run_c_host(g, feeds, sanitize=True)["y0"]
    np.testing.assert_allclose(c, ref, rtol=1e-5, atol=1e-5 * max(1.0, float(np.abs(ref).max())))


def compressed_ad(doped: bool):
    """(float model, KP float graph, its int8 graph, calibration samples) of the AD autoencoder."""
    g = pipeline.frontend(model_path("ad_fc_autoencoder"))
    calib = sample_inputs("ad_fc_autoencoder", g.inputs[0], g.tensors[g.inputs[0]].shape)
    h = kronecker(g, "auto", doped=doped)
    ir.verify(h)
    q = quantize(h, calib)
    ir.verify(q)
    return g, h, q, calib


def layer_bytes(g: Graph) -> dict[str, tuple[str, int]]:
    planned, plan = plan_memory(g)
    doc = report.build_report(planned, plan, "m")
    return {layer["name"]: (layer["format"], layer["weights"]) for layer in doc["layers"]}


@pytest.mark.parametrize("doped", [False, True], ids=["kp", "doped_kp"])
def test_ad_autoencoder_kp_is_bit_exact_and_ten_times_smaller_per_layer(doped):
    g, h, q, calib = compressed_ad(doped)
    kp_layers = [n.name for n in h.nodes if n.op == "dense_kp"]
    assert len(kp_layers) == 8  # the 640x128, 128x128 and 128x640 layers; 128x8 and 8x128 stay dense
    feeds = {k: v[:8] for k, v in calib.items()}
    ref, c = run_ref(q, feeds), run_c_host(q, feeds)
    out = q.outputs[0]
    assert np.array_equal(c[out], ref[out])
    dense = layer_bytes(quantize(g, calib))
    compressed = layer_bytes(q)
    for name in kp_layers:
        fmt, size = compressed[name]
        assert fmt == ("dkp" if doped else "kp") and size * 10 <= dense[name][1], (name, size, dense[name])
    # the int8 KP model tracks its own float KP graph (the compression error is the pass's, not int8's)
    yq = q.tensors[out].q
    got = (ref[out].astype(np.float64) - yq.zero_point[0]) * yq.scale[0]
    want = interpreter.run_samples(h, feeds)[out]
    assert np.linalg.norm(got - want) <= 0.05 * np.linalg.norm(want)
