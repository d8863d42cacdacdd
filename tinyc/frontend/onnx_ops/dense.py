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


LOWERINGS = {"Gemm": Gemm, "MatMul": MatMul}
