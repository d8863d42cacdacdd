"""Fully connected lowerings: Gemm and MatMul.

Each lowering is named after its ONNX op: `b` is the Importer (tinyc/frontend/onnx_import.py), `n` the
ONNX node, positional arguments the node's input names ("" when absent), attributes keyword
arguments with ONNX's defaults. What tinyc does not implement raises UnsupportedOp through b.fail.
"""

from __future__ import annotations

import numpy as np

from tinyc.ir import QParams


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


def Gemm(b, n, A, B, C="", *, alpha=1.0, beta=1.0, broadcast=0, transA=0, transB=0):
    """Y = alpha A' B' + beta C: a dense node (B constant), A' by a transpose node; a bias C of one value per
    output folds into the dense bias, any other constant C that broadcasts to [M, N] is an add after it.
    (broadcast, opset < 7: C's broadcasting was opt-in; either way the shapes ONNX accepts give the same Y.)"""
    w, c = b.const(B), b.const(C)
    if w is None or (C and c is None):
        raise b.fail("only constant B and C are supported")
    a_shape = b.shape(A)
    if transA:
        At = b.fresh(A + "_t")
        b.emit("transpose", [A], [At], {"perm": (1, 0)}, name=b.fresh(n.output[0] + "_transA"))
        A, a_shape = At, a_shape[::-1]
    w = w if transB else w.T  # (out, in)
    if alpha != 1:  # no copy of a large weight when there is nothing to scale
        w = w * np.float32(alpha)
    m, out = a_shape[0], w.shape[0]
    bias, add = None, None
    if c is not None:
        c = np.asarray(c, np.float32) * np.float32(beta)
        try:
            full = np.broadcast_to(c, (m, out))
        except ValueError:
            raise b.fail(f"C of shape {list(c.shape)} does not broadcast to [{m}, {out}]") from None
        if c.ndim < 2 or c.shape[0] == 1:
            bias = np.ascontiguousarray(full[0])
        else:
            add = np.ascontiguousarray(full)
    if add is None:
        _dense(b, n, A, w, bias, n.output[0], B, not transB)
        return
    mid = b.fresh(n.output[0] + "_ab")
    _dense(b, n, A, w, None, mid, B, not transB)
    Cm = b.fresh(n.output[0] + "_c")
    b.consts[Cm] = add
    b.emit("add", [mid, Cm], [n.output[0]], {"act": None}, name=b.fresh(n.output[0] + "_bias"))


def MatMul(b, n, A, B):
    w = b.const(B)
    if w is not None and w.ndim <= 2 and b.const(A) is None:
        out_shape = np.matmul(np.zeros(b.shape(A), np.float32), np.zeros(w.shape, np.float32)).shape
        if w.ndim == 2 and len(b.shape(A)) >= 2:
            _dense(b, n, A, w.T, None, n.output[0], B, True)
            return
        # a 1-D operand: x (..., K) @ w (K,) is a dense node of one output, x (K,) @ w (K, N) one row
        mid = b.fresh(n.output[0] + "_2d")
        _dense(b, n, A, w.reshape(1, -1) if w.ndim == 1 else w.T, None, mid, B, True)
        b.emit("reshape", [mid], [n.output[0]], {"shape": tuple(out_shape)})
        return
    _matmul(b, n, A, B)  # float32 may have a constant operand; int8 rejects it in the matmul op


def _matrix(b, n, name: str, shape: tuple, suffix: str) -> str:
    """name reshaped to `shape`: a constant directly, an activation by a reshape node."""
    new = b.fresh(name + suffix)
    c = b.const(name)
    if c is not None:
        b.consts[new] = np.ascontiguousarray(c.reshape(shape))
    else:
        b.emit("reshape", [name], [new], {"shape": shape}, name=b.fresh(n.output[0] + suffix))
    return new


def _matmul(b, n, A, B):
    """Two operands: a 1-D operand is promoted to a matrix (numpy's rule) and the added axis removed after."""
    a_shape, b_shape = tuple(b.shape(A)), tuple(b.shape(B))
    if len(a_shape) >= 2 and len(b_shape) >= 2:
        b.emit("matmul", [A, B], [n.output[0]], {"act": None})
        return
    out_shape = np.matmul(np.zeros(a_shape, np.float32), np.zeros(b_shape, np.float32)).shape
    if len(a_shape) == 1:
        A = _matrix(b, n, A, (1, a_shape[0]), "_row")
    if len(b_shape) == 1:
        B = _matrix(b, n, B, (b_shape[0], 1), "_col")
    mid = b.fresh(n.output[0] + "_2d")
    b.emit("matmul", [A, B], [mid], {"act": None})
    b.emit("reshape", [mid], [n.output[0]], {"shape": tuple(out_shape)})


LOWERINGS = {"Gemm": Gemm, "MatMul": MatMul}
