"""A model that carries its own quantization (onnxruntime's QDQ and QOperator files) onto tinyc's int8 graph:
which nodes the file computes in float, and the rewrites that let tinyc round where and as often as the file
does (docs/onnxruntime_quantization.md). passes/quantize.py calls prepare() before quantizing."""

from __future__ import annotations

import numpy as np

from tinyc import ops
from tinyc.ir import Graph, Node
from tinyc.passes.simplify import fold_scaling_into_tables


def prepare(g: Graph, floating: set[str]) -> tuple[Graph, list[str]]:
    """(g rewritten, the nodes the file leaves in float: left_in_float). `floating`: the nodes the user keeps in
    float (--float-layers), which no rewrite moves into int8."""
    if g.requantization == "once":
        g = global_averages_as_means(g)
    left = left_in_float(g)
    if left:
        g = params_through_moves(g)
        left = left_in_float(g)
    if left:
        g = fold_scaling_into_tables(g, set(left) - floating, floating)
        left = left_in_float(g)
    return g, left


def left_in_float(g: Graph) -> list[str]:
    """In a model that carries its own int8 parameters on some activations but not all (onnxruntime's QDQ
    files leave the ops it does not quantize between a DequantizeLinear and a QuantizeLinear), the nodes
    whose every activation result has none: the file computes them in float. So does a node that reads such a
    result (no DequantizeLinear before it: onnxruntime computes it in float and quantizes its result once).
    Views pass parameters on."""
    activations = [t for t in g.tensors.values() if not t.is_const and t.dtype == "float32"]
    if not any(t.q is not None for t in activations) or all(t.q is not None for t in activations):
        return []
    carries = {n for n in g.inputs if g.tensors[n].q is not None}  # activations with parameters, through views
    left = []
    for node in g.nodes:
        outs = [o for o in node.outputs if o and g.tensors[o].dtype == "float32"]
        ins = [i for i in node.inputs if i and not g.tensors[i].is_const and g.tensors[i].dtype == "float32"]
        if ops.get(node.op).is_view:
            carries.update(o for o in outs if g.tensors[o].q is not None or all(i in carries for i in ins))
            continue
        carries.update(o for o in outs if g.tensors[o].q is not None)
        if outs and (all(g.tensors[o].q is None for o in outs) or not all(i in carries for i in ins)):
            left.append(node.name)
    return left


def global_averages_as_means(g: Graph) -> Graph:
    """A copy of g where a global average pool whose file gives its output parameters other than its input's
    is a mean over the spatial axes: TFLite's int8 pool keeps the input's parameters and a table then
    requantizes (two roundings, a step apart on a fifth of the outputs); the int8 mean rounds once onto the
    file's parameters, as onnxruntime's QLinearGlobalAveragePool does."""
    g = g.copy()
    for k, node in enumerate(g.nodes):
        if node.op != "avgpool" or any(node.attrs["pads"]) or node.attrs.get("ceil_mode"):
            continue
        x, y = g.tensors[node.inputs[0]], g.tensors[node.outputs[0]]
        if x.q is None or y.q is None or tuple(node.attrs["kernel"]) != tuple(x.shape[2:]) or \
                (np.array_equal(x.q.scale, y.q.scale) and np.array_equal(x.q.zero_point, y.q.zero_point)):
            continue
        axes = tuple(range(2, len(x.shape)))
        g.nodes[k] = Node(node.name, "reduce", list(node.inputs), list(node.outputs),
                          {"kind": "mean", "axes": axes, "keepdims": True})
    return g


MOVES = ("reshape", "transpose", "strided_copy")  # int8 in, the same integers out: parameters pass through


def params_through_moves(g: Graph) -> Graph:
    """A copy of g where a data movement with parameters on one side only (onnxruntime's QOperator files
    transpose int8 tensors between QLinear nodes; a float LayerNorm is transposed before its QuantizeLinear)
    gives them to the other side: moving values on a grid keeps them on it, so this is exact, and the op
    before or after runs in int8 rather than in float."""
    g = g.copy()
    changed = True
    while changed:
        changed = False
        for node in g.nodes:
            if node.op not in MOVES or len(node.outputs) != 1:
                continue
            x, y = g.tensors[node.inputs[0]], g.tensors[node.outputs[0]]
            if x.is_const or x.dtype != "float32" or y.dtype != "float32" or (x.q is None) == (y.q is None):
                continue
            if y.q is None:
                y.q = x.q
            elif len(g.consumers(x.name)) == 1 and x.name not in g.outputs:
                x.q = y.q
            else:
                continue
            changed = True
    return g
