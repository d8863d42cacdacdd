"""Elementwise ops of two or three inputs with numpy broadcasting: add, sub, mul (with a fused
activation), div, pow, max, min (float32 only), where (a constant condition).

int8 follows TensorFlow Lite's reference add/sub/mul; the C side is runtime_c/tinyc_elementwise.c.
"""

from __future__ import annotations

import numpy as np

from tinyc import quant
from tinyc.errors import UnsupportedOp
from tinyc.ir import Graph, Node
from tinyc.ops import REGISTRY, KernelCall, Op, register
from tinyc.ops.common import act_clamp_f32, act_clamp_s8, apply_act_float, out_dtype, scale_zp

ADD_LEFT_SHIFT = 20  # TFLite's left_shift for int8 add/sub: headroom before the input rescale


def broadcast_loops(a_shape: tuple, b_shape: tuple, out_shape: tuple, rank: int = 4, where: str = "") -> dict:
    """Per-dim output sizes and element strides of A and B (0 where broadcast), `rank` dims.

    Size-1 output dims are dropped and neighbours that both inputs walk the same way are
    merged (as PyTorch's TensorIterator coalesces), so same-shape tensors become one flat loop.
    """
    dims, (sa, sb) = broadcast_strides([a_shape, b_shape], out_shape, rank, where)
    return {"out_dims": dims, "a_strides": sa, "b_strides": sb}


def broadcast_strides(shapes: list, out_shape: tuple, rank: int = 4, where: str = "") -> tuple:
    """broadcast_loops for any number of inputs: (out_dims, [strides of each input]), int32 arrays."""
    r = len(out_shape)
    strides = []
    for shape in shapes:
        shape = (1,) * (r - len(shape)) + tuple(shape)
        step, s = 1, [0] * r
        for k in reversed(range(r)):
            s[k] = 0 if shape[k] == 1 else step
            step *= shape[k]
        strides.append(s)
    loops: list[list[int]] = []  # [size, stride of each input], outermost first
    for k in range(r):
        size, st = out_shape[k], [s[k] for s in strides]
        if size == 1:
            continue
        if loops and all(loops[-1][1 + i] == st[i] * size for i in range(len(st))):
            loops[-1] = [loops[-1][0] * size, *st]
        else:
            loops.append([size, *st])
    if len(loops) > rank:
        shown = " and ".join(str(tuple(s)) for s in shapes)
        raise UnsupportedOp(f"{where or 'broadcast'}: shapes {shown} need {len(loops)} loops; at most {rank}")
    loops = [[1] + [0] * len(shapes)] * (rank - len(loops)) + loops
    table = np.array(loops, np.int32).reshape(rank, 1 + len(shapes))
    return table[:, 0].copy(), [table[:, 1 + i].copy() for i in range(len(shapes))]


def _quantize_const_input(g: Graph, name: str) -> str:
    """A float constant operand becomes int8 with per-tensor parameters over its own range."""
    t = g.tensors[name]
    if not t.is_const or t.dtype == "int8":
        return name
    q = t.q if t.q is not None and t.q.axis is None else quant.choose_qparams(t.data.min(), t.data.max())
    data = quant.quantize_array(t.data, q)
    # A scalar becomes shape (1,), which broadcasts the same (Graph.add_const stores at least 1-d).
    return g.add_const(name + "_q", data.reshape(data.shape or (1,)), "int8", q)


class _Binary(Op):
    """Shared shape, float semantics and C call; subclasses give the int8 arithmetic."""

    np_fn = staticmethod(np.add)

    def infer_shape(self, node, in_shapes):
        where = f"node {node.name!r} ({self.name})"
        try:
            out = tuple(np.broadcast_shapes(in_shapes[0], in_shapes[1]))
        except ValueError:
            raise UnsupportedOp(f"{where}: shapes {in_shapes[0]} and {in_shapes[1]} do not broadcast") from None
        broadcast_loops(in_shapes[0], in_shapes[1], out, where=where)  # fails early past 4 loops
        return [out]

    def ref_float(self, node, xs):
        a, b = (np.asarray(x, np.float32) for x in xs)
        return [apply_act_float(node, self.np_fn(a, b))]

    def quantize(self, node: Node, g: Graph) -> Node:
        inputs = [_quantize_const_input(g, n) for n in node.inputs]
        (sa, za), (sb, zb) = scale_zp(g, inputs[0]), scale_zp(g, inputs[1])
        so, zo = scale_zp(g, node.outputs[0])
        params = {"a_zp": za, "b_zp": zb, **self.int8_params(sa, sb, so), "output_zp": zo,
                  **{"clamp_" + k: v for k, v in act_clamp_s8(node, g.tensors[node.outputs[0]].q).items()}}
        return Node(node.name, node.op, inputs, list(node.outputs), {**node.attrs, "int8": params})

    def int8_params(self, sa: float, sb: float, so: float) -> dict:
        raise NotImplementedError

    def in_place_inputs(self, node, g):
        # An input of the output's shape and dtype is read at the output's index, element i
        # before y[i] is written (tinyc_elementwise.c); the other input must not be a broadcast
        # activation, which could share those bytes and be read again later.
        y = g.tensors[node.outputs[0]]
        ts = [g.tensors[n] for n in node.inputs]
        if not all(t.is_const or t.shape == y.shape for t in ts):
            return ()
        return tuple(k for k, t in enumerate(ts) if not t.is_const and t.shape == y.shape and t.dtype == y.dtype)

    def kernel(self, node, g):
        a, b, y = (g.tensors[n] for n in (*node.inputs, node.outputs[0]))
        loops = broadcast_loops(a.shape, b.shape, y.shape)
        if out_dtype(node, g) == "float32":
            params = {**loops, "clamp": act_clamp_f32(node)}
            return KernelCall(f"tinyc_{self.name}_f32", "tinyc_elementwise", "tinyc_binary_f32_params",
                              params, [*node.inputs, node.outputs[0]])
        p = dict(node.attrs["int8"])
        clamp = {"min": p.pop("clamp_min"), "max": p.pop("clamp_max")}
        params = {**loops, **p, "clamp": clamp}
        ptype = "tinyc_mul_s8_params" if self.name == "mul" else "tinyc_add_s8_params"
        return KernelCall(f"tinyc_{self.name}_s8", "tinyc_elementwise", ptype, params,
                          [*node.inputs, node.outputs[0]])


class _AddSub(_Binary):
    sign = 1

    def int8_params(self, sa, sb, so):
        # TFLite's reference add: both inputs rescaled to twice the larger input scale,
        # after a left shift of 20 bits that keeps the rounding error below one output step.
        twice_max = 2.0 * max(sa, sb)
        am, ash = quant.quantize_multiplier(sa / twice_max)
        bm, bsh = quant.quantize_multiplier(sb / twice_max)
        om, osh = quant.quantize_multiplier(twice_max / ((1 << ADD_LEFT_SHIFT) * so))
        return {"left_shift": ADD_LEFT_SHIFT, "a_multiplier": am, "a_shift": ash,
                "b_multiplier": bm, "b_shift": bsh, "output_multiplier": om, "output_shift": osh}

    def ref_int8(self, node, xs):
        p = node.attrs["int8"]
        a = quant.requantize((xs[0].astype(np.int64) - p["a_zp"]) << p["left_shift"],
                             p["a_multiplier"], p["a_shift"])
        b = quant.requantize((xs[1].astype(np.int64) - p["b_zp"]) << p["left_shift"],
                             p["b_multiplier"], p["b_shift"])
        y = quant.requantize(a + self.sign * b, p["output_multiplier"], p["output_shift"]) + p["output_zp"]
        return [quant.saturate(y, p["clamp_min"], p["clamp_max"])]


@register
class Add(_AddSub):
    """y = act(a + b), numpy broadcasting of ranks up to 4."""

    name = "add"


@register
class Sub(_AddSub):
    """y = act(a - b), numpy broadcasting of ranks up to 4."""

    name = "sub"
    np_fn = staticmethod(np.subtract)
    sign = -1


@register
class Mul(_Binary):
    """y = act(a * b), numpy broadcasting of ranks up to 4."""

    name = "mul"
    np_fn = staticmethod(np.multiply)

    def int8_params(self, sa, sb, so):
        m, s = quant.quantize_multiplier(sa * sb / so)  # TFLite's reference mul
        return {"output_multiplier": m, "output_shift": s}

    def ref_int8(self, node, xs):
        p = node.attrs["int8"]
        acc = (xs[0].astype(np.int64) - p["a_zp"]) * (xs[1].astype(np.int64) - p["b_zp"])
        y = quant.requantize(acc, p["output_multiplier"], p["output_shift"]) + p["output_zp"]
        return [quant.saturate(y, p["clamp_min"], p["clamp_max"])]



class _FloatBinary(_Binary):
    """A binary op with a float32 kernel only (int8: issue 11)."""

    quantize = Op.quantize


@register
class Div(_FloatBinary):
    """y = a / b (IEEE: x / 0 is +-inf, 0 / 0 NaN), numpy broadcasting of ranks up to 4."""

    name = "div"
    np_fn = staticmethod(np.divide)

    def ref_float(self, node, xs):
        with np.errstate(all="ignore"):
            return super().ref_float(node, xs)

    def quantize(self, node, g):
        """int8 only for a finite nonzero constant divisor (GELU's x / sqrt 2): x * (1 / c), the int8 mul."""
        c = g.tensors[node.inputs[1]]
        if not c.is_const or c.dtype != "float32" or not np.all(np.isfinite(c.data)) or not np.all(c.data):
            return Op.quantize(self, node, g)
        inv = (1.0 / c.data.astype(np.float64)).astype(np.float32)
        name = g.add_const(node.inputs[1] + "_reciprocal", inv.reshape(inv.shape or (1,)), "float32")
        return REGISTRY["mul"].quantize(Node(node.name, "mul", [node.inputs[0], name], list(node.outputs),
                                             dict(node.attrs)), g)


@register
class Pow(_FloatBinary):
    """y = a ** b in float32 (C powf; a negative base with a non-integer exponent gives NaN)."""

    name = "pow"
    np_fn = staticmethod(np.power)

    def ref_float(self, node, xs):
        with np.errstate(all="ignore"):
            return super().ref_float(node, xs)


@register
class Max(_FloatBinary):
    """y = max(a, b), NaN if either is NaN (numpy's maximum)."""

    name = "max"
    np_fn = staticmethod(np.maximum)


@register
class Min(_FloatBinary):
    """y = min(a, b), NaN if either is NaN (numpy's minimum)."""

    name = "min"
    np_fn = staticmethod(np.minimum)


@register
class Where(Op):
    """y = x where cond else y; inputs [cond, x, y], cond a constant int8 0/1 tensor; all three
    broadcast together (numpy rules, ranks up to 4 loops)."""

    name = "where"

    def infer_shape(self, node, in_shapes):
        where = f"node {node.name!r} (where)"
        try:
            out = tuple(np.broadcast_shapes(*in_shapes))
        except ValueError:
            raise UnsupportedOp(f"{where}: shapes {' and '.join(str(tuple(s)) for s in in_shapes)} "
                                "do not broadcast") from None
        broadcast_strides(in_shapes, out, where=where)  # fails early past 4 loops
        return [out]

    def ref_float(self, node, xs):
        c, a, b = np.asarray(xs[0]), np.asarray(xs[1], np.float32), np.asarray(xs[2], np.float32)
        return [np.where(c != 0, a, b).astype(np.float32)]

    def in_place_inputs(self, node, g):
        # As _Binary: x or y of the output's shape is read at the output's index before it is written.
        y = g.tensors[node.outputs[0]]
        ts = [g.tensors[n] for n in node.inputs]
        if not all(t.is_const or t.shape == y.shape for t in ts):
            return ()
        return tuple(k for k, t in enumerate(ts) if not t.is_const and t.shape == y.shape and t.dtype == y.dtype)

    def kernel(self, node, g):
        shapes = [g.tensors[n].shape for n in node.inputs]
        dims, (sc, sa, sb) = broadcast_strides(shapes, g.tensors[node.outputs[0]].shape)
        params = {"out_dims": dims, "c_strides": sc, "a_strides": sa, "b_strides": sb}
        return KernelCall("tinyc_where_f32", "tinyc_elementwise", "tinyc_where_f32_params", params,
                          [*node.inputs, node.outputs[0]])
