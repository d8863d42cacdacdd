"""Elementwise ops of two or three inputs with numpy broadcasting: add, sub, mul (with a fused
activation), div, pow, max, min, where (a constant condition).

int8 follows TensorFlow Lite's reference add/sub/mul. max, min and where take each input to the output's
parameters by a 256-entry table (TFLite's MAXIMUM/MINIMUM keep one scale; requantizing is monotonic, so
the result is the quantized float max, min or choice, exact). div of two activations is an integer
division (DIV_FRAC fraction bits) then one requantization; pow with one constant side is a table of the
other. The C side is runtime_c/tinyc_elementwise.c.
"""

from __future__ import annotations

import numpy as np

from tinyc import quant
from tinyc.errors import UnsupportedOp
from tinyc.ir import Graph, Node, QParams
from tinyc.ops import REGISTRY, KernelCall, Op, register
from tinyc.ops.common import FLT_MAX, act_clamp_f32, act_clamp_s8, apply_act_float, out_dtype, scale_zp

ADD_LEFT_SHIFT = 20  # TFLite's left_shift for int8 add/sub: headroom before the input rescale
DIV_FRAC = 20  # int8 div: ((a - za) << 20) / (b - zb), |2 * numerator + denominator| < 2^30 (int32)


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
        with quant.requantization("tflite"):
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



def _table_to(q_in: QParams, q_out: QParams) -> np.ndarray:
    """The 256-entry int8 table taking a value on q_in to q_out (round half away, saturate)."""
    return quant.quantize_array(quant.dequantize_array(np.arange(-128, 128), q_in), q_out)


def _as_int8(g: Graph, name: str, q: QParams) -> str:
    """An operand as int8: an activation as is, a float constant quantized straight onto q."""
    t = g.tensors[name]
    if not t.is_const or t.dtype == "int8":
        return name
    data = quant.quantize_array(t.data, q)
    return g.add_const(name + "_q", data.reshape(data.shape or (1,)), "int8", q)


def _tables_to_output(node: Node, g: Graph, inputs: list[str]) -> tuple[list[str], dict]:
    """The int8 inputs and their tables onto the output's parameters (params a_table, b_table)."""
    qo = g.tensors[node.outputs[0]].q
    names = [_as_int8(g, n, qo) for n in inputs]
    tables = {k + "_table": _table_to(g.tensors[n].q, qo) for k, n in zip("ab", names)}
    return names, tables


class _Select(_Binary):
    """max and min: y = pick(A[a], B[b]), A and B the tables onto y's parameters. Quantizing is
    monotonic, so this is the quantized float max (min) of the dequantized inputs, exactly."""

    def quantize(self, node, g):
        names, params = _tables_to_output(node, g, node.inputs)
        return Node(node.name, node.op, names, list(node.outputs), {**node.attrs, "int8": params})

    def ref_int8(self, node, xs):
        p = node.attrs["int8"]
        a, b = p["a_table"][xs[0].astype(np.int32) + 128], p["b_table"][xs[1].astype(np.int32) + 128]
        return [self.np_fn(a, b).astype(np.int8)]

    def kernel(self, node, g):
        if out_dtype(node, g) == "float32":
            return super().kernel(node, g)
        a, b, y = (g.tensors[n] for n in (*node.inputs, node.outputs[0]))
        params = {**broadcast_loops(a.shape, b.shape, y.shape), **node.attrs["int8"]}
        return KernelCall(f"tinyc_{self.name}_s8", "tinyc_elementwise", "tinyc_select_s8_params", params,
                          [*node.inputs, node.outputs[0]])


@register
class Div(_Binary):
    """y = a / b (IEEE: x / 0 is +-inf, 0 / 0 NaN), numpy broadcasting of ranks up to 4."""

    name = "div"
    np_fn = staticmethod(np.divide)

    def ref_float(self, node, xs):
        with np.errstate(all="ignore"):
            return super().ref_float(node, xs)

    def quantize(self, node, g):
        """A finite nonzero constant divisor (GELU's x / sqrt 2): x * (1 / c), the int8 mul. Otherwise
        q = round(((a - za) << DIV_FRAC) / (b - zb)) (half away from zero), y = requant(q) + zo; a zero
        divisor gives +-inf (saturated) or, for 0 / 0, NaN's stand-in 0.0 (as the unary tables)."""
        c = g.tensors[node.inputs[1]]
        if c.is_const and c.dtype == "float32" and np.all(np.isfinite(c.data)) and np.all(c.data):
            inv = (1.0 / c.data.astype(np.float64)).astype(np.float32)
            name = g.add_const(node.inputs[1] + "_reciprocal", inv.reshape(inv.shape or (1,)), "float32")
            return REGISTRY["mul"].quantize(Node(node.name, "mul", [node.inputs[0], name], list(node.outputs),
                                                 dict(node.attrs)), g)
        inputs = [_quantize_const_input(g, n) for n in node.inputs]
        (sa, za), (sb, zb) = scale_zp(g, inputs[0]), scale_zp(g, inputs[1])
        so, zo = scale_zp(g, node.outputs[0])
        m, s = quant.quantize_multiplier(sa / (sb * so) * 2.0**-DIV_FRAC)
        params = {"a_zp": za, "b_zp": zb, "output_multiplier": m, "output_shift": s, "output_zp": zo,
                  "clamp_min": -128, "clamp_max": 127}
        return Node(node.name, node.op, inputs, list(node.outputs), {**node.attrs, "int8": params})

    def ref_int8(self, node, xs):
        p = node.attrs["int8"]
        num = (xs[0].astype(np.int64) - p["a_zp"]) << DIV_FRAC
        den = xs[1].astype(np.int64) - p["b_zp"]
        num, den = np.broadcast_arrays(np.where(den < 0, -num, num), np.abs(den))
        safe = np.maximum(den, 1)
        q = np.sign(num) * ((2 * np.abs(num) + safe) // (2 * safe))  # round half away from zero
        y = quant.requantize(q, p["output_multiplier"], p["output_shift"]) + p["output_zp"]
        y = np.where(den == 0, np.where(num > 0, 127, np.where(num < 0, -128, p["output_zp"])), y)
        return [quant.saturate(y, p["clamp_min"], p["clamp_max"])]

    def kernel(self, node, g):
        if out_dtype(node, g) == "float32":
            return super().kernel(node, g)
        a, b, y = (g.tensors[n] for n in (*node.inputs, node.outputs[0]))
        p = dict(node.attrs["int8"])
        clamp = {"min": p.pop("clamp_min"), "max": p.pop("clamp_max")}
        return KernelCall("tinyc_div_s8", "tinyc_elementwise", "tinyc_mul_s8_params",
                          {**broadcast_loops(a.shape, b.shape, y.shape), **p, "clamp": clamp},
                          [*node.inputs, node.outputs[0]])


@register
class Pow(_Binary):
    """y = a ** b in float32 (C powf; a negative base with a non-integer exponent gives NaN).
    int8 when one side is a constant scalar: a 256-entry table of the other side."""

    name = "pow"
    np_fn = staticmethod(np.power)

    def ref_float(self, node, xs):
        with np.errstate(all="ignore"):
            return super().ref_float(node, xs)

    def quantize(self, node, g):
        a, b = (g.tensors[n] for n in node.inputs)
        y = g.tensors[node.outputs[0]]
        const, var = (b, a) if b.is_const else (a, b)
        if not const.is_const or const.data.dtype.kind not in "fiu" or const.data.size != 1 or var.shape != y.shape:
            raise UnsupportedOp(f"node {node.name!r} (pow): int8 needs one side a constant scalar; "
                                "otherwise it stays float (--float-layers)")
        x = quant.dequantize_array(np.arange(-128, 128), var.q).astype(np.float64)
        c = float(const.data.reshape(()))
        with np.errstate(all="ignore"):
            f = np.power(x, c) if const is b else np.power(c, x)
        # +-inf saturates; NaN (a negative base, a fractional exponent) has no int8 value: 0.0 stands for it.
        table = quant.quantize_array(np.nan_to_num(f, nan=0.0, posinf=FLT_MAX, neginf=-FLT_MAX), y.q)
        return Node(node.name, node.op, [var.name], list(node.outputs), {**node.attrs, "int8": {"table": table}})

    def ref_int8(self, node, xs):
        return [node.attrs["int8"]["table"][xs[0].astype(np.int32) + 128]]

    def in_place_inputs(self, node, g):
        if out_dtype(node, g) == "int8":
            x, y = g.tensors[node.inputs[0]], g.tensors[node.outputs[0]]
            return (0,) if x.shape == y.shape and not x.is_const else ()
        return super().in_place_inputs(node, g)

    def kernel(self, node, g):
        if out_dtype(node, g) == "float32":
            return super().kernel(node, g)
        return KernelCall("tinyc_lut_s8", "tinyc_elementwise", "tinyc_lut_s8_params",
                          {"size": g.tensors[node.outputs[0]].size, "table": node.attrs["int8"]["table"]},
                          [node.inputs[0], node.outputs[0]])


@register
class Max(_Select):
    """y = max(a, b), NaN if either is NaN (numpy's maximum)."""

    name = "max"
    np_fn = staticmethod(np.maximum)


@register
class Min(_Select):
    """y = min(a, b), NaN if either is NaN (numpy's minimum)."""

    name = "min"
    np_fn = staticmethod(np.minimum)


@register
class Where(Op):
    """y = x where cond else y; inputs [cond, x, y], cond a constant int8 0/1 tensor; all three
    broadcast together (numpy rules, ranks up to 4 loops). int8: x and y through tables onto y's q."""

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

    def quantize(self, node, g):
        names, params = _tables_to_output(node, g, node.inputs[1:])
        return Node(node.name, node.op, [node.inputs[0], *names], list(node.outputs), {**node.attrs, "int8": params})

    def ref_int8(self, node, xs):
        p = node.attrs["int8"]
        a, b = p["a_table"][xs[1].astype(np.int32) + 128], p["b_table"][xs[2].astype(np.int32) + 128]
        return [np.where(np.asarray(xs[0]) != 0, a, b).astype(np.int8)]

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
        args = [*node.inputs, node.outputs[0]]
        if out_dtype(node, g) == "int8":
            return KernelCall("tinyc_where_s8", "tinyc_elementwise", "tinyc_where_s8_params",
                              {**params, **node.attrs["int8"]}, args)
        return KernelCall("tinyc_where_f32", "tinyc_elementwise", "tinyc_where_f32_params", params, args)
