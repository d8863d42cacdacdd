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


def Gemm(b, n, A, B, C="", *, alpha=1.0, beta=1.0, transA=0, transB=0):
    w, c = b.const(B), b.const(C)
    if w is None or (C and c is None):
        raise b.fail("only constant B and C are supported")
    if transA:
        raise b.fail("transA=1 unsupported")
    w = w if transB else w.T  # (out, in)
    if alpha != 1:  # no copy of a large weight when there is nothing to scale
        w = w * np.float32(alpha)
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
        _matmul(b, n, A, B)


def _matmul(b, n, A, B):
    """Two activations: a 1-D operand is promoted to a matrix (numpy's rule) and the added axis removed after."""
    a_shape, b_shape = b.shape(A), b.shape(B)
    if len(a_shape) >= 2 and len(b_shape) >= 2:
        b.emit("matmul", [A, B], [n.output[0]], {"act": None})
        return
    out_shape = np.matmul(np.empty(a_shape, np.float32), np.empty(b_shape, np.float32)).shape
    if len(a_shape) == 1:
        A2 = b.fresh(A + "_row")
        b.emit("reshape", [A], [A2], {"shape": (1, a_shape[0])}, name=b.fresh(n.output[0] + "_a2d"))
        A = A2
    if len(b_shape) == 1:
        B2 = b.fresh(B + "_col")
        b.emit("reshape", [B], [B2], {"shape": (b_shape[0], 1)}, name=b.fresh(n.output[0] + "_b2d"))
        B = B2
    mid = b.fresh(n.output[0] + "_2d")
    b.emit("matmul", [A, B], [mid], {"act": None})
    b.emit("reshape", [mid], [n.output[0]], {"shape": tuple(out_shape)})


LOWERINGS = {"Gemm": Gemm, "MatMul": MatMul}
