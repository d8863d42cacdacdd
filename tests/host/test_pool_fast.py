"""int8 pooling against ref_int8 bit for bit: average pooling's summing loops (USADA8 on DSP cores, plain
elsewhere) on global windows over planes of 1, 3, 63, 64 and 125 values and on windows whose rows are long
enough for the 4-byte steps, max pooling on the same windows, inputs at both int8 ends."""

from __future__ import annotations

import numpy as np

from tests.conftest import need_tool
from tests.helpers import quantize_graph, run_c_host, run_ref
from tinyc import ops
from tinyc.ir import Graph, Node, Tensor, verify

POOLS = [  # (input shape, kernel, strides, pads t l b r)
    ((1, 3, 1, 1), (1, 1), (1, 1), (0, 0, 0, 0)),
    ((1, 1, 1, 3), (1, 3), (1, 1), (0, 0, 0, 0)),
    ((1, 5, 7, 9), (7, 9), (1, 1), (0, 0, 0, 0)),
    ((1, 3, 8, 8), (8, 8), (1, 1), (0, 0, 0, 0)),
    ((1, 7, 25, 5), (25, 5), (1, 1), (0, 0, 0, 0)),
    ((1, 3, 5, 17), (2, 9), (1, 4), (0, 0, 0, 0)),
    ((1, 3, 5, 17), (3, 11), (2, 3), (1, 2, 1, 2)),
    ((1, 2, 3, 41), (2, 3), (1, 1), (0, 0, 0, 0)),   # rows of 39 windows: several 16- and 4-lane steps
    ((1, 2, 4, 70), (2, 2), (2, 2), (1, 1, 0, 1)),   # stride 2 with a padded border column
]


def pool_bundle(count: int, seed: int = 0) -> tuple[Graph, dict[str, np.ndarray]]:
    """One int8 graph with an avgpool and a maxpool per row of POOLS, and samples with values at
    both int8 ends."""
    tensors, nodes, inputs, outputs = {}, [], [], []
    for k, (shape, kernel, strides, pads) in enumerate(POOLS):
        x = f"x{k}"
        tensors[x] = Tensor(x, shape, "float32")
        inputs.append(x)
        for op in ("avgpool", "maxpool"):
            y = f"{op}{k}"
            node = Node(f"{op}_{k}", op, [x], [y], {"kernel": kernel, "strides": strides, "pads": pads,
                                                    "ceil_mode": False, "count_include_pad": k % 2 == 1})
            tensors[y] = Tensor(y, ops.get(op).infer_shape(node, [shape])[0], "float32")
            nodes.append(node)
            outputs.append(y)
    g = Graph("pool_fast", tensors, nodes, inputs, outputs)
    verify(g)
    rng = np.random.default_rng(seed)
    calib = {}
    for k, x in enumerate(inputs):
        lo, hi = (-3.0, 0.5) if k % 2 else (-0.2, 2.0)
        v = rng.uniform(lo, hi, (count, *tensors[x].shape)).astype(np.float32)
        v[0] = hi * 2 if k % 3 else lo * 2  # one sample saturated to an int8 end throughout
        calib[x] = v
    return quantize_graph(g, calib), calib


def test_pool_windows_equal_the_reference():
    need_tool("cc")
    q, samples = pool_bundle(4)
    want, got = run_ref(q, samples), run_c_host(q, samples, sanitize=True)
    for name in q.outputs:
        assert np.array_equal(got[name], want[name]), f"{name}: {np.sum(got[name] != want[name])} differ"
