"""Elementwise lowerings: binary and variadic arithmetic, Where, functions of one input, Clip, PRelu,
Softmax, LogSoftmax.

Each lowering is named after its ONNX op: `b` is the Importer (tinyc/frontend/onnx_import.py), `n` the
ONNX node, positional arguments the node's input names ("" when absent), attributes keyword
arguments with ONNX's defaults. What tinyc does not implement raises UnsupportedOp through b.fail.
"""

from __future__ import annotations

import numpy as np

from tinyc.ir import Tensor


def _binary(op):
    def lower(b, n, A, B):
        b.emit(op, [A, B], [n.output[0]], {"act": None})
    lower.__name__ = op.capitalize()
    return lower


def _variadic(op):
    """Max, Min, Sum (and Mean): a chain of binary nodes, left to right; one input is the input itself."""
    def lower(b, n, *inputs):
        inputs = [i for i in inputs if i]
        if not inputs:
            raise b.fail("needs at least one input")
        out = n.output[0]
        mean = n.op_type == "Mean" and len(inputs) > 1
        acc = inputs[0]
        for k, other in enumerate(inputs[1:]):
            last = k == len(inputs) - 2 and not mean
            step = out if last else b.fresh(f"{out}_{op}{k}")
            b.emit(op, [acc, other], [step], {"act": None})
            acc = step
        if mean:  # the sum times 1/N (add and mul have int8 forms)
            inv = b.fresh(f"{out}_inv_count")
            b.consts[inv] = np.array(1.0 / len(inputs), np.float32)
            b.emit("mul", [acc, inv], [out], {"act": None})
        elif len(inputs) == 1:
            b.alias[out] = b.resolve(inputs[0])
    lower.__name__ = op.capitalize()
    return lower


def _unary(fn, **defaults):
    def lower(b, n, X, **attrs):
        unknown = set(attrs) - set(defaults)
        if unknown:
            raise b.fail(f"attribute {sorted(unknown)[0]!r} is not supported")
        b.emit("unary", [X], [n.output[0]], {"fn": fn, **defaults, **attrs})
    lower.attributes = tuple(defaults)  # what docs/operators.md lists
    return lower


def Clip(b, n, X, lo="", hi="", *, min=None, max=None):  # noqa: A002 - ONNX names
    if lo or hi:  # opset >= 11: bounds are inputs
        lo_v, hi_v = b.const(lo), b.const(hi)
        if (lo and lo_v is None) or (hi and hi_v is None):
            raise b.fail("only constant min and max are supported")
        min = float(lo_v) if lo else None
        max = float(hi_v) if hi else None
    b.emit("unary", [X], [n.output[0]], {"fn": "clip", "min": min, "max": max})


def PRelu(b, n, X, slope):
    x_shape, s = b.shape(X), b.const(slope)
    if b.opset < 7:  # PRelu-6 has no numpy broadcasting: a slope is one value, one per channel, or X's shape
        if s is None:
            raise b.fail("slope must be constant before opset 7")
        if s.size > 1 and s.ndim == 1 and len(x_shape) >= 2 and s.shape[0] == x_shape[1]:
            slope = b.fresh(slope + "_per_channel")  # along axis 1, as PyTorch exported it
            b.consts[slope] = s.reshape((-1,) + (1,) * (len(x_shape) - 2))
        elif s.size > 1 and tuple(s.shape) != tuple(x_shape):
            raise b.fail(f"slope {list(s.shape)} on X {list(x_shape)} (opset {b.opset}): allowed one value, "
                         f"one per channel ([{x_shape[1] if len(x_shape) > 1 else 1}]) or X's shape")
    b.emit("prelu", [X, slope], [n.output[0]])


def Where(b, n, C, X, Y):
    cond = b.const(C)
    if cond is None:
        raise b.fail("the condition must be known at compile time (a constant)")
    c = b.fresh(C + "_int8")
    b.tensors[c] = Tensor(c, tuple(cond.shape), "int8", cond.astype(np.int8))  # 0 or 1, one byte each
    b.emit("where", [c, X, Y], [n.output[0]])


def _along_axis(b, n, X, op, axis):
    """Softmax or LogSoftmax: opset < 13 normalises over all axes from `axis` on (default 1), as a 2-D
    op between two views; opset >= 13 over `axis` alone (default -1)."""
    shape = b.shape(X)
    rank = len(shape)
    if axis is None:
        axis = -1 if b.opset >= 13 else 1
    if not -rank <= axis < rank:
        raise b.fail(f"axis {axis} out of range for rank {rank}")
    axis = axis % rank
    if b.opset >= 13 or axis == rank - 1:
        b.emit(op, [X], [n.output[0]], {"axis": axis})
        return
    flat = (int(np.prod(shape[:axis])), int(np.prod(shape[axis:])))
    t1, t2 = b.fresh(n.output[0] + "_2d"), b.fresh(n.output[0] + "_" + op)
    b.emit("reshape", [X], [t1], {"shape": flat})
    b.emit(op, [t1], [t2], {"axis": 1})
    b.emit("reshape", [t2], [n.output[0]], {"shape": shape})


def Softmax(b, n, X, *, axis=None):
    _along_axis(b, n, X, "softmax", axis)


def LogSoftmax(b, n, X, *, axis=None):
    _along_axis(b, n, X, "log_softmax", axis)


def Gelu(b, n, X, *, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise b.fail(f"approximate={approximate!r}; allowed 'none', 'tanh'")
    b.emit("unary", [X], [n.output[0]], {"fn": "gelu" if approximate == "none" else "gelu_tanh"})


SELU = {"alpha": 1.67326319217681884765625, "gamma": 1.05070102214813232421875}

LOWERINGS = {
    "Add": _binary("add"), "Sub": _binary("sub"), "Mul": _binary("mul"), "Div": _binary("div"),
    "Pow": _binary("pow"), "Max": _variadic("max"), "Min": _variadic("min"), "Sum": _variadic("add"),
    "Mean": _variadic("add"), "Where": Where,
    "Relu": _unary("relu"), "Sigmoid": _unary("sigmoid"), "Tanh": _unary("tanh"),
    "LeakyRelu": _unary("leaky_relu", alpha=0.01), "HardSigmoid": _unary("hard_sigmoid", alpha=0.2, beta=0.5),
    "HardSwish": _unary("hard_swish"), "Clip": Clip, "PRelu": PRelu, "Softmax": Softmax,
    "LogSoftmax": LogSoftmax,
    "Abs": _unary("abs"), "Neg": _unary("neg"), "Ceil": _unary("ceil"), "Floor": _unary("floor"),
    "Round": _unary("round"), "Sign": _unary("sign"), "Exp": _unary("exp"), "Log": _unary("log"),
    "Sqrt": _unary("sqrt"), "Reciprocal": _unary("reciprocal"), "Sin": _unary("sin"), "Cos": _unary("cos"),
    "Erf": _unary("erf"), "Gelu": Gelu, "Softplus": _unary("softplus"), "Softsign": _unary("softsign"),
    "Mish": _unary("mish"), "Swish": _unary("swish", alpha=1.0), "Elu": _unary("elu", alpha=1.0),
    "Selu": _unary("selu", **SELU), "Celu": _unary("celu", alpha=1.0),
    "ThresholdedRelu": _unary("thresholded_relu", alpha=1.0), "Shrink": _unary("shrink", lambd=0.5, bias=0.0),
}
