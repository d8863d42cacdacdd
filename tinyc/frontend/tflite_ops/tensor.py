"""Shape and layout builtins (see tflite_ops/common.py for the lowering conventions)."""

from __future__ import annotations

from tinyc.frontend.tflite_import import TO_NCHW, TO_NHWC, same_order
from tinyc.frontend.tflite_ops.common import fused


def RESHAPE(b, op):
    b.from_native(b.native(op.inputs[0]), op.outputs[0])


LOWERINGS = {"RESHAPE": RESHAPE, "SQUEEZE": RESHAPE, "EXPAND_DIMS": RESHAPE}


def _ir_axis(rank: int, axis: int) -> int:
    """The IR axis of the file's axis (rank 4 lives NCHW in the IR)."""
    axis %= rank
    return TO_NCHW.index(axis) if rank == 4 else axis


def CONCATENATION(b, op):
    rank = len(b.shape(op.outputs[0]))
    if fused(b, op.options) is not None:
        raise b.fail("a fused activation on concatenation is unsupported")
    b.result("concat", [b.input(i) for i in op.inputs], op.outputs[0], {"axis": _ir_axis(rank, op.options.Axis())})


def PAD(b, op):
    widths = b.value(op.inputs[1])
    if widths is None:
        raise b.fail("paddings must be constant")
    rank = len(b.shape(op.inputs[0]))
    order = TO_NCHW if rank == 4 else tuple(range(rank))
    pads = [int(widths[k, 0]) for k in order] + [int(widths[k, 1]) for k in order]
    value = 0.0
    if len(op.inputs) > 2 and op.inputs[2] >= 0:  # PADV2: the constant, a real value
        value = float(b.real(op.inputs[2]).reshape(-1)[0])
    b.result("pad", [b.input(op.inputs[0])], op.outputs[0], {"pads": pads, "mode": "constant", "value": value})


def TRANSPOSE(b, op):
    perm = b.value(op.inputs[1])
    if perm is None:
        raise b.fail("the permutation must be constant")
    x = b.native(op.inputs[0])
    mid = b.fresh(x + "_t")
    b.emit("transpose", [x], [mid], {"perm": tuple(int(p) for p in perm)}, None, {mid: b.tensors[x].q})
    b.from_native(mid, op.outputs[0])


LOWERINGS.update({"CONCATENATION": CONCATENATION, "PAD": PAD, "PADV2": PAD, "TRANSPOSE": TRANSPOSE})


def to_file_layout(b, src: str, o: int) -> None:
    """Write file tensor o from IR tensor src, which has o's elements in IR layout at rank 4 (NCHW)
    but o itself may be of lower rank (dims dropped): go through the file's memory order."""
    shape = b.tensors[src].shape
    if len(shape) == 4 and len(b.shape(o)) != 4:
        nhwc = tuple(shape[i] for i in TO_NHWC)
        mid = b.fresh(src + "_nhwc")
        op, attrs = ("reshape", {"shape": nhwc}) if same_order(nhwc) else ("transpose", {"perm": TO_NHWC})
        b.emit(op, [src], [mid], attrs, None, {mid: b.tensors[src].q})
        src = mid
    b.from_native(src, o)


def MEAN(b, op):
    axes = b.value(op.inputs[1])
    if axes is None:
        raise b.fail("the axes must be constant")
    rank = len(b.shape(op.inputs[0]))
    ir_axes = sorted({_ir_axis(rank, int(a)) for a in axes.reshape(-1)})
    x = b.input(op.inputs[0])
    attrs = {"kind": "mean", "axes": ir_axes, "keepdims": True, "rule": "tflm"}
    if len(b.shape(op.outputs[0])) == rank:
        b.result("reduce", [x], op.outputs[0], attrs)
        return
    mid = b.fresh(x + "_mean")
    b.emit("reduce", [x], [mid], attrs, None, {mid: b.activation_q(op.outputs[0])})
    to_file_layout(b, mid, op.outputs[0])


LOWERINGS.update({"MEAN": MEAN})
