"""One lowering per ONNX op, named after it: attributes are keyword arguments with ONNX's
defaults, and an attribute or value tinyc does not implement raises UnsupportedOp.

`b` is the Importer (tinyc/frontend/onnx_import.py); `n` the ONNX node; positional arguments
are the node's input names ("" for an absent optional input).
"""

from __future__ import annotations

import numpy as np

from tinyc.errors import UnsupportedOp
from tinyc.ir import QParams

# --- spatial ops ----------------------------------------------------------------------------------


def _spatial(b, n, rank: int, kernel, strides, pads, dilations, auto_pad) -> tuple:
    """Normalise ONNX spatial attrs to 2-D (strides, pads (t, l, b, r), dilations); 1-D gets h = 1."""
    sp = rank - 2
    if sp not in (1, 2):
        raise b.fail(f"{sp}-D input; only 1-D and 2-D are supported")
    strides = list(strides or [1] * sp)
    dilations = list(dilations or [1] * sp)
    in_sizes = b.shape(n.input[0])[2:]
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        pads_begin, pads_end = [], []
        for size, k, s, d in zip(in_sizes, kernel, strides, dilations):
            out = -(-size // s)
            total = max((out - 1) * s + d * (k - 1) + 1 - size, 0)
            small = total // 2
            pads_begin.append(small if auto_pad == "SAME_UPPER" else total - small)
            pads_end.append(total - pads_begin[-1])
        pads = pads_begin + pads_end
    elif auto_pad == "VALID":
        pads = [0] * (2 * sp)
    elif auto_pad != "NOTSET":
        raise b.fail(f"auto_pad={auto_pad!r} unsupported")
    pads = list(pads or [0] * (2 * sp))
    if sp == 1:
        return (1, strides[0]), (0, pads[0], 0, pads[1]), (1, dilations[0])
    return tuple(strides), (pads[0], pads[1], pads[2], pads[3]), tuple(dilations)


def Conv(b, n, X, W, B="", *, auto_pad="NOTSET", dilations=None, group=1, kernel_shape=None, pads=None,
         strides=None):
    w = b.const(W)
    if w is None:
        raise b.fail("weights must be constant")
    if B and b.const(B) is None:
        raise b.fail("bias must be constant")
    rank = len(b.shape(X))
    kernel = list(kernel_shape or w.shape[2:])
    strides, pads, dilations = _spatial(b, n, rank, kernel, strides, pads, dilations, auto_pad)
    if w.ndim == 3:
        name = b.fresh(W + "_2d")
        b.consts[name] = w.reshape(w.shape[0], w.shape[1], 1, w.shape[2])
        W = name
    b.emit("conv2d", [X, W, B], [n.output[0]],
           {"strides": strides, "pads": pads, "dilations": dilations, "group": int(group), "act": None})


def _pool(b, n, op, X, kernel_shape, strides, pads, auto_pad, ceil_mode, dilations, extra):
    if dilations and any(d != 1 for d in dilations):
        raise b.fail(f"dilations={list(dilations)} unsupported; only 1")
    rank = len(b.shape(X))
    strides, pads, _ = _spatial(b, n, rank, kernel_shape, strides or [1] * (rank - 2), pads, None, auto_pad)
    kernel = tuple(kernel_shape)
    if rank == 3:  # a 1-D pool keeps one-element kernel and strides, pads (left, right)
        strides, pads = strides[1:], (pads[1], pads[3])
    b.emit(op, [X], [n.output[0]], {"kernel": kernel, "strides": strides, "pads": pads,
                                    "ceil_mode": bool(ceil_mode), **extra})


def MaxPool(b, n, X, *, auto_pad="NOTSET", ceil_mode=0, dilations=None, kernel_shape=None, pads=None,
            storage_order=0, strides=None):
    if len(n.output) > 1 and n.output[1]:
        raise b.fail("the Indices output is unsupported")
    _pool(b, n, "maxpool", X, kernel_shape, strides, pads, auto_pad, ceil_mode, dilations, {})


def AveragePool(b, n, X, *, auto_pad="NOTSET", ceil_mode=0, count_include_pad=0, dilations=None,
                kernel_shape=None, pads=None, strides=None):
    _pool(b, n, "avgpool", X, kernel_shape, strides, pads, auto_pad, ceil_mode, dilations,
          {"count_include_pad": bool(count_include_pad)})


def GlobalAveragePool(b, n, X):
    kernel = b.shape(X)[2:]
    _pool(b, n, "avgpool", X, kernel, None, None, "NOTSET", 0, None, {"count_include_pad": False})


def GlobalMaxPool(b, n, X):
    _pool(b, n, "maxpool", X, b.shape(X)[2:], None, None, "NOTSET", 0, None, {})


# --- fully connected ------------------------------------------------------------------------------


def _dense(b, n, X, w_out_in: np.ndarray, bias: np.ndarray | None, out: str, source: str, transposed: bool):
    W = b.fresh(n.output[0] + "_weight")
    b.consts[W] = np.ascontiguousarray(w_out_in, np.float32)
    q = b.q.get(b.resolve(source))
    if q is not None:  # a QDQ weight keeps its parameters; its channel axis follows the transpose
        b.q[W] = QParams(q.scale, q.zero_point, None if q.axis is None else (1 - q.axis if transposed else q.axis))
    B = ""
    if bias is not None:
        B = b.fresh(n.output[0] + "_bias")
        b.consts[B] = np.ascontiguousarray(bias, np.float32)
    b.emit("dense", [X, W, B], [out], {"act": None})


def Gemm(b, n, A, B, C="", *, alpha=1.0, beta=1.0, transA=0, transB=0):
    w, c = b.const(B), b.const(C)
    if w is None or (C and c is None):
        raise b.fail("only constant B and C are supported")
    if transA:
        raise b.fail("transA=1 unsupported")
    w = (w if transB else w.T) * np.float32(alpha)  # (out, in)
    bias = None
    if c is not None:
        c = np.asarray(c, np.float32) * np.float32(beta)
        if c.size not in (1, w.shape[0]):
            raise b.fail(f"bias of shape {list(c.shape)} unsupported; only one value per output")
        bias = np.broadcast_to(c.reshape(-1), (w.shape[0],)).copy()
    _dense(b, n, A, w, bias, n.output[0], B, not transB)


def MatMul(b, n, A, B):
    w = b.const(B)
    if b.const(A) is not None:
        raise b.fail("a constant left operand is unsupported")
    if w is not None:
        if w.ndim != 2:
            raise b.fail(f"constant right operand of rank {w.ndim}; only rank 2")
        _dense(b, n, A, w.T, None, n.output[0], B, True)
    else:
        b.emit("matmul", [A, B], [n.output[0]], {"act": None})


# --- elementwise ----------------------------------------------------------------------------------


def _binary(op):
    def lower(b, n, A, B):
        b.emit(op, [A, B], [n.output[0]], {"act": None})
    lower.__name__ = op.capitalize()
    return lower


def _unary(fn, **defaults):
    def lower(b, n, X, **attrs):
        unknown = set(attrs) - set(defaults)
        if unknown:
            raise b.fail(f"attribute {sorted(unknown)[0]!r} is not supported")
        b.emit("unary", [X], [n.output[0]], {"fn": fn, **defaults, **attrs})
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
    if b.const(slope) is None:
        raise b.fail("slope must be constant")
    b.emit("prelu", [X, slope], [n.output[0]])


def Softmax(b, n, X, *, axis=None):
    shape = b.shape(X)
    rank = len(shape)
    if axis is None:
        axis = -1 if b.opset >= 13 else 1
    axis = axis % rank
    if b.opset >= 13 or axis == rank - 1:
        b.emit("softmax", [X], [n.output[0]], {"axis": axis})
        return
    # opset < 13 normalises over all axes from `axis` on: a 2-D softmax between two views
    flat = (int(np.prod(shape[:axis])), int(np.prod(shape[axis:])))
    t1, t2 = b.fresh(n.output[0] + "_2d"), b.fresh(n.output[0] + "_softmax")
    b.emit("reshape", [X], [t1], {"shape": flat})
    b.emit("softmax", [t1], [t2], {"axis": 1})
    b.emit("reshape", [t2], [n.output[0]], {"shape": shape})


def BatchNormalization(b, n, X, scale, B, mean, var, *, epsilon=1e-5, momentum=0.9, training_mode=0):
    if training_mode:
        raise b.fail("training_mode=1 unsupported")
    params = [b.const(t) for t in (scale, B, mean, var)]
    if any(p is None for p in params):
        raise b.fail("scale, bias, mean and variance must be constant")
    s, bias, m, v = (np.asarray(p, np.float64) for p in params)
    k = s / np.sqrt(v + epsilon)
    shape = (-1,) + (1,) * (len(b.shape(X)) - 2)
    mul_c, add_c = b.fresh(n.output[0] + "_bn_scale"), b.fresh(n.output[0] + "_bn_shift")
    b.consts[mul_c] = k.reshape(shape).astype(np.float32)
    b.consts[add_c] = (bias - m * k).reshape(shape).astype(np.float32)
    mid = b.fresh(n.output[0] + "_bn_mul")
    b.emit("mul", [X, mul_c], [mid], {"act": None})  # simplify folds these into a preceding conv
    b.emit("add", [mid, add_c], [n.output[0]], {"act": None})


# --- shape and data movement ----------------------------------------------------------------------


def _view(b, n, X, shape):
    b.emit("reshape", [X], [n.output[0]], {"shape": tuple(int(d) for d in shape)})


def Reshape(b, n, X, shape, *, allowzero=0):
    target = b.const(shape)
    if target is None:
        raise b.fail("the target shape must be constant")
    if allowzero and 0 in target:
        raise b.fail("allowzero=1 with a zero dimension unsupported")
    _view(b, n, X, np.empty(b.shape(X), np.uint8).reshape(
        [b.shape(X)[i] if d == 0 else int(d) for i, d in enumerate(target)]).shape)


def Flatten(b, n, X, *, axis=1):
    shape = b.shape(X)
    axis = axis % (len(shape) + 1) if axis < 0 else axis
    _view(b, n, X, (int(np.prod(shape[:axis])), int(np.prod(shape[axis:]))))


def Squeeze(b, n, X, axes_in="", *, axes=None):
    shape = list(b.shape(X))
    axes = b.const(axes_in) if axes_in else axes
    axes = {int(a) % len(shape) for a in axes} if axes is not None else {i for i, d in enumerate(shape) if d == 1}
    _view(b, n, X, [d for i, d in enumerate(shape) if i not in axes])


def Unsqueeze(b, n, X, axes_in="", *, axes=None):
    axes = b.const(axes_in) if axes_in else axes
    shape = list(b.shape(X))
    rank = len(shape) + len(axes)
    for a in sorted(int(a) % rank for a in axes):
        shape.insert(a, 1)
    _view(b, n, X, shape)


def Identity(b, n, X):
    if n.output[0] in b.graph_outputs:
        _view(b, n, X, b.shape(X))
    else:
        b.alias[n.output[0]] = b.resolve(X)


def Dropout(b, n, X, ratio="", training_mode="", *, seed=None):
    if len(n.output) > 1 and n.output[1]:
        raise b.fail("the mask output is unsupported")
    Identity(b, n, X)


def Transpose(b, n, X, *, perm=None):
    rank = len(b.shape(X))
    b.emit("transpose", [X], [n.output[0]], {"perm": tuple(perm or range(rank - 1, -1, -1))})


def Concat(b, n, *inputs, axis):
    rank = len(b.shape(inputs[0]))
    b.emit("concat", list(inputs), [n.output[0]], {"axis": axis % rank})


def Pad(b, n, X, pads_in="", value_in="", axes_in="", *, mode="constant", pads=None, value=0.0):
    if mode != "constant":
        raise b.fail(f"mode={mode!r} unsupported; only 'constant'")
    if pads_in:
        pads = b.const(pads_in)
        if pads is None:
            raise b.fail("pads must be constant")
    if value_in:
        v = b.const(value_in)
        if v is None:
            raise b.fail("the pad value must be constant")
        value = float(np.asarray(v).reshape(-1)[0])
    rank = len(b.shape(X))
    pads = [int(p) for p in pads]
    if axes_in:
        axes = [int(a) % rank for a in b.const(axes_in)]
        full = [0] * (2 * rank)
        for i, a in enumerate(axes):
            full[a], full[rank + a] = pads[i], pads[len(axes) + i]
        pads = full
    if any(p < 0 for p in pads):
        raise b.fail("negative pads (cropping) unsupported")
    b.emit("pad", [X], [n.output[0]], {"pads": tuple(pads), "value": float(value)})


# --- quantization (QDQ models keep their own parameters) ------------------------------------------


def _qparams(b, scale, zero_point, axis) -> QParams:
    s = np.asarray(b.const(scale), np.float64).reshape(-1)
    zp = b.const(zero_point) if zero_point else None
    if zp is not None and zp.dtype == np.uint8:
        zp = zp.astype(np.int32) - 128  # uint8 -> int8 keeps the scale, shifts the zero point
    elif zp is not None and zp.dtype != np.int8:
        raise b.fail(f"zero point of type {zp.dtype} unsupported; only int8 and uint8")
    z = np.zeros_like(s, np.int32) if zp is None else np.asarray(zp, np.int32).reshape(-1)
    return QParams(s, z, axis if s.size > 1 else None)


def fold_qdq(b, n) -> None:
    """QuantizeLinear or DequantizeLinear of a constant, computed here; a dequantized int8
    weight keeps the file's parameters so that int8 compilation reproduces its values exactly."""
    attrs = {a.name: a.i for a in n.attribute}
    x = b.const(n.input[0])
    q = _qparams(b, n.input[1], n.input[2] if len(n.input) > 2 else "", attrs.get("axis", 1))
    shape = [1] * x.ndim
    if q.axis is not None:
        shape[q.axis % x.ndim] = -1
    scale, zp = q.scale.reshape(shape), q.zero_point.reshape(shape)
    if n.op_type == "QuantizeLinear":
        v = np.clip(np.round(x / scale) + zp, -128, 127)  # ONNX rounds half to even
        b.consts[n.output[0]] = v.astype(np.int8)
        b.q[n.output[0]] = q
        return
    eight_bit = x.dtype in (np.int8, np.uint8)
    if x.dtype == np.uint8:
        x = x.astype(np.int32) - 128  # _qparams shifted the zero point the same way
    b.consts[n.output[0]] = ((x.astype(np.float64) - zp) * scale).astype(np.float32)
    if eight_bit:  # a weight; an int32 bias is requantized from the input and weight scales anyway
        b.q[n.output[0]] = QParams(q.scale, q.zero_point, None if q.axis is None else q.axis % x.ndim)


def QuantizeLinear(b, n, X, scale, zero_point="", *, axis=1, saturate=1, block_size=0, output_dtype=0):
    if b.const(scale) is None or (zero_point and b.const(zero_point) is None):
        raise b.fail("scale and zero point must be constant")
    q = _qparams(b, scale, zero_point, axis)
    if q.scale.size != 1:
        raise b.fail("per-channel activation quantization unsupported")
    x = b.resolve(X)
    b.q[x] = q
    if x in b.tensors:
        b.tensors[x].q = q
    b.alias[n.output[0]] = x


def DequantizeLinear(b, n, X, scale, zero_point="", *, axis=1, block_size=0):
    x = b.resolve(X)
    if x not in b.tensors:
        raise b.fail(f"input {X!r} is neither constant nor produced by QuantizeLinear")
    b.alias[n.output[0]] = x


# --- recurrent ------------------------------------------------------------------------------------


def _rnn(b, n, op, gates, X, W, R, B, sequence_lens, initial_h, initial_c, attrs):
    if attrs.pop("direction", "forward") != "forward":
        raise b.fail("only direction='forward' is supported")
    for key in ("activations", "activation_alpha", "activation_beta", "clip"):
        if attrs.pop(key, None) is not None:
            raise b.fail(f"attribute {key!r} unsupported; only the default activations, no clip")
    if attrs.pop("layout", 0) or attrs.pop("input_forget", 0):
        raise b.fail("layout=1 and input_forget=1 are unsupported")
    hidden = int(attrs.pop("hidden_size"))
    extra = {"linear_before_reset": int(attrs.pop("linear_before_reset", 0))} if op == "gru" else {}
    if attrs:
        raise b.fail(f"attribute {sorted(attrs)[0]!r} is not supported")
    T, batch, _ = b.shape(X)
    if batch != 1:
        raise b.fail(f"batch {batch}; only batch 1 is supported")
    if sequence_lens and (b.const(sequence_lens) is None or np.any(b.const(sequence_lens) != T)):
        raise b.fail("sequence_lens must be constant and equal the sequence length")
    for name in (W, R, B, initial_h, initial_c):
        if name and b.const(name) is None:
            raise b.fail(f"input {name!r} must be constant")
    outputs = list(n.output) + [""] * (3 - len(n.output))
    inputs = [X, W, R, B, "", initial_h, initial_c] if op == "lstm" else [X, W, R, B, "", initial_h]
    b.emit(op, inputs, outputs[:3] if op == "lstm" else outputs[:2], {"hidden_size": hidden, **extra})


def LSTM(b, n, X, W, R, B="", sequence_lens="", initial_h="", initial_c="", P="", **attrs):
    if P:
        raise b.fail("peepholes (input P) are unsupported")
    _rnn(b, n, "lstm", 4, X, W, R, B, sequence_lens, initial_h, initial_c, attrs)


def GRU(b, n, X, W, R, B="", sequence_lens="", initial_h="", **attrs):
    _rnn(b, n, "gru", 3, X, W, R, B, sequence_lens, initial_h, "", attrs)


LOWERINGS = {
    "Conv": Conv, "MaxPool": MaxPool, "AveragePool": AveragePool, "GlobalAveragePool": GlobalAveragePool,
    "GlobalMaxPool": GlobalMaxPool, "Gemm": Gemm, "MatMul": MatMul,
    "Add": _binary("add"), "Sub": _binary("sub"), "Mul": _binary("mul"),
    "Relu": _unary("relu"), "Sigmoid": _unary("sigmoid"), "Tanh": _unary("tanh"),
    "LeakyRelu": _unary("leaky_relu", alpha=0.01), "HardSigmoid": _unary("hard_sigmoid", alpha=0.2, beta=0.5),
    "HardSwish": _unary("hard_swish"), "Clip": Clip, "PRelu": PRelu, "Softmax": Softmax,
    "BatchNormalization": BatchNormalization, "Reshape": Reshape, "Flatten": Flatten, "Squeeze": Squeeze,
    "Unsqueeze": Unsqueeze, "Identity": Identity, "Dropout": Dropout, "Transpose": Transpose, "Concat": Concat,
    "Pad": Pad, "QuantizeLinear": QuantizeLinear, "DequantizeLinear": DequantizeLinear, "LSTM": LSTM, "GRU": GRU,
}

assert all(callable(f) for f in LOWERINGS.values())
_ = UnsupportedOp  # raised through b.fail
