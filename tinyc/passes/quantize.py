"""Post-training int8 quantization: activation ranges from calibration.py, then let each op prepare its int8 form.

A tensor that already carries quantization parameters (from a QDQ model) keeps them. Mixed precision:
chosen nodes, and nodes whose op has no int8 form, stay float32 between `quantize` and `dequantize`
nodes (tinyc/ops/boundary.py); the model's inputs and outputs stay int8.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from tinyc import ops, quant
from tinyc.errors import UnsupportedOp
from tinyc.ir import Graph, Node, QParams, Tensor
from tinyc.ops.boundary import attrs_of
from tinyc.passes import prequantized
from tinyc.passes.calibration import DEFAULT, calibrate


def quantize(g: Graph, samples: dict[str, np.ndarray], float_layers: Iterable[str] = (),
             warnings: list[str] | None = None, ranges: dict[str, tuple[float, float]] | None = None, *,
             calibration: str = DEFAULT) -> Graph:
    """The int8 graph of float graph g, calibrated on `samples` (float32, leading sample axis).

    Nodes named in float_layers stay float32 (mixed precision), with `quantize`/`dequantize` at their
    int8 boundaries. With a `warnings` list, a node whose op has no int8 form stays float32 too and a
    line naming it is appended; without one, its UnsupportedOp propagates (an op's own tests want it).
    ranges: calibrate(g, samples, calibration) when already computed; calibration: the method of
    tinyc.passes.calibration.
    """
    # A model whose every activation carries its own parameters (an int8 .tflite) needs no calibration.
    if ranges is None:
        needs_ranges = any(t.q is None for t in g.tensors.values() if not t.is_const)
        ranges = calibrate(g, samples, calibration) if needs_ranges else {}
    floating = set(float_layers)
    g, left = prequantized.prepare(g, floating)
    if left and warnings is not None:  # the model's own choice: run them in float, as onnxruntime does
        floating |= set(left)
        shown = ", ".join(repr(n) for n in left[:4]) + (f" and {len(left) - 4} more" if len(left) > 4 else "")
        warnings.append(f"{len(left)} layer(s) the model leaves in float (no QuantizeLinear/DequantizeLinear "
                        f"around their results) run in float32: {shown}")
    while True:
        try:
            with quant.requantization(g.requantization):
                return drop_unused_constants(_quantize_mixed(g, ranges, floating))
        except _NoInt8Form as e:  # run it in float and start again: its boundaries move
            if warnings is None:
                raise e.__cause__ from None
            floating.add(e.node.name)
            why = str(e.__cause__).split("): ", 1)[-1]  # the op's own reason, without the node it names again
            warnings.append(f"node {e.node.name!r} ({e.node.op}): no int8 form ({why}); it runs in float32")


class _NoInt8Form(Exception):
    def __init__(self, node: Node):
        self.node = node


def _quantize_mixed(g: Graph, ranges: dict[str, tuple[float, float]], floating: set[str]) -> Graph:
    h, floating = mixed_schedule(g, floating)

    def calibrated(name: str) -> QParams | None:
        if not name:
            return None
        return h.tensors[name].q or quant.choose_qparams(*ranges[name])

    for name in h.inputs:
        if h.tensors[name].dtype == "float32":
            h.tensors[name].q = calibrated(name)
            h.tensors[name].dtype = "int8"
    scheduled = []
    for node in h.nodes:
        scheduled.append(node)
        if node.op == "quantize":
            q = calibrated(node.outputs[0])
            h.tensors[node.outputs[0]].q, h.tensors[node.outputs[0]].dtype = q, "int8"
            node.attrs = attrs_of(q)
        elif node.op == "dequantize":
            node.attrs = attrs_of(h.tensors[node.inputs[0]].q)
        elif node.name not in floating:
            own = [h.tensors[o].q if o else None for o in node.outputs]  # a QDQ model's, or None
            qs = ops.get(node.op).output_qparams(node, h, [calibrated(o) for o in node.outputs])
            for k, (name, q) in enumerate(zip(node.outputs, qs)):
                if name and h.tensors[name].dtype == "float32":  # indices (int64) and masks (bool) stay
                    if own[k] is not None and q is not None and not _same(own[k], q):
                        scheduled.append(_requantization(h, node, k, q))
                        q = own[k]
                    h.tensors[name].q, h.tensors[name].dtype = q, "int8"
    h.nodes = scheduled
    nodes = []
    for node in h.nodes:
        if node.name in floating or node.op in ("quantize", "dequantize"):
            nodes.append(node)
            continue
        try:
            nodes.append(ops.get(node.op).quantize(node, h))
        except UnsupportedOp as e:
            raise _NoInt8Form(node) from e
    h.nodes = nodes
    return h


def mixed_schedule(g: Graph, floating: set[str]) -> tuple[Graph, set[str]]:
    """A copy of float graph g where the nodes in `floating` (and views of their results) will stay
    float32 and every other node will be int8: a `dequantize` before the first float32 reader of an int8
    activation, a `quantize` right after a float32 node whose result an int8 node or the caller reads
    (the model's inputs and outputs stay int8). Float32 nodes next to each other share no boundary.
    Tensors keep their names on the int8 side; the float32 copy of one is NAME_f32. Only the graph's
    structure is set here: dtypes and quantization parameters come later. Returns the copy and the
    names of its float32 nodes."""
    h = g.copy()
    floating = set(floating)
    home: dict[str, str] = {}  # float32 activation -> the side its producer is on
    for name in h.inputs:
        if h.tensors[name].dtype == "float32":
            home[name] = "int8"
    for node in h.nodes:
        acts = [i for i in node.inputs if i in home]
        if ops.get(node.op).is_view and acts and home[acts[0]] == "float32":
            floating.add(node.name)  # a reshape of a float result stays with it
        side = "float32" if node.name in floating else "int8"
        for o in node.outputs:
            if o and h.tensors[o].dtype == "float32":
                home[o] = side
    read_by = {side: set() for side in ("int8", "float32")}
    for node in h.nodes:
        side = "float32" if node.name in floating else "int8"
        read_by[side].update(i for i in node.inputs if i in home)
    read_by["int8"].update(o for o in h.outputs if o in home)
    # the float32 name of each activation a float32 node reads
    float_name = {}
    for name, side in home.items():
        if name in read_by["float32" if side == "int8" else "int8"]:  # wanted on both sides
            float_name[name] = _fresh(h.tensors, name + "_f32")
            h.tensors[float_name[name]] = Tensor(float_name[name], h.tensors[name].shape, "float32")
        elif side == "float32":
            float_name[name] = name
    nodes: list[Node] = []
    names = {n.name for n in h.nodes}
    converted: set[str] = set()
    for node in h.nodes:
        if node.name not in floating:
            nodes.append(node)
            continue
        for i in node.inputs:
            if i in home and home[i] == "int8" and i not in converted:
                converted.add(i)
                nodes.append(Node(_fresh(names, i + "_dequantize"), "dequantize", [i], [float_name[i]]))
        node.inputs = [float_name.get(i, i) if i in home else i for i in node.inputs]
        outs = list(node.outputs)
        node.outputs = [float_name[o] if o in float_name else o for o in outs]
        nodes.append(node)
        for o in outs:
            if o in home and o in read_by["int8"]:
                nodes.append(Node(_fresh(names, o + "_quantize"), "quantize", [float_name[o]], [o]))
    h.nodes = nodes
    return h, floating


def _fresh(taken, name: str) -> str:
    """`name`, or name_2, name_3, ... the first not in `taken` (a set or dict, which gets it)."""
    base, k = name, 2
    while name in taken:
        name, k = f"{base}_{k}", k + 1
    if isinstance(taken, set):
        taken.add(name)
    return name


def _same(a: QParams, b: QParams) -> bool:
    return a.scale.shape == b.scale.shape and np.array_equal(a.scale, b.scale) and \
        np.array_equal(a.zero_point, b.zero_point)


def _requantization(h: Graph, node: Node, k: int, q: QParams) -> Node:
    """The model gives output k of `node` parameters other than the ones the op fixes (a copy keeps its input's,
    softmax has 1/256): the op writes a tensor of its own parameters and this node, a 256-entry table of the
    identity, requantizes it to the model's."""
    out = node.outputs[k]
    mid = out + "_own_q"
    while mid in h.tensors:
        mid += "_"
    h.tensors[mid] = Tensor(mid, h.tensors[out].shape, "int8", None, q)
    node.outputs[k] = mid
    return Node(mid + "_requantize", "unary", [mid], [out], {"fn": "clip", "min": None, "max": None})


def drop_unused_constants(g: Graph) -> Graph:
    used = {i for n in g.nodes for i in n.inputs} | set(g.inputs) | set(g.outputs)
    used |= {o for n in g.nodes for o in n.outputs}
    g.tensors = {k: t for k, t in g.tensors.items() if k in used}
    return g
