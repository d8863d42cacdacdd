"""Graph simplification, exact in real arithmetic: fold per-channel Mul/Add (bias adds, folded
BatchNorm) into the preceding conv or dense, and fuse Relu/Clip into the op before them.
"""

from __future__ import annotations

import numpy as np

from tinyc.ir import Graph, Node

WEIGHTED = ("conv2d", "dense")
FUSES_ACTIVATION = ("conv2d", "dense", "matmul", "add", "sub", "mul")


def _sole_consumer(g: Graph, node: Node) -> Node | None:
    out = node.outputs[0]
    if not out:
        return None
    users = g.consumers(out)
    if out in g.outputs or len(users) != 1:
        return None
    return users[0]


def _per_channel(value: np.ndarray, out_shape: tuple[int, ...], axis: int) -> np.ndarray | None:
    """The per-channel vector of a constant broadcast over out_shape, or None if it varies elsewhere."""
    try:
        if np.broadcast_shapes(out_shape, value.shape) != tuple(out_shape):
            return None
    except ValueError:
        return None
    full = np.broadcast_to(value, out_shape)
    vector = np.moveaxis(full, axis, -1).reshape(-1, out_shape[axis])
    if not np.all(vector == vector[:1]):
        return None
    return vector[0].astype(np.float64)


def fold_affine(g: Graph) -> Graph:
    """conv/dense followed by Mul or Add of a per-output-channel constant: fold into weights and bias."""
    g = g.copy()
    changed = True
    while changed:
        changed = False
        for node in g.nodes:
            if node.op not in WEIGHTED or node.attrs.get("act"):
                continue
            user = _sole_consumer(g, node)
            if user is None or user.op not in ("mul", "add"):
                continue
            if g.tensors[node.outputs[0]].q is not None:
                continue  # a pre-quantized model rounds (and clips) in between: folding would change its integers
            other = [i for i in user.inputs if i != node.outputs[0]]
            if len(other) != 1 or not g.tensors[other[0]].is_const:
                continue
            out_shape = g.tensors[node.outputs[0]].shape
            axis = 1 if node.op == "conv2d" else len(out_shape) - 1
            v = _per_channel(g.tensors[other[0]].data, out_shape, axis)
            if v is None:
                continue
            w = g.tensors[node.inputs[1]].data.astype(np.float64)
            has_bias = len(node.inputs) > 2 and node.inputs[2]
            b = g.tensors[node.inputs[2]].data.astype(np.float64) if has_bias else np.zeros(w.shape[0])
            if user.op == "mul":
                w = w * v.reshape((-1,) + (1,) * (w.ndim - 1))
                b = b * v
            else:
                b = b + v
            inputs = list(node.inputs) + [""] * (3 - len(node.inputs))
            inputs[1] = g.add_const(node.inputs[1] + "_folded", w.astype(np.float32), "float32")
            inputs[2] = g.add_const((node.inputs[2] or node.name) + "_bias_folded", b.astype(np.float32), "float32")
            node.inputs = inputs
            g.tensors.pop(node.outputs[0])
            node.outputs = list(user.outputs)
            g.nodes.remove(user)
            changed = True
            break
    return drop_dead_tensors(g)


def fold_scaling_into_tables(g: Graph, scalings: set[str], float_nodes: set[str]) -> Graph:
    """A Mul or Div by a scalar constant (named in `scalings`: nodes a QDQ file leaves in float) whose only
    reader is a unary function becomes that function's attrs["input_scale"]: GELU's erf(x / sqrt 2) is then
    one int8 table from x's parameters to the file's, rounded once as the file's float chain is, rather than
    x / sqrt 2 quantized at a calibrated scale and then tabled. A function in `float_nodes` keeps its input."""
    g = g.copy()
    for node in list(g.nodes):
        if node.name not in scalings or node.op not in ("mul", "div") or len(node.inputs) != 2:
            continue
        consts = [i for i in node.inputs if g.tensors[i].is_const]
        user = _sole_consumer(g, node)
        if len(consts) != 1 or user is None or user.op != "unary" or "input_scale" in user.attrs or \
                user.name in float_nodes:
            continue
        c = g.tensors[consts[0]].data
        if c.size != 1 or not np.isfinite(c).all() or not c.all() or (node.op == "div" and consts[0] != node.inputs[1]):
            continue
        c = float(c.reshape(-1)[0])
        x = next(i for i in node.inputs if i != consts[0])
        if g.tensors[x].shape != g.tensors[node.outputs[0]].shape:
            continue
        user.attrs["input_scale"] = 1.0 / c if node.op == "div" else c
        user.inputs = [x if i == node.outputs[0] else i for i in user.inputs]
        g.nodes.remove(node)
    return drop_dead_tensors(g)


def fuse_activation(g: Graph) -> Graph:
    """An op followed by Relu or Clip as its only consumer takes the clamp as attrs['act']."""
    g = g.copy()
    for node in list(g.nodes):
        if node.op not in FUSES_ACTIVATION or node.attrs.get("act") or node not in g.nodes:
            continue
        user = _sole_consumer(g, node)
        if user is None or user.op != "unary" or user.attrs["fn"] not in ("relu", "clip"):
            continue
        q, user_q = g.tensors[node.outputs[0]].q, g.tensors[user.outputs[0]].q
        if q is not None and (user_q is None or not _same_q(q, user_q)):
            continue  # a pre-quantized model requantizes between the two: fusing would change its integers
        if user.attrs["fn"] == "relu":
            node.attrs["act"] = (0.0, None)
        else:
            node.attrs["act"] = (user.attrs.get("min"), user.attrs.get("max"))
        g.tensors.pop(node.outputs[0])
        node.outputs = list(user.outputs)
        g.nodes.remove(user)
    return g


def _same_q(a, b) -> bool:
    return np.array_equal(a.scale, b.scale) and np.array_equal(a.zero_point, b.zero_point) and a.axis == b.axis


def drop_dead_tensors(g: Graph) -> Graph:
    used = {i for n in g.nodes for i in n.inputs} | {o for n in g.nodes for o in n.outputs}
    used |= set(g.inputs) | set(g.outputs)
    g.tensors = {k: t for k, t in g.tensors.items() if k in used}
    return g
