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


def BATCH_MATMUL(b, op):
    o = op.options
    adj = (bool(o.AdjX()), bool(o.AdjY())) if o is not None else (False, False)
    operands = []
    for i, transposed in zip(op.inputs[:2], adj):
        x = b.native(i)
        if transposed:  # adj_x / adj_y: the operand's last two axes swapped
            rank = len(b.tensors[x].shape)
            t = b.fresh(x + "_adj")
            b.emit("transpose", [x], [t], {"perm": (*range(rank - 2), rank - 1, rank - 2)}, None, {t: b.tensors[x].q})
            x = t
        operands.append(x)
    # TFLM's int8 rule is tinyc's matmul: sum (a - a_zp)(b - b_zp) in int32, one multiplier, + output_zp.
    if len(b.shape(op.outputs[0])) != 4:
        b.result("matmul", operands, op.outputs[0])
        return
    mid = b.fresh(operands[0] + "_mm")
    b.emit("matmul", operands, [mid], {}, None, {mid: b.activation_q(op.outputs[0])})
    b.from_native(mid, op.outputs[0])


LOWERINGS.update({"BATCH_MATMUL": BATCH_MATMUL})
