"""gru_kp kernels on the host (ASan): int8 C equals ref_int8 bit for bit, float32 C within 1e-4 of the
float reference, over both linear_before_reset values, reverse, batch > 1 and odd factor shapes."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.helpers import graph_of, quantize_graph, random_samples, run_c_host, run_ref
from tinyc.ir import Graph

pytestmark = pytest.mark.host


@pytest.fixture(autouse=True)
def _compiler():
    need_tool("gcc")


def gru_kp_graph(hidden, n_in, shapes, steps=5, batch=1, before_reset=0, direction="forward", bias=True,
                 seed=0) -> Graph:
    """One gru_kp node with random factors (shapes: wa, wb, ra, rb) scaled to keep the gates unsaturated."""
    rng = np.random.default_rng(seed)
    f = {k: rng.normal(0, 0.5, s).astype(np.float32) for k, s in zip(("wa", "wb", "ra", "rb"), shapes)}
    inputs = [("x", (steps, batch, n_in)), ("WA", f["wa"]), ("WB", f["wb"]), ("RA", f["ra"]), ("RB", f["rb"]),
              ("B", rng.normal(0, 0.3, (1, 6 * hidden)).astype(np.float32)) if bias else ("", None)]
    attrs = {"hidden_size": hidden, "direction": direction, "linear_before_reset": before_reset,
             **{"shape_" + k: tuple(s) for k, s in zip(("wa", "wb", "ra", "rb"), shapes)}}
    return graph_of("gru_kp", inputs, attrs, n_outputs=2)


# (id, hidden, input, (wa, wb, ra, rb), steps, batch, linear_before_reset, direction, bias)
CASES = [
    ("digits_shapes", 64, 8, ((6, 4), (32, 2), (6, 4), (32, 16)), 8, 1, 0, "forward", True),
    ("odd_lbr_reverse_batch", 10, 15, ((3, 5), (10, 3), (6, 2), (5, 5)), 6, 3, 1, "reverse", True),
    ("no_bias_wide_a", 4, 6, ((12, 6), (1, 1), (3, 4), (4, 1)), 4, 2, 0, "forward", False),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_gru_kp_int8_c_equals_reference(case):
    g = gru_kp_graph(*case[1:])
    q = quantize_graph(g, random_samples(g, 8, seed=1))
    feeds = random_samples(g, 4, seed=2, lo=-1.5, hi=1.5)
    ref, c = run_ref(q, feeds), run_c_host(q, feeds, sanitize=True)
    for out in ("y0", "y1"):
        assert np.array_equal(c[out], ref[out]), f"{out}: {np.sum(c[out] != ref[out])} values differ"
    assert len(np.unique(ref["y0"])) > 10


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_gru_kp_float_c_matches_reference(case):
    g = gru_kp_graph(*case[1:])
    feeds = random_samples(g, 3, seed=3)
    ref, c = run_ref(g, feeds), run_c_host(g, feeds, sanitize=True)
    for out in ("y0", "y1"):
        assert np.abs(c[out] - ref[out]).max() <= 1e-4 * max(1.0, float(np.abs(ref[out]).max()))


def test_digits_gru_factored_by_the_pass_int8_c_equals_reference():
    from pathlib import Path

    from tinyc import pipeline
    from tinyc.passes.kronecker import kronecker

    examples = Path(__file__).resolve().parents[2] / "examples"
    g = kronecker(pipeline.frontend(examples / "digits_gru.onnx"), "auto", trained=True)
    calib = np.load(examples / "digits_calib_gru.npz")["input"]
    q = quantize_graph(g, {g.inputs[0]: calib})
    feeds = {g.inputs[0]: np.load(examples / "digits_test_gru.npz")["input"][:16]}
    ref, c = run_ref(q, feeds), run_c_host(q, feeds, sanitize=True)
    out = q.outputs[0]
    assert np.array_equal(c[out], ref[out]), f"{np.sum(c[out] != ref[out])} values differ"
