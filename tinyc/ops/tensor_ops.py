"""Data movement ops: reshape (a view), and concat, pad, transpose, strided copy (slice, split, expand,
tile, regular gather) and gather. int8 forms move bytes: output q = input q (concat rescales).
"""

from __future__ import annotations

import numpy as np

from tinyc import quant
from tinyc.errors import UnsupportedOp
from tinyc.ir import Graph, Node, QParams, Tensor
from tinyc.ops import KernelCall, Op, register


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

    def output_dtypes(self, node, in_dtypes):
        return [in_dtypes[0]]  # a view of int64 indices is int64

    def accepts(self, node, in_dtypes):
        return True

    def output_qparams(self, node: Node, g: Graph, calibrated: list[QParams]) -> list[QParams]:
        return [g.tensors[node.inputs[0]].q]

    def quantize(self, node, g):
        return node

    def ref_int8(self, node, xs):
        return [xs[0].reshape(node.attrs["shape"])]


def _kernel_names(op: str, g: Graph, node: Node) -> tuple[str, str]:
    """(kernel, params type) of a data movement op, by output dtype."""
    dtype = "s8" if g.tensors[node.outputs[0]].dtype == "int8" else "f32"
    return f"tinyc_{op}_{dtype}", f"tinyc_{op}_{dtype}_params"


def _same_q(a: QParams, b: QParams) -> bool:
    return float(a.scale[0]) == float(b.scale[0]) and int(a.zero_point[0]) == int(b.zero_point[0])


@register
class Concat(Op):
    """y = the inputs joined along attrs["axis"] (non-negative); int8 inputs are rescaled to y's q."""

    name = "concat"

    def infer_shape(self, node, in_shapes):
        axis, first = node.attrs["axis"], in_shapes[0]
        for s in in_shapes:
            if len(s) != len(first) or any(a != b for k, (a, b) in enumerate(zip(s, first)) if k != axis):
                raise UnsupportedOp(f"node {node.name!r} (concat): shapes {in_shapes} differ off axis {axis}")
        return [(*first[:axis], sum(s[axis] for s in in_shapes), *first[axis + 1:])]

    def ref_float(self, node, xs):
        return [np.concatenate([np.asarray(x, np.float32) for x in xs], axis=node.attrs["axis"])]

    def quantize(self, node, g):
        # Each input reaches y's parameters through a 256-entry table (requantizing a value
        # is a function of one int8), or a plain copy when its parameters already equal y's.
        qo = g.tensors[node.outputs[0]].q
        inputs, tables, offsets = [], [], []
        for name in node.inputs:
            t = g.tensors[name]
            if t.is_const and t.dtype != "int8":  # a float constant goes straight to y's q
                name = g.add_const(name + "_q", quant.quantize_array(t.data, qo), "int8", qo)
            inputs.append(name)
            qi = g.tensors[name].q
            if _same_q(qi, qo):
                offsets.append(-1)
            else:
                offsets.append(256 * len(tables))
                tables.append(quant.quantize_array(quant.dequantize_array(np.arange(-128, 128), qi), qo))
        params = {"table_offset": np.array(offsets, np.int32),
                  "tables": np.concatenate(tables) if tables else np.zeros(0, np.int8)}
        return Node(node.name, node.op, inputs, list(node.outputs), {**node.attrs, "int8": params})

    def ref_int8(self, node, xs):
        p = node.attrs["int8"]
        parts = [x if off < 0 else p["tables"][off + x.astype(np.int32) + 128]
                 for x, off in zip(xs, p["table_offset"])]
        return [np.concatenate(parts, axis=node.attrs["axis"]).astype(np.int8)]

    def kernel(self, node, g):
        axis, shapes = node.attrs["axis"], [g.tensors[n].shape for n in node.inputs]
        inner = int(np.prod(shapes[0][axis + 1:]))
        params = {"outer": int(np.prod(shapes[0][:axis])), "inputs": len(shapes),
                  "chunk": np.array([s[axis] * inner for s in shapes], np.int32)}
        kernel, ptype = _kernel_names("concat", g, node)
        if kernel.endswith("_s8"):
            params.update(node.attrs["int8"])
        return KernelCall(kernel, "tinyc_tensor", ptype, params, [*node.inputs, node.outputs[0]])


PAD_RANK = 4  # dims the C pad kernel loops over, after merging unpadded dims


def pad_loops(node: Node, shape: tuple) -> dict:
    """Input sizes and begin/end pads over PAD_RANK dims; an unpadded dim merges into the one before."""
    pads, r = node.attrs["pads"], len(shape)
    loops: list[list[int]] = []  # [size, begin, end], outermost first
    for k in range(r):
        size, begin, end = shape[k], pads[k], pads[r + k]
        if loops and begin == 0 and end == 0:
            loops[-1] = [loops[-1][0] * size, loops[-1][1] * size, loops[-1][2] * size]
        else:
            loops.append([size, begin, end])
    if len(loops) > PAD_RANK:
        raise UnsupportedOp(f"node {node.name!r} (pad): pads {pads} on {shape} need {len(loops)} loops; "
                            f"at most {PAD_RANK}")
    table = np.array([[1, 0, 0]] * (PAD_RANK - len(loops)) + loops, np.int32)
    return {"input_dims": table[:, 0].copy(), "pad_begin": table[:, 1].copy(), "pad_end": table[:, 2].copy()}


@register
class Pad(Op):
    """y = x with attrs["pads"] (ONNX order: all begins, then all ends) filled with attrs["value"]."""

    name = "pad"

    def infer_shape(self, node, in_shapes):
        s, pads, mode = in_shapes[0], list(node.attrs["pads"]), node.attrs.get("mode", "constant")
        if mode != "constant" or len(pads) != 2 * len(s) or min(pads) < 0:
            raise UnsupportedOp(f"node {node.name!r} (pad): mode {mode!r}, pads {pads} on {s}; "
                                "only constant mode with non-negative pads")
        return [tuple(d + pads[k] + pads[len(s) + k] for k, d in enumerate(s))]

    def ref_float(self, node, xs):
        return [self._pad(node, np.asarray(xs[0], np.float32), np.float32(node.attrs.get("value", 0.0)))]

    def output_qparams(self, node, g, calibrated):
        return [g.tensors[node.inputs[0]].q]

    def quantize(self, node, g):
        value = quant.quantize_array(np.array([node.attrs.get("value", 0.0)]), g.tensors[node.inputs[0]].q)
        return Node(node.name, node.op, list(node.inputs), list(node.outputs),
                    {**node.attrs, "int8": {"value": int(value[0])}})

    def ref_int8(self, node, xs):
        return [self._pad(node, xs[0], np.int8(node.attrs["int8"]["value"]))]

    @staticmethod
    def _pad(node, x, value):
        r = x.ndim
        widths = [(node.attrs["pads"][k], node.attrs["pads"][r + k]) for k in range(r)]
        return np.pad(x, widths, constant_values=value)

    def kernel(self, node, g):
        kernel, ptype = _kernel_names("pad", g, node)
        value = node.attrs["int8"]["value"] if kernel.endswith("_s8") else float(node.attrs.get("value", 0.0))
        params = {**pad_loops(node, g.tensors[node.inputs[0]].shape), "value": value}
        return KernelCall(kernel, "tinyc_tensor", ptype, params, [node.inputs[0], node.outputs[0]])


STRIDED_RANK = 8  # most dims the C strided copy walks, after merging


def strided_loops(name: str, shape: tuple, strides: tuple, offset: int = 0) -> dict:
    """tinyc_strided_copy params: y is dense over `shape`; stepping dim k of y steps strides[k]
    elements of x (0 repeats, negative walks back), starting at x[offset]. Size-1 dims are
    dropped and dims contiguous in x too are merged into one loop."""
    loops: list[list[int]] = []  # [size, input stride], outermost first
    for size, stride in zip(shape, strides):
        if size == 1:
            continue
        if loops and loops[-1][1] == stride * size:
            loops[-1] = [loops[-1][0] * size, stride]
        else:
            loops.append([size, stride])
    loops = loops or [[1, 1]]
    if len(loops) > STRIDED_RANK:
        raise UnsupportedOp(f"node {name!r}: a copy over {list(shape)} needs {len(loops)} loops; "
                            f"at most {STRIDED_RANK}")
    table = np.array(loops, np.int32)
    return {"rank": len(loops), "offset": int(offset), "dims": table[:, 0].copy(),
            "input_strides": table[:, 1].copy()}


def _copy_kernel(node: Node, g: Graph, loops: dict) -> KernelCall:
    dtype = "s8" if g.tensors[node.outputs[0]].dtype == "int8" else "f32"
    return KernelCall(f"tinyc_strided_copy_{dtype}", "tinyc_tensor", "tinyc_strided_copy_params", loops,
                      [node.inputs[0], node.outputs[0]])


class _MovesBytes(Op):
    """An op whose int8 form copies input bytes: y keeps x's q, nothing to prepare."""

    def output_qparams(self, node, g, calibrated):
        return [g.tensors[node.inputs[0]].q]

    def quantize(self, node, g):
        return node

    def ref_int8(self, node, xs):
        return self.ref_float(node, xs)


@register
class StridedCopy(_MovesBytes):
    """y[i_0, .., i_k] = x.flat[attrs["offset"] + sum_k i_k * attrs["strides"][k]], y of attrs["shape"]:
    Slice (offset = start, stride = step), Expand (stride 0), Tile, Split, Gather of a regular index set."""

    name = "strided_copy"

    def infer_shape(self, node, in_shapes):
        shape, strides, offset = node.attrs["shape"], node.attrs["strides"], node.attrs["offset"]
        lo = offset + sum(min(0, (n - 1) * s) for n, s in zip(shape, strides))
        hi = offset + sum(max(0, (n - 1) * s) for n, s in zip(shape, strides))
        assert len(shape) == len(strides) and 0 <= lo <= hi < int(np.prod(in_shapes[0])), \
            f"strided copy {shape} {strides} +{offset} out of {in_shapes[0]}"
        return [tuple(shape)]

    def ref_float(self, node, xs):
        shape, strides = node.attrs["shape"], node.attrs["strides"]
        index = np.full(shape, node.attrs["offset"], np.int64)
        for k, (n, s) in enumerate(zip(shape, strides)):
            index += (np.arange(n) * s).reshape([n if j == k else 1 for j in range(len(shape))])
        return [np.asarray(xs[0].reshape(-1)[index], xs[0].dtype)]

    def kernel(self, node, g):
        a = node.attrs
        return _copy_kernel(node, g, strided_loops(node.name, a["shape"], a["strides"], a["offset"]))


@register
class Gather(_MovesBytes):
    """y = x[..., indices, ...] along attrs["axis"]; attrs["indices"]: non-negative, flat (the lowering
    reshapes y to the ONNX index shape with a view)."""

    name = "gather"

    def infer_shape(self, node, in_shapes):
        s, axis, idx = in_shapes[0], node.attrs["axis"], node.attrs["indices"]
        assert all(0 <= i < s[axis] for i in idx), f"gather indices {idx} out of {s}[{axis}]"
        return [(*s[:axis], len(idx), *s[axis + 1:])]

    def ref_float(self, node, xs):
        return [np.take(xs[0], np.array(node.attrs["indices"], np.int64), axis=node.attrs["axis"])]

    def kernel(self, node, g):
        s, axis = g.tensors[node.inputs[0]].shape, node.attrs["axis"]
        inner = int(np.prod(s[axis + 1:]))
        params = {"outer": int(np.prod(s[:axis])), "input_rows": s[axis], "count": len(node.attrs["indices"]),
                  "inner": inner, "indices": np.array(node.attrs["indices"], np.int32)}
        dtype = "s8" if g.tensors[node.outputs[0]].dtype == "int8" else "f32"
        return KernelCall(f"tinyc_gather_{dtype}", "tinyc_tensor", "tinyc_gather_params", params,
                          [node.inputs[0], node.outputs[0]])


def transpose_loops(node: Node, shape: tuple) -> dict:
    """The strided copy of a transpose: y's dims with the input stride of each, merged."""
    in_strides = [int(np.prod(shape[k + 1:])) for k in range(len(shape))]
    perm = node.attrs["perm"]
    return strided_loops(node.name, tuple(shape[p] for p in perm), tuple(in_strides[p] for p in perm))


@register
class Transpose(_MovesBytes):
    """y = x with its axes permuted by attrs["perm"]; int8 keeps the input's q."""

    name = "transpose"

    def infer_shape(self, node, in_shapes):
        perm = list(node.attrs["perm"])
        if sorted(perm) != list(range(len(in_shapes[0]))):
            raise UnsupportedOp(f"node {node.name!r} (transpose): perm {perm} for rank {len(in_shapes[0])}")
        return [tuple(in_shapes[0][p] for p in perm)]

    def ref_float(self, node, xs):
        return [np.ascontiguousarray(np.transpose(xs[0], node.attrs["perm"]))]

    def kernel(self, node, g):
        return _copy_kernel(node, g, transpose_loops(node, g.tensors[node.inputs[0]].shape))


@register
class Constant(Op):
    """y = the constant input: a graph output known at compile time (a Dropout mask, a result computed from
    constants) is copied from flash into its output buffer. Any dtype; int8 keeps the constant's q."""

    name = "constant"

    def infer_shape(self, node, in_shapes):
        return [tuple(in_shapes[0])]

    def output_dtypes(self, node, in_dtypes):
        return [in_dtypes[0]]

    def accepts(self, node, in_dtypes):
        return True

    def ref_float(self, node, xs):
        return [np.array(xs[0])]

    def output_qparams(self, node, g, calibrated):
        return [g.tensors[node.inputs[0]].q or calibrated[0]]

    def quantize(self, node, g):
        """A float32 constant feeding an int8 result becomes int8 at the result's parameters."""
        src, out = g.tensors[node.inputs[0]], g.tensors[node.outputs[0]]
        if src.dtype == out.dtype:
            return node
        name = node.inputs[0] + "_int8"
        while name in g.tensors:
            name += "_"
        g.tensors[name] = Tensor(name, src.shape, "int8", quant.quantize_array(src.data, out.q).astype(np.int8), out.q)
        return Node(node.name, node.op, [name], list(node.outputs), dict(node.attrs))

    def ref_int8(self, node, xs):
        return [np.array(xs[0])]

    def kernel(self, node, g):
        return KernelCall("tinyc_copy", "tinyc_tensor", "tinyc_copy_params",
                          {"bytes": g.tensors[node.outputs[0]].nbytes}, [node.inputs[0], node.outputs[0]])


@register
class GatherIndexed(Op):
    """y = x[..., indices, ...] along attrs["axis"], indices an int64 tensor known at run time (token ids into
    an embedding table); a negative index counts from the end, and an index out of range is clamped into it,
    so no model input can make the kernel read outside x. float32; int8 when x is an activation (bytes move)."""

    name = "gather_indexed"

    def accepts(self, node, in_dtypes):
        return in_dtypes[1] == "int64" and in_dtypes[0] in ("float32", "int8")

    def infer_shape(self, node, in_shapes):
        s, idx, axis = in_shapes[0], in_shapes[1], node.attrs["axis"]
        return [(*s[:axis], *idx, *s[axis + 1:])]

    def ref_float(self, node, xs):
        x, axis = xs[0], node.attrs["axis"]
        d = x.shape[axis]
        idx = np.asarray(xs[1], np.int64)
        return [np.take(x, np.clip(np.where(idx < 0, idx + d, idx), 0, d - 1), axis=axis)]

    def output_qparams(self, node, g, calibrated):
        return [g.tensors[node.inputs[0]].q or calibrated[0]]

    def quantize(self, node, g):
        if g.tensors[node.inputs[0]].is_const:
            raise UnsupportedOp(f"node {node.name!r} (gather_indexed): an int8 embedding table is issue 11's work; "
                                "compile with --dtype float32")
        return node

    def ref_int8(self, node, xs):
        return self.ref_float(node, xs)

    def kernel(self, node, g):
        s, axis = g.tensors[node.inputs[0]].shape, node.attrs["axis"]
        params = {"outer": int(np.prod(s[:axis])), "input_rows": s[axis],
                  "count": g.tensors[node.inputs[1]].size, "inner": int(np.prod(s[axis + 1:]))}
        dtype = "s8" if g.tensors[node.outputs[0]].dtype == "int8" else "f32"
        return KernelCall(f"tinyc_gather_indexed_{dtype}", "tinyc_tensor", "tinyc_gather_indexed_params", params,
                          [node.inputs[0], node.inputs[1], node.outputs[0]])
