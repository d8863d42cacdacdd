"""Post-training weight reconstruction after pruning (the AdaPrune / OBS idea, in its least-squares
form): each pruned conv or dense layer keeps its sparsity mask, and its surviving weights and bias
are re-solved so that, on the calibration inputs, its pre-activation outputs match the unpruned
layer's. A Kronecker layer (dense_kp) keeps its factors; the values of its sparse residual and its
bias are re-solved the same way, against what the factors miss. Layers are solved in schedule
order, each on the inputs the already-solved layers produce, so errors do not pile up. Float
graphs; pure Graph -> Graph.
"""

from __future__ import annotations

import numpy as np

from tinyc import interpreter
from tinyc.ir import Graph, Node

RIDGE = 1e-3  # relative to the mean diagonal of X^T X: keeps rare inputs from blowing up weights
MAX_ROWS = 20_000  # patch rows sampled per layer (convs produce one per output pixel)


def _values(g: Graph, samples: dict[str, np.ndarray], tensor: str) -> np.ndarray:
    """The value of `tensor` for every sample, stacked on a leading axis."""
    probe = g.copy()
    probe.outputs = [tensor]
    return interpreter.run_samples(probe, samples)[tensor].astype(np.float64)


def _patches(x: np.ndarray, node: Node, w_shape: tuple[int, ...]) -> np.ndarray:
    """conv2d inputs as rows: (samples * out pixels, groups, Ci/g * KH * KW), im2col in NCHW."""
    a = node.attrs
    s, shape = x.shape[0], x.shape[1:]  # samples, then the model's (1, C, H, W) or (1, C, L)
    assert shape[0] == 1, f"conv {node.name!r}: batch {shape[0]}"
    c, h, w = (shape[1], 1, shape[2]) if len(shape) == 3 else shape[1:]
    x = x.reshape(s, c, h, w)
    kh, kw = w_shape[2], w_shape[3]
    (sh, sw), (pt, pl, pb, pr), (dh, dw) = a["strides"], a["pads"], a["dilations"]
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    oh = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    ow = (w + pl + pr - dw * (kw - 1) - 1) // sw + 1
    taps = [xp[:, :, ky * dh: ky * dh + sh * (oh - 1) + 1: sh, kx * dw: kx * dw + sw * (ow - 1) + 1: sw]
            for ky in range(kh) for kx in range(kw)]
    cols = np.stack(taps, axis=2)  # s, c, kh*kw, oh, ow
    groups = a["group"]
    cols = cols.reshape(s, groups, c // groups * kh * kw, oh * ow)
    return cols.transpose(0, 3, 1, 2).reshape(s * oh * ow, groups, -1)


def _solve(x: np.ndarray, y: np.ndarray, mask: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, float]:
    """Least squares for one output channel over its kept weights plus a bias."""
    keep = np.flatnonzero(mask)
    a = np.concatenate([x[:, keep], np.ones((len(x), 1))], axis=1)
    gram = a.T @ a
    gram[np.diag_indices_from(gram)] += RIDGE * max(float(np.mean(np.diag(gram))), 1e-12)
    sol = np.linalg.solve(gram, a.T @ y)
    out = np.zeros_like(w)
    out[keep] = sol[:-1]
    return out, float(sol[-1])


def reconstruct(original: Graph, pruned: Graph, samples: dict[str, np.ndarray]) -> Graph:
    """Re-solve the surviving weights of every conv2d/dense layer pruning changed."""
    g = pruned.copy()
    by_name = {n.name: n for n in original.nodes}
    for node in g.nodes:
        if node.op == "dense_kp" and node.name in by_name:
            _refit_kronecker(original, by_name[node.name], g, node, samples)
            continue
        if node.op not in ("conv2d", "dense") or node.name not in by_name:
            continue
        before = by_name[node.name]
        w_old = original.tensors[before.inputs[1]].data.astype(np.float64)
        w_new = g.tensors[node.inputs[1]].data.astype(np.float64)
        if w_old.shape != w_new.shape or np.array_equal(w_old, w_new):
            continue  # untouched (channel pruning changes shapes: nothing to refit against)
        b_old = original.tensors[before.inputs[2]].data.astype(np.float64) if len(before.inputs) > 2 \
            and before.inputs[2] else np.zeros(w_old.shape[0])
        x_old = _values(original, samples, before.inputs[0])
        x_new = _values(g, samples, node.inputs[0])
        if node.op == "dense":
            k = w_old.shape[1]
            x_old, x_new = x_old.reshape(-1, k), x_new.reshape(-1, k)
            groups, rows_old, rows_new = 1, x_old[:, None, :], x_new[:, None, :]
        else:
            groups = node.attrs["group"]
            rows_old, rows_new = _patches(x_old, node, w_old.shape), _patches(x_new, node, w_old.shape)
        if len(rows_new) > MAX_ROWS:  # a fixed, seeded subset of the rows
            pick = np.random.default_rng(0).choice(len(rows_new), MAX_ROWS, replace=False)
            rows_old, rows_new = rows_old[pick], rows_new[pick]
        w_flat_old, w_flat_new = w_old.reshape(w_old.shape[0], -1), w_new.reshape(w_new.shape[0], -1)
        per_group = w_old.shape[0] // groups
        solved_w = np.zeros_like(w_flat_new)
        solved_b = np.zeros(w_old.shape[0])
        for co in range(w_old.shape[0]):
            grp = co // per_group
            target = rows_old[:, grp] @ w_flat_old[co] + b_old[co]  # the unpruned pre-activation output
            solved_w[co], solved_b[co] = _solve(rows_new[:, grp], target, w_flat_new[co] != 0, w_flat_new[co])
        inputs = list(node.inputs) + [""] * (3 - len(node.inputs))
        inputs[1] = g.add_const(node.inputs[1] + "_refit", solved_w.reshape(w_new.shape).astype(np.float32), "float32")
        inputs[2] = g.add_const(node.name + "_bias_refit", solved_b.astype(np.float32), "float32")
        node.inputs = inputs
    return g


def _refit_kronecker(original: Graph, before: Node, g: Graph, node: Node, samples: dict[str, np.ndarray]) -> None:
    """Re-solve a dense_kp node's residual values (on their support) and bias, factors fixed."""
    if before.op != "dense":
        return  # a factorised 1x1 conv keeps the pass's residual
    w = original.tensors[before.inputs[1]].data.astype(np.float64)
    b = original.tensors[before.inputs[2]].data.astype(np.float64) if len(before.inputs) > 2 and before.inputs[2] \
        else np.zeros(w.shape[0])
    x_old = _values(original, samples, before.inputs[0]).reshape(-1, w.shape[1])
    x_new = _values(g, samples, node.inputs[0]).reshape(-1, w.shape[1])
    a = g.tensors[node.inputs[1]].data.astype(np.float64)
    f = g.tensors[node.inputs[2]].data.astype(np.float64)
    missed = x_old @ w.T + b - x_new @ np.kron(a, f).T  # what the factors leave to residual and bias
    residual = g.tensors[node.inputs[4]].data.astype(np.float64) if node.inputs[4] else np.zeros_like(w)
    solved_r, solved_b = np.zeros_like(residual), np.zeros(w.shape[0])
    for row in range(w.shape[0]):
        solved_r[row], solved_b[row] = _solve(x_new, missed[:, row], residual[row] != 0, residual[row])
    inputs = list(node.inputs)
    inputs[3] = g.add_const(node.name + "_bias_refit", solved_b.astype(np.float32), "float32")
    if node.inputs[4]:
        inputs[4] = g.add_const(node.name + "_residual_refit", solved_r.astype(np.float32), "float32")
    node.inputs = inputs
