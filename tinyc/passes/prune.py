"""Magnitude pruning of float conv2d/dense weights: unstructured (per-layer ratios) and N:M along
the reduction axis. Pure Graph -> Graph, run before quantization; pruned weights stay dense arrays
with zeros (the storage format is chosen later, by passes/formats.py). Never mutates its input.
"""

from __future__ import annotations

import numpy as np

from tinyc.errors import BadInput
from tinyc.ir import Graph, Node
from tinyc.sparse import MAX_M, weight_matrix

PRUNABLE = ("conv2d", "dense")


def prunable_layers(g: Graph) -> list[Node]:
    """conv2d and dense nodes whose weight (input 1) is a constant, in schedule order."""
    return [n for n in g.nodes if n.op in PRUNABLE and g.tensors[n.inputs[1]].is_const]


def uniform_ratios(g: Graph, ratio: float) -> dict[str, float]:
    """The same pruning ratio for every prunable layer."""
    return {n.name: float(ratio) for n in prunable_layers(g)}


def _layer(g: Graph, name: str) -> Node:
    """The prunable node called `name`, or a one-line error listing a few valid names."""
    for n in prunable_layers(g):
        if n.name == name:
            return n
    valid = [n.name for n in prunable_layers(g)]
    shown = ", ".join(repr(v) for v in valid[:5]) + (" ..." if len(valid) > 5 else "")
    raise BadInput(f"layer {name!r}: no conv or dense layer of that name (layers: {shown or 'none'})")


def _replace_weight(g: Graph, node: Node, data: np.ndarray) -> None:
    """Point node at a new constant holding `data`; drop the old one if nothing else reads it.
    g is already a copy, so the shared array of the input graph is never written."""
    old = node.inputs[1]
    t = g.tensors[old]
    node.inputs[1] = g.add_const(old + "_pruned", data.astype(np.float32), t.dtype, t.q)
    if not g.consumers(old) and old not in g.outputs:
        del g.tensors[old]


def _zero_smallest(w: np.ndarray, count: int) -> np.ndarray:
    """w with its `count` smallest |w| set to 0; ties go to the lower flat index (stable sort)."""
    flat = w.reshape(-1).copy()
    order = np.argsort(np.abs(flat), kind="stable")
    flat[order[:count]] = 0
    return flat.reshape(w.shape)


def prune_unstructured(g: Graph, ratios: dict[str, float]) -> Graph:
    """Zero the round(ratio * size) smallest-magnitude weights of each named layer."""
    h = g.copy()
    for name, ratio in ratios.items():
        node = _layer(h, name)
        if not 0.0 <= ratio <= 1.0:
            raise BadInput(f"layer {name!r}: pruning ratio {ratio:g} outside 0..1")
        w = h.tensors[node.inputs[1]].data
        count = int(round(ratio * w.size))
        if count:
            _replace_weight(h, node, _zero_smallest(w, count))
    return h


def check_nm(n: int, m: int) -> None:
    """One-line errors for an N:M pattern tinyc cannot store."""
    what = f"--sparsity {n}:{m}"
    if n >= m:
        raise BadInput(f"{what}: N must be below M")
    if n < 1:
        raise BadInput(f"{what}: N must be at least 1")
    if m > MAX_M:
        raise BadInput(f"{what}: M must be at most {MAX_M}")


def keep_n_of_m(w: np.ndarray, n: int, m: int) -> np.ndarray:
    """w with only the n largest |w| kept in each group of m consecutive weights along each row of
    weight_matrix(w); ties keep the earlier position. The reduction length must divide by m."""
    mat = weight_matrix(w)
    rows, cols = mat.shape
    assert cols % m == 0, f"reduction length {cols} is not a multiple of {m}"
    groups = mat.reshape(rows, cols // m, m)
    drop = np.argsort(-np.abs(groups), axis=2, kind="stable")[:, :, n:]
    kept = groups.copy()
    np.put_along_axis(kept, drop, 0, axis=2)
    return kept.reshape(w.shape)


def prune_nm(g: Graph, n: int, m: int, layers: list[str] | None = None) -> tuple[Graph, list[str]]:
    """N:M prune the named layers (all prunable ones when None); returns (graph, skipped names).

    Named layers whose reduction length (conv: Ci/group * KH * KW) does not divide by m are an
    error; in the automatic case they are skipped (a 3x3 depthwise conv, 9 taps, cannot take 2:4).
    """
    check_nm(n, m)
    h = g.copy()
    nodes = prunable_layers(h) if layers is None else [_layer(h, name) for name in layers]
    skipped = []
    for node in nodes:
        w = h.tensors[node.inputs[1]].data
        length = weight_matrix(w).shape[1]
        if length % m:
            if layers is not None:
                raise BadInput(f"layer {node.name!r} reduction length {length} is not a multiple of M={m}")
            skipped.append(node.name)
            continue
        _replace_weight(h, node, keep_n_of_m(w, n, m))
    return h, skipped
