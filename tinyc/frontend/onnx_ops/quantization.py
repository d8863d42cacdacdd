"""QuantizeLinear and DequantizeLinear: QDQ models keep their own parameters.

Each lowering is named after its ONNX op: `b` is the Importer (tinyc/frontend/onnx_import.py), `n` the
ONNX node, positional arguments the node's input names ("" when absent), attributes keyword
arguments with ONNX's defaults. What tinyc does not implement raises UnsupportedOp through b.fail.
"""

from __future__ import annotations

import numpy as np

from tinyc.ir import QParams


def qparams(b, scale, zero_point, axis, bias: bool = False) -> QParams:
    zp = b.const(zero_point) if zero_point else None
    if b.const(scale) is None or (zero_point and zp is None):
        raise b.fail("scale and zero point must be constant")
    s = np.asarray(b.const(scale), np.float64).reshape(-1)
    if not (np.all(np.isfinite(s)) and np.all(s > 0)):
        raise b.fail(f"scale {s[~(np.isfinite(s) & (s > 0))][0]} unsupported; scales must be positive and finite")
    if zp is not None and zp.dtype == np.uint8:
        zp = zp.astype(np.int32) - 128  # uint8 -> int8 keeps the scale, shifts the zero point
    elif bias and zp is not None and zp.dtype == np.int32:
        if np.any(zp):  # tinyc's int32 bias is symmetric, as TFLite's and onnxruntime's
            raise b.fail(f"int32 zero point {int(zp.reshape(-1)[np.flatnonzero(zp)[0]])} unsupported; only 0")
    elif zp is not None and zp.dtype != np.int8:
        allowed = "int8, uint8 and int32 (a constant bias)" if bias else "int8 and uint8"
        raise b.fail(f"zero point of type {zp.dtype} unsupported; only {allowed}")
    z = np.zeros_like(s, np.int32) if zp is None else np.asarray(zp, np.int32).reshape(-1)
    return QParams(s, z, axis if s.size > 1 else None)


def dequantized(b, X, scale, zero_point, axis: int | None) -> str:
    """A new constant: the float value of constant int8 (or int32) X. An int8 one keeps the file's parameters,
    so that int8 compilation gives back its integers exactly."""
    x = b.const(X)
    q = qparams(b, scale, zero_point, axis, bias=x.dtype == np.int32)
    name = b.fresh(X + "_dequantized")
    b.consts[name], q = _dequantize(x, q)
    if q is not None:
        b.q[name] = q
    return name


def _dequantize(x: np.ndarray, q: QParams) -> tuple[np.ndarray, QParams | None]:
    """(float32 value, parameters to keep: None for an int32 bias, requantized from its input and weight
    scales anyway) of integer constant x."""
    shape = [1] * x.ndim
    if q.axis is not None:
        shape[q.axis % x.ndim] = -1
    eight_bit = x.dtype in (np.int8, np.uint8)
    if x.dtype == np.uint8:
        x = x.astype(np.int32) - 128  # qparams shifted the zero point the same way
    value = ((x.astype(np.float64) - q.zero_point.reshape(shape)) * q.scale.reshape(shape)).astype(np.float32)
    if not eight_bit:
        return value, None
    return value, QParams(q.scale, q.zero_point, None if q.axis is None else q.axis % x.ndim)


def fold_qdq(b, n) -> None:
    """QuantizeLinear or DequantizeLinear of a constant, computed here; a dequantized int8
    weight keeps the file's parameters so that int8 compilation reproduces its values exactly."""
    attrs = {a.name: a.i for a in n.attribute}
    x = b.const(n.input[0])
    bias = n.op_type == "DequantizeLinear" and x.dtype == np.int32
    q = qparams(b, n.input[1], n.input[2] if len(n.input) > 2 else "", attrs.get("axis", 1), bias)
    if n.op_type == "QuantizeLinear":
        shape = [1] * x.ndim
        if q.axis is not None:
            shape[q.axis % x.ndim] = -1
        v = np.clip(np.round(x / q.scale.reshape(shape)) + q.zero_point.reshape(shape), -128, 127)  # half to even
        b.consts[n.output[0]] = v.astype(np.int8)
        b.q[n.output[0]] = q
        return
    b.consts[n.output[0]], kept = _dequantize(x, q)
    if kept is not None:
        b.q[n.output[0]] = kept


def QuantizeLinear(b, n, X, scale, zero_point="", *, axis=1, saturate=1, block_size=0, output_dtype=0):
    q = qparams(b, scale, zero_point, axis)
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


def pad_value(b, X, value: np.ndarray) -> float:
    """A Pad's constant value: an int8 or uint8 one pads a quantized tensor (onnxruntime's QOperator form)
    and stands for its real value under X's parameters."""
    v = np.asarray(value).reshape(-1)[0]
    q = b.q.get(b.resolve(X))
    if np.asarray(value).dtype.kind not in "iu" or q is None:
        return float(v)
    shifted = int(v) - 128 if np.asarray(value).dtype == np.uint8 else int(v)
    return float((shifted - q.zero_point[0]) * q.scale[0])


LOWERINGS = {"QuantizeLinear": QuantizeLinear, "DequantizeLinear": DequantizeLinear}
