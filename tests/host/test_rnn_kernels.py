"""tinyc_rnn.c on the host: float kernels within 1e-5 of the reference, int8 kernels bit-exact."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.helpers import quantize_graph, run_c_host, run_ref
from tests.unit.test_rnn_ops import one_node, real_rnn

pytestmark = pytest.mark.host

CASES = [("lstm", 0), ("gru", 0), ("gru", 1)]


@pytest.fixture(autouse=True)
def _cc():
    need_tool("cc")


def samples_for(g, count: int, seed: int, amplitude: float) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {n: rng.uniform(-amplitude, amplitude, (count, *g.tensors[n].shape)).astype(np.float32) for n in g.inputs}


@pytest.mark.parametrize("op,lbr", CASES)
@pytest.mark.parametrize("t,i,h,bias,states", [(1, 1, 1, True, "input"), (5, 3, 7, False, "none"),
                                               (4, 7, 5, True, "const")])
def test_float_kernel_matches_reference(op, lbr, t, i, h, bias, states):
    g = one_node(op, lbr, t, i, h, seed=t + h, bias=bias, states=states, scale=2.0)
    samples = samples_for(g, 3, seed=h, amplitude=2.0)
    want, got = run_ref(g, samples), run_c_host(g, samples)
    for name in g.outputs:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("op,lbr", CASES)
@pytest.mark.parametrize("t,i,h,states,amplitude", [(1, 1, 1, "input", 1.0), (5, 3, 7, "none", 1.0),
                                                    (4, 7, 5, "const", 1.0), (6, 5, 3, "input", 8.0),
                                                    (3, 13, 13, "input", 8.0)])  # 8-column groups and tails
def test_int8_kernel_is_bit_exact(op, lbr, t, i, h, states, amplitude):
    # amplitude 8 with weights up to 3 drives gates into Q3.12 saturation and the tables' ends.
    g = one_node(op, lbr, t, i, h, seed=t * 7 + h, states=states, scale=0.5 if amplitude == 1.0 else 3.0)
    samples = samples_for(g, 4, seed=i, amplitude=amplitude)
    q = quantize_graph(g, samples)
    want, got = run_ref(q, samples), run_c_host(q, samples, sanitize=True)  # UBSan: no signed overflow
    for name in q.outputs:
        assert np.array_equal(got[name], want[name]), name


@pytest.mark.parametrize("op", ["lstm", "gru"])
def test_absent_y_output_is_passed_as_null(op):
    g = one_node(op, 0, 3, 3, 5, seed=3)
    samples = samples_for(g, 2, seed=4, amplitude=1.0)
    q = quantize_graph(g, samples)
    q.nodes[0].outputs[0] = ""  # Y unused, as in the KWS models
    del q.tensors["y0"]
    q.outputs.remove("y0")
    want, got = run_ref(q, samples), run_c_host(q, samples, sanitize=True)
    for name in q.outputs:
        assert np.array_equal(got[name], want[name]), name


@pytest.mark.parametrize("op", ["lstm", "gru"])
def test_kws_model_node_float_and_int8(op):
    g, samples, _ = real_rnn(op)
    want, got = run_ref(g, samples), run_c_host(g, samples)
    for name in g.outputs:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-5, atol=1e-5)
    q = quantize_graph(g, samples)
    want, got = run_ref(q, samples), run_c_host(q, samples)
    for name in q.outputs:
        assert np.array_equal(got[name], want[name]), name
