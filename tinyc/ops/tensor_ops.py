"""Data movement ops: reshape (a view), and concat, pad, transpose."""

from __future__ import annotations

import numpy as np

from tinyc.ir import Graph, Node, QParams
from tinyc.ops import Op, register


@register
class Reshape(Op):
    """y = x viewed with attrs["shape"] (fully resolved, no 0 or -1): no kernel, no copy."""

    name = "reshape"
    is_view = True

    def infer_shape(self, node, in_shapes):
        shape = tuple(node.attrs["shape"])
        assert int(np.prod(shape)) == int(np.prod(in_shapes[0])), f"reshape {in_shapes[0]} -> {shape}"
        return [shape]

    def ref_float(self, node, xs):
        return [xs[0].reshape(node.attrs["shape"])]

    def output_qparams(self, node: Node, g: Graph, calibrated: list[QParams]) -> list[QParams]:
        return [g.tensors[node.inputs[0]].q]

    def quantize(self, node, g):
        return node

    def ref_int8(self, node, xs):
        return [xs[0].reshape(node.attrs["shape"])]
