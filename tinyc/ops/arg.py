"""Index ops: argmax/argmin along one axis and the k largest (smallest) values with their indices.

Indices are int64 (the IR's dtype for results that are not arithmetic): they are graph outputs and
feed nothing else (the importer says so when one would). The same code serves float32 and int8
inputs: dequantizing is increasing (scale > 0), so the indices of the int8 values are those of the
real values, and TopK's int8 values keep the input's q. Ties go to the lower index (argmax/argmin:
the higher one with select_last_index), as onnx's reference does. The C is runtime_c/tinyc_arg.c.
"""

from __future__ import annotations

import numpy as np

from tinyc.ir import Graph, Node, QParams
from tinyc.ops import KernelCall, Op, register


def _view(shape: tuple[int, ...], axis: int) -> dict:
    """x as [outer, axis_size, inner] around `axis`."""
    return {"outer": int(np.prod(shape[:axis], dtype=np.int64)), "axis_size": int(shape[axis]),
            "inner": int(np.prod(shape[axis + 1:], dtype=np.int64))}


def _suffix(g: Graph, node: Node) -> str:
    return "s8" if g.tensors[node.inputs[0]].dtype == "int8" else "f32"


@register
class ArgMax(Op):
    """y = index of the largest (attrs["min"]: smallest) x along attrs["axis"] (non-negative), int64;
    ties: the first, or the last with attrs["last"]; keepdims keeps the axis as 1."""

    name = "argmax"

    def infer_shape(self, node, in_shapes):
        axis, shape = node.attrs["axis"], in_shapes[0]
        assert 0 <= axis < len(shape), f"node {node.name!r}: axis {axis} of {shape}"
        assert shape[axis] > 0, f"node {node.name!r}: axis {axis} of {shape} is empty"
        if node.attrs["keepdims"]:
            return [tuple(1 if k == axis else d for k, d in enumerate(shape))]
        return [tuple(d for k, d in enumerate(shape) if k != axis)]

    def output_dtypes(self, node, in_dtypes):
        return ["int64"]

    def ref_float(self, node, xs):
        x, axis = xs[0], node.attrs["axis"]
        pick = np.argmin if node.attrs["min"] else np.argmax
        if node.attrs["last"]:
            y = x.shape[axis] - 1 - pick(np.flip(x, axis), axis=axis)
        else:
            y = pick(x, axis=axis)
        return [np.asarray(y, np.int64).reshape(self.infer_shape(node, [x.shape])[0])]

    def quantize(self, node, g):
        return node  # the indices of the int8 values are those of the real values

    def ref_int8(self, node, xs):
        return self.ref_float(node, xs)

    def kernel(self, node, g):
        params = {**_view(g.tensors[node.inputs[0]].shape, node.attrs["axis"]),
                  "smallest": int(node.attrs["min"]), "last": int(node.attrs["last"])}
        return KernelCall(f"tinyc_argmax_{_suffix(g, node)}", "tinyc_arg", "tinyc_argmax_params", params,
                          [node.inputs[0], node.outputs[0]])


@register
class TopK(Op):
    """values, indices = the attrs["k"] largest (attrs["largest"] false: smallest) x along attrs["axis"]
    (non-negative), sorted best first, ties by lower index, a NaN ahead of any number; indices int64,
    values in x's dtype and q."""

    name = "topk"

    def infer_shape(self, node, in_shapes):
        axis, k, shape = node.attrs["axis"], node.attrs["k"], in_shapes[0]
        assert 0 <= axis < len(shape), f"node {node.name!r}: axis {axis} of {shape}"
        assert 0 <= k <= shape[axis], f"node {node.name!r}: k={k} of {shape[axis]} along axis {axis}"
        out = tuple(k if i == axis else d for i, d in enumerate(shape))
        return [out, out]

    def output_dtypes(self, node, in_dtypes):
        return [in_dtypes[0], "int64"]

    def ref_float(self, node, xs):
        x, axis, k = xs[0], node.attrs["axis"], node.attrs["k"]
        nan = np.isnan(x) if x.dtype.kind == "f" else np.zeros(x.shape, bool)
        key = np.where(nan, 0.0, -x.astype(np.float64) if node.attrs["largest"] else x.astype(np.float64))
        # stable: equal values keep the lower index first; then NaNs first, as argmax (a second stable sort)
        order = np.argsort(key, axis=axis, kind="stable")
        order = np.take_along_axis(order, np.argsort(~np.take_along_axis(nan, order, axis), axis=axis,
                                                     kind="stable"), axis)
        idx = np.take(order, np.arange(k), axis=axis)
        return [np.take_along_axis(x, idx, axis=axis), idx.astype(np.int64)]

    def output_qparams(self, node: Node, g: Graph, calibrated: list[QParams]) -> list[QParams]:
        return [g.tensors[node.inputs[0]].q, None]

    def quantize(self, node, g):
        return node

    def ref_int8(self, node, xs):
        return self.ref_float(node, xs)

    def kernel(self, node, g):
        params = {**_view(g.tensors[node.inputs[0]].shape, node.attrs["axis"]), "k": node.attrs["k"],
                  "largest": int(node.attrs["largest"])}
        return KernelCall(f"tinyc_topk_{_suffix(g, node)}", "tinyc_arg", "tinyc_topk_params", params,
                          [node.inputs[0], *node.outputs])
