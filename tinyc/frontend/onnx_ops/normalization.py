"""Normalization lowerings.

Each lowering is named after its ONNX op: `b` is the Importer (tinyc/frontend/onnx_import.py), `n` the
ONNX node, positional arguments the node's input names ("" when absent), attributes keyword
arguments with ONNX's defaults. What tinyc does not implement raises UnsupportedOp through b.fail.
"""

from __future__ import annotations

import numpy as np


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


LOWERINGS = {"BatchNormalization": BatchNormalization}
