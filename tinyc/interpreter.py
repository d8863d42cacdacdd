"""The reference interpreter: runs the IR with each op's numpy semantics, float32 or int8.

It is the definition the generated C must match bit for bit in int8.
"""

from __future__ import annotations

import numpy as np

from tinyc import ops, quant
from tinyc.ir import NP_DTYPE, Graph


def run(g: Graph, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One inference: feeds and results have the model's own shapes (int8 in an int8 graph)."""
    env: dict[str, np.ndarray] = {n: t.data for n, t in g.tensors.items() if t.data is not None}
    for name in g.inputs:
        t = g.tensors[name]
        env[name] = np.asarray(feeds[name], NP_DTYPE[t.dtype]).reshape(t.shape)
    for node in g.nodes:
        op = ops.get(node.op)
        xs = [env[i] if i else None for i in node.inputs]
        floating = g.tensors[node.first_output].dtype == "float32"
        ys = op.ref_float(node, xs) if floating else op.ref_int8(node, xs)
        for name, y in zip(node.outputs, ys):
            if name:
                t = g.tensors[name]
                where = f"node {node.name!r} ({node.op}): {name!r}"
                assert y.shape == t.shape, f"{where} is {y.shape}, IR says {t.shape}"
                assert y.dtype == NP_DTYPE[t.dtype], f"{where} is {y.dtype}, IR says {t.dtype}"
                env[name] = y
    return {name: env[name] for name in g.outputs}


def run_samples(g: Graph, samples: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run each sample in turn; arrays carry a leading sample axis before the model shape."""
    count = len(next(iter(samples.values())))
    results = [run(g, {k: v[i] for k, v in samples.items()}) for i in range(count)]
    return {name: np.stack([r[name] for r in results]) for name in g.outputs}


def feeds_for(g: Graph, samples: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Float samples in the model's own units -> what the generated code takes (int8 or float32)."""
    feeds = {}
    for name in g.inputs:
        t = g.tensors[name]
        x = samples[name]
        feeds[name] = quant.quantize_array(x, t.q) if t.dtype == "int8" else x.astype(NP_DTYPE[t.dtype])
    return feeds
