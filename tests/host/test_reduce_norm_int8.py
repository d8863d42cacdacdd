"""The int8 reductions and normalizations of runtime_c (tinyc_reduce_s8, tinyc_normalize_s8) against
ref_int8, bit for bit, under AddressSanitizer and UndefinedBehaviorSanitizer: every reduction kind and
normalization kind on odd shapes (1, 3, 5, 7) over several axis sets, inputs past the calibrated range
(saturating) and over the whole int8 range."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.helpers import quantize_graph, run_c_host, run_ref
from tinyc import ops, quant
from tinyc.ir import Graph, Node, Tensor, verify

pytestmark = pytest.mark.host

SHAPE = (1, 5, 3, 7)
# (op, attrs): each node reads x; normalize nodes get a scale and bias over their axes (1 elsewhere)
NODES = [
    ("reduce", {"kind": "mean", "axes": (2, 3), "keepdims": True}),
    ("reduce", {"kind": "mean", "axes": (1,), "keepdims": False}),
    ("reduce", {"kind": "sum", "axes": (1, 3), "keepdims": True}),
    ("reduce", {"kind": "max", "axes": (3,), "keepdims": False}),
    ("reduce", {"kind": "min", "axes": (0, 1, 2, 3), "keepdims": True}),
    ("reduce", {"kind": "sum_square", "axes": (2,), "keepdims": True}),
    ("reduce", {"kind": "l2", "axes": (1, 2), "keepdims": False}),
    ("normalize", {"kind": "moments", "axes": (3,), "epsilon": 1e-5}),       # LayerNormalization
    ("normalize", {"kind": "moments", "axes": (2, 3), "epsilon": 1e-2}),     # InstanceNormalization
    ("normalize", {"kind": "moments", "axes": (1, 2, 3), "epsilon": 1.0}),   # a large epsilon
    ("normalize", {"kind": "rms", "axes": (3,), "epsilon": 1e-6}),
    ("normalize", {"kind": "l2", "axes": (1,), "epsilon": 0.0}),
]


def int8_bundle(count: int, seed: int = 0) -> tuple[Graph, dict[str, np.ndarray]]:
    """One int8 graph with every node of NODES on x of SHAPE, and samples 1.2 times wider than the
    calibration (so inputs saturate), one of them constant (a zero variance)."""
    rng = np.random.default_rng(seed)
    tensors = {"x": Tensor("x", SHAPE, "float32")}
    nodes, outputs = [], []
    for k, (op, attrs) in enumerate(NODES):
        inputs = ["x"]
        if op == "normalize":
            attrs = {**attrs, "epsilon_after": 0.0}
            w_shape = tuple(d if a in attrs["axes"] else 1 for a, d in enumerate(SHAPE))
            for role, mean in (("scale", 1.0), ("bias", 0.0)):
                data = rng.normal(mean, 0.7, w_shape).astype(np.float32)
                tensors[f"{role}{k}"] = Tensor(f"{role}{k}", w_shape, "float32", data)
                inputs.append(f"{role}{k}")
        node = Node(f"n{k}", op, inputs, [f"y{k}"], attrs)
        shape = ops.get(op).infer_shape(node, [tensors[i].shape for i in inputs])[0]
        tensors[f"y{k}"] = Tensor(f"y{k}", shape, "float32")
        nodes.append(node)
        outputs.append(f"y{k}")
    g = Graph("reduce_norm_int8", tensors, nodes, ["x"], outputs)
    verify(g)
    calib = {"x": rng.normal(0.4, 1.0, (count, *SHAPE)).astype(np.float32)}
    samples = {"x": 1.2 * calib["x"]}
    samples["x"][0] = 0.5  # every group constant
    return quantize_graph(g, calib), samples


def test_int8_reductions_and_normalizations_in_c_equal_the_reference():
    need_tool("cc")
    q, samples = int8_bundle(6)
    rng = np.random.default_rng(3)
    whole_range = rng.integers(-128, 128, (6, *SHAPE), dtype=np.int8)
    feeds = {"x": np.concatenate([quant.quantize_array(samples["x"], q.tensors["x"].q), whole_range])}
    want, got = run_ref(q, feeds), run_c_host(q, feeds, sanitize=True)
    for name in q.outputs:
        assert np.array_equal(got[name], want[name]), f"{name}: {np.sum(got[name] != want[name])} differ"


def test_the_bundle_reaches_saturation_and_a_zero_variance():
    q, samples = int8_bundle(6)
    got = run_ref(q, samples)
    assert any(np.any(np.abs(got[o].astype(np.int32)) >= 127) for o in q.outputs)
    zp = {n.outputs[0]: q.tensors[n.outputs[0]].q.zero_point[0] for n in q.nodes if n.op == "normalize"}
    assert all(np.any(got[o][0] != zp[o]) for o in zp)  # a constant group gives the bias, not zero
