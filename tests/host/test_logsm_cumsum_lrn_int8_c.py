"""The int8 log softmax, cumulative sum and local response normalization of runtime_c (tinyc_log_softmax_s8,
tinyc_cumsum_s8, tinyc_lrn_s8) against ref_int8, bit for bit, under AddressSanitizer and
UndefinedBehaviorSanitizer: every axis, exclusive and reverse, LRN windows cut at both channel ends,
inputs past the calibrated range (saturating), over the whole int8 range and constant."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.helpers import quantize_graph, run_c_host, run_ref
from tinyc import ops, quant
from tinyc.ir import Graph, Node, Tensor, verify

pytestmark = pytest.mark.host

SHAPE = (2, 5, 3, 7)
NODES = [("log_softmax", {"axis": a}) for a in range(4)] + [
    ("cumsum", {"axis": 3, "exclusive": 0, "reverse": 0}),
    ("cumsum", {"axis": 1, "exclusive": 1, "reverse": 0}),
    ("cumsum", {"axis": 2, "exclusive": 0, "reverse": 1}),
    ("cumsum", {"axis": 0, "exclusive": 1, "reverse": 1}),
    ("lrn", {"size": 3, "alpha": 0.5, "beta": 0.75, "bias": 1.0}),
    ("lrn", {"size": 4, "alpha": 2.0, "beta": 1.5, "bias": 0.5}),
    ("lrn", {"size": 9, "alpha": 1e-4, "beta": 0.75, "bias": 2.0}),  # wider than the 5 channels
]


def int8_bundle(count: int, seed: int = 0) -> tuple[Graph, dict[str, np.ndarray]]:
    """One int8 graph with every node of NODES on x, and samples 1.2 times wider than the calibration."""
    rng = np.random.default_rng(seed)
    tensors = {"x": Tensor("x", SHAPE, "float32")}
    nodes, outputs = [], []
    for k, (op, attrs) in enumerate(NODES):
        node = Node(f"n{k}", op, ["x"], [f"y{k}"], attrs)
        tensors[f"y{k}"] = Tensor(f"y{k}", ops.get(op).infer_shape(node, [SHAPE])[0], "float32")
        nodes.append(node)
        outputs.append(f"y{k}")
    g = Graph("logsm_cumsum_lrn_int8", tensors, nodes, ["x"], outputs)
    verify(g)
    calib = {"x": rng.normal(0.4, 3.0, (count, *SHAPE)).astype(np.float32)}
    samples = {"x": 1.2 * calib["x"]}
    samples["x"][0] = 0.5
    return quantize_graph(g, calib), samples


def test_int8_log_softmax_cumsum_and_lrn_in_c_equal_the_reference():
    need_tool("cc")
    q, samples = int8_bundle(6)
    assert all(q.tensors[o].dtype == "int8" for o in q.outputs)
    rng = np.random.default_rng(3)
    extremes = np.stack([np.full(SHAPE, -128, np.int8), np.full(SHAPE, 127, np.int8)])
    feeds = {"x": np.concatenate([quant.quantize_array(samples["x"], q.tensors["x"].q),
                                  rng.integers(-128, 128, (6, *SHAPE), dtype=np.int8), extremes])}
    want, got = run_ref(q, feeds), run_c_host(q, feeds, sanitize=True)
    for name in q.outputs:
        assert np.array_equal(got[name], want[name]), f"{name}: {np.sum(got[name] != want[name])} differ"


def test_the_bundle_saturates_and_reaches_log_softmax_floor():
    q, samples = int8_bundle(6)
    got = run_ref(q, {"x": np.concatenate([quant.quantize_array(samples["x"], q.tensors["x"].q),
                                           np.random.default_rng(3).integers(-128, 128, (6, *SHAPE), dtype=np.int8)])})
    assert any(np.any(np.abs(got[o].astype(np.int32)) >= 127) for o in q.outputs if o not in ("y0", "y1", "y2", "y3"))
    assert any(np.any(got[f"y{a}"] == -128) for a in range(4))  # TFLM's cut-off for tiny probabilities
