"""Fully connected builtins (see tflite_ops/common.py for the lowering conventions)."""

from __future__ import annotations


from tinyc.frontend.tflite_ops.common import fused
from tinyc.frontend.tflite_ops.spatial import _bias


def FULLY_CONNECTED(b, op):
    o = op.options
    if o is not None and o.WeightsFormat() != 0:
        raise b.fail("shuffled weights unsupported")
    w = b.real(op.inputs[1])  # out, in
    w_q = b.qparams(op.inputs[1])
    units, depth = w.shape
    x = b.native(op.inputs[0])
    size = b.tensors[x].size
    if size % depth:
        raise b.fail(f"input of {size} elements is not a multiple of the weights' depth {depth}")
    if b.tensors[x].shape != (size // depth, depth):
        flat = b.fresh(x + "_2d")
        b.emit("reshape", [x], [flat], {"shape": (size // depth, depth)}, None, {flat: b.tensors[x].q})
        x = flat
    W = b.const(w, "weight", w_q)
    B = _bias(b, op, units, w_q, x)
    out_shape = b.shape(op.outputs[0])
    attrs = {"act": fused(b, o)}
    if tuple(out_shape) == (size // depth, units):
        b.result("dense", [x, W, B], op.outputs[0], attrs)
        return
    mid = b.fresh(x + "_fc")
    b.emit("dense", [x, W, B], [mid], attrs, None, {mid: b.activation_q(op.outputs[0])})
    b.from_native(mid, op.outputs[0])


LOWERINGS = {"FULLY_CONNECTED": FULLY_CONNECTED}
