"""Channel pruning by filter L1 norm (Li et al. 2017, "Pruning Filters for Efficient ConvNets"): drop the
weakest output filters of conv2d (group 1) and dense layers and the input channels that read them
downstream, giving an ordinary smaller dense float graph. Float graphs only, after simplify, before quantize.
"""

from __future__ import annotations

import numpy as np

from tinyc import ops
from tinyc.errors import BadInput
from tinyc.ir import Graph, Node, QParams, Tensor
from tinyc.ops.common import apply_act_float
from tinyc.passes.simplify import drop_dead_tensors

# Ops that act on each channel alone (an elementwise op with a constant is handled apart).
CHANNELWISE = ("unary", "maxpool", "avgpool")
WITH_CONSTANT = ("prelu", "add", "sub", "mul")

# An edit to make once the whole path of one pruned layer is known:
# ("take", node, input index, axis, bool mask) keeps the masked entries of a constant input;
# ("attr", node, key, value) sets an attribute (reshape shape, depthwise group);
# ("bias", node, delta) adds delta to the node's bias (creating it if absent).
Edit = tuple


def prune_channels(g: Graph, ratio: float | dict[str, float]) -> tuple[Graph, list[tuple[str, str]]]:
    """Remove round(ratio * C_out) filters of least L1 norm per layer (ratio per layer name in a dict),
    keeping at least one; returns the pruned graph and the (layer, reason) pairs left whole. Layers go in
    schedule order, each ranked on its weights as the pruning of the layers before left them.

    A removed filter of small weights mostly outputs its activated bias, a constant: the next layer
    that reads channels absorbs that constant (carried through the ops between) into its bias.
    """
    assert not g.is_int8, "prune_channels runs on the float graph, before quantize"
    ratios = _ratios(g, ratio)
    g = g.copy()
    skipped = []
    for name, r in ratios.items():
        node = next(n for n in g.nodes if n.name == name)
        channels = g.tensors[node.outputs[0]].shape[_channel_axis(g, node)]
        count = min(int(np.floor(r * channels + 0.5)), channels - 1)  # rounded half up; one channel stays
        if count <= 0:
            continue
        why = _not_prunable(g, node)
        if why is None:
            keep = _strongest(g.tensors[node.inputs[1]].data, channels - count)
            path = _follow(g, node, keep)
            if isinstance(path, str):
                why = path
            else:
                _apply(g, [("take", node, 1, 0, keep), ("take", node, 2, 0, keep)] + path)
                _infer_shapes(g)
                continue
        skipped.append((name, why))
    return drop_dead_tensors(g), skipped


def _ratios(g: Graph, ratio: float | dict[str, float]) -> dict[str, float]:
    """Layer name -> ratio, in schedule order; a bare float applies to every conv2d (group 1) and dense."""
    layers = [n.name for n in g.nodes if n.op in ("conv2d", "dense")]
    if not isinstance(ratio, dict):
        ratio = {n.name: float(ratio) for n in g.nodes if n.op == "dense" or n.attrs.get("group") == 1}
    for name, r in ratio.items():
        if name not in layers:
            raise BadInput(f"--prune-channels: no conv2d or dense layer {name!r} "
                           f"(layers: {', '.join(layers[:4]) or 'none'}{' ...' if len(layers) > 4 else ''})")
        if not 0.0 <= r <= 1.0:
            raise BadInput(f"--prune-channels {r} for layer {name!r}: a ratio from 0 to 1")
    return {n.name: float(ratio[n.name]) for n in g.nodes if n.name in ratio}


def _channel_axis(g: Graph, node: Node) -> int:
    """conv2d outputs are NCHW (or NCL): channel axis 1; dense outputs (..., M): the last axis."""
    return 1 if node.op == "conv2d" else len(g.tensors[node.outputs[0]].shape) - 1


def _not_prunable(g: Graph, node: Node) -> str | None:
    if not g.tensors[node.inputs[1]].is_const:
        return "its weights are not constant"
    if node.op == "conv2d" and node.attrs["group"] != 1:
        return f"grouped conv (group {node.attrs['group']}): its channels follow the layer before it"
    return None


def _strongest(w: np.ndarray, count: int) -> np.ndarray:
    """Mask of the `count` output filters (axis 0) of largest L1 norm; ties keep the earlier filter."""
    norms = np.abs(w.astype(np.float64)).reshape(len(w), -1).sum(axis=1)
    order = np.argsort(-norms, kind="stable")
    keep = np.zeros(len(w), bool)
    keep[order[:count]] = True
    return keep


def _follow(g: Graph, layer: Node, keep: np.ndarray) -> list[Edit] | str:
    """Edits that remove the dropped channels from every op on the way to the next layer that
    reads channels (conv2d group 1 or dense), or why the layer cannot be pruned."""
    cur, axis, inner = layer.outputs[0], _channel_axis(g, layer), 1  # inner: elements per channel on axis
    bias = _const(g, layer.inputs[2]) if len(layer.inputs) > 2 else None
    value = apply_act_float(layer, np.zeros(len(keep)) if bias is None else bias).astype(np.float64)
    edits: list[Edit] = []
    while True:  # value[c]: what channel c holds here once its weights are taken as zero
        if cur in g.outputs:
            return f"output reaches the graph output {cur!r}"
        users = g.consumers(cur)
        if len(users) != 1:
            return f"output {cur!r} has {len(users)} consumers"
        u = users[0]
        where = f"{u.op} node {u.name!r}"
        if u.inputs.count(cur) != 1:
            return f"output meets itself in {where}"
        pos, shape = u.inputs.index(cur), g.tensors[cur].shape
        elements = np.repeat(keep, inner)  # mask along `axis`
        if u.op == "dense":
            if pos != 0 or axis != len(shape) - 1:
                return f"output reaches {where} along another axis than its features"
            w = g.tensors[u.inputs[1]].data.astype(np.float64)  # (M, K): drop the columns
            return edits + [("bias", u, w[:, ~elements] @ np.repeat(value, inner)[~elements]),
                            ("take", u, 1, 1, elements)]
        if u.op == "conv2d":
            w = g.tensors[u.inputs[1]].data.astype(np.float64)
            if pos != 0 or axis != 1 or inner != 1:
                return f"output reaches {where} other than as its NCHW input"
            if u.attrs["group"] == 1:  # (Co, Ci, KH, KW): drop along Ci; padding makes the bias exact inside only
                return edits + [("bias", u, w[:, ~keep].sum(axis=(2, 3)) @ value[~keep]), ("take", u, 1, 1, keep)]
            if u.attrs["group"] != shape[1] or w.shape[1] != 1:
                return f"output reaches grouped {where} (group {u.attrs['group']})"
            value = _through(g, u, cur, axis, inner, value)
            edits += [("attr", u, "group", int(keep.sum()))]
            keep = np.repeat(keep, w.shape[0] // shape[1])  # depthwise: output c*m + j reads input channel c
            edits += [("take", u, 1, 0, keep), ("take", u, 2, 0, keep)]
        elif u.op in CHANNELWISE:
            if u.op != "unary" and (axis != 1 or inner != 1):
                return f"output reaches {where} after a flatten"
            value = _through(g, u, cur, axis, inner, value)
        elif u.op in WITH_CONSTANT:
            other = u.inputs[1 - pos]
            if u.op == "prelu" and pos != 0:
                return f"output is the slope of {where}"
            if not g.tensors[other].is_const:
                return f"output meets another activation in {where} (residual)"
            if g.tensors[u.outputs[0]].shape != shape:
                return f"{where} broadcasts the output to a larger shape"
            value = _through(g, u, cur, axis, inner, value)
            c = g.tensors[other].shape
            at = axis - (len(shape) - len(c))  # the constant's axis that lines up with the channels
            if at >= 0 and c[at] != 1:
                edits.append(("take", u, 1 - pos, at, elements))
        elif u.op == "reshape":
            new = tuple(u.attrs["shape"])
            if new != shape and not (new[:axis] == shape[:axis] and len(new) == axis + 1):
                return f"{where} regroups the channels ({list(shape)} -> {list(new)})"
            if new != shape:  # a flatten of the axes from `axis` on: channel c owns a run of columns
                inner *= int(np.prod(shape[axis + 1:], dtype=np.int64))
            edits.append(("attr", u, "shape", new[:axis] + (int(keep.sum()) * inner,) + new[axis + 1:]))
        else:  # concat, transpose, softmax, matmul, pad, rnn: not known to keep channels apart
            return f"output reaches {where}"
        cur = u.outputs[0]


def _through(g: Graph, u: Node, cur: str, axis: int, inner: int, value: np.ndarray) -> np.ndarray:
    """Per-channel output of u when channel c of its input `cur` holds value[c] everywhere
    (the mean over the channel where borders or padding make it vary)."""
    shape = g.tensors[cur].shape
    along = np.repeat(value, inner).reshape([-1 if k == axis else 1 for k in range(len(shape))])
    x = np.broadcast_to(along, shape).astype(np.float32)
    y = ops.get(u.op).ref_float(u, [x if i == cur else _const(g, i) for i in u.inputs])[0]
    units = y.shape[axis] // inner
    return np.moveaxis(y.astype(np.float64), axis, 0).reshape(units, -1).mean(axis=1)


def _const(g: Graph, name: str) -> np.ndarray | None:
    return g.tensors[name].data if name else None


def _apply(g: Graph, edits: list[Edit]) -> None:
    for edit in edits:
        kind, node = edit[0], edit[1]
        if kind == "attr":
            node.attrs = {**node.attrs, edit[2]: edit[3]}
        elif kind == "bias":
            if not np.any(edit[2]):
                continue
            node.inputs += [""] * (3 - len(node.inputs))
            old = _const(g, node.inputs[2])
            data = (edit[2] + (0.0 if old is None else old.astype(np.float64))).astype(np.float32)
            if old is None:
                node.inputs[2] = g.add_const(node.name + "_bias", data, "float32")
            else:
                node.inputs[2] = _replace(g, node.inputs[2], data, g.tensors[node.inputs[2]].q)
        elif edit[2] < len(node.inputs) and node.inputs[edit[2]]:  # "take"; an absent bias has nothing to take
            _, _, index, axis, keep = edit
            t = g.tensors[node.inputs[index]]
            assert t.data is not None and t.shape[axis] == len(keep), f"{t.name}: {t.shape}, {len(keep)} along {axis}"
            q = t.q
            if q is not None and q.axis == axis and len(q.scale) > 1:  # per-channel q goes with its channels
                q = QParams(q.scale[keep], q.zero_point[keep], axis)
            node.inputs[index] = _replace(g, t.name, np.compress(keep, t.data, axis=axis), q)


def _replace(g: Graph, name: str, data: np.ndarray, q: QParams | None) -> str:
    """A constant with new data, under its own name if no other node reads it, else a fresh one."""
    t = g.tensors[name]
    if len(g.consumers(name)) > 1 or name in g.outputs:
        return g.add_const(name + "_pruned", data, t.dtype, q)
    g.tensors[name] = Tensor(name, tuple(data.shape), t.dtype, data, q, t.format)
    return name


def _infer_shapes(g: Graph) -> None:
    """Recompute every activation shape from the (now smaller) constants, in schedule order."""
    for node in g.nodes:
        in_shapes = [g.tensors[i].shape if i else None for i in node.inputs]
        for name, shape in zip(node.outputs, ops.get(node.op).infer_shape(node, in_shapes)):
            if name:
                g.tensors[name].shape = tuple(shape)
