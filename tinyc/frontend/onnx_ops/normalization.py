"""Normalization lowerings.

Each lowering is named after its ONNX op: `b` is the Importer (tinyc/frontend/onnx_import.py), `n` the
ONNX node, positional arguments the node's input names ("" when absent), attributes keyword
arguments with ONNX's defaults. What tinyc does not implement raises UnsupportedOp through b.fail.
"""

from __future__ import annotations

import numpy as np


def BatchNormalization(b, n, X, scale, B, mean, var, *, epsilon=1e-5, momentum=0.9, training_mode=0,
                       is_test=None, spatial=1, consumed_inputs=None):
    """Inference with the running statistics. Opset < 7 (PyTorch's old exports): is_test=0 is training only
    where the node asks for the updated statistics; spatial=0 (statistics per element) is rejected."""
    if training_mode or (is_test == 0 and len([o for o in n.output if o]) > 1):
        raise b.fail("training mode (batch statistics) unsupported; only inference with the running mean/var")
    if not spatial:
        raise b.fail("spatial=0 (per-element statistics) unsupported; only spatial=1")
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
