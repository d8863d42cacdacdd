"""Shape and layout builtins (see tflite_ops/common.py for the lowering conventions)."""

from __future__ import annotations

import numpy as np

from tinyc.errors import BadInput
from tinyc.frontend.tflite_import import TO_NCHW, TO_NHWC, nchw, same_order
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
    q_out = b.qparams(op.outputs[0])
    for i in op.inputs:  # TFLM's int8 kernel copies bytes and refuses (Prepare) inputs that need rescaling
        q = b.qparams(i)
        if q_out is not None and q is not None and (float(q.scale[0]), int(q.zero_point[0])) != \
                (float(q_out.scale[0]), int(q_out.zero_point[0])):
            raise b.fail(f"input {b._fname(i)!r} has scale {float(q.scale[0]):g} and zero point "
                         f"{int(q.zero_point[0])}, the output {float(q_out.scale[0]):g} and "
                         f"{int(q_out.zero_point[0])}: TFLM's int8 concatenation needs them equal")
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


def _window(b, i: int, o: int, starts: list[int], counts: list[int], steps: list[int]) -> None:
    """File tensor o = the window of file tensor i holding, along each file axis k, counts[k] elements
    from starts[k] every steps[k]; o may drop axes of count 1. One strided copy (int8 moves bytes)."""
    shape = b.shape(i)
    rank = len(shape)
    if min(counts) <= 0:
        raise b.fail(f"an empty slice of {list(shape)}")
    ir_shape = nchw(shape)
    ir_strides = [int(np.prod(ir_shape[k + 1:])) for k in range(rank)]
    strides = [ir_strides[_ir_axis(rank, k)] * steps[k] for k in range(rank)]
    offset = sum(s * ir_strides[_ir_axis(rank, k)] for k, s in enumerate(starts))
    x = b.input(i)
    if rank == 4 and len(b.shape(o)) == 4:  # straight into the IR layout
        attrs = {"shape": tuple(counts[k] for k in TO_NCHW), "strides": tuple(strides[k] for k in TO_NCHW),
                 "offset": offset}
        b.result("strided_copy", [x], o, attrs)
        return
    attrs = {"shape": tuple(counts), "strides": tuple(strides), "offset": offset}
    if rank != 4 and tuple(counts) == b.shape(o):
        b.result("strided_copy", [x], o, attrs)
        return
    mid = b.fresh(x + "_window")
    b.emit("strided_copy", [x], [mid], attrs, None, {mid: b.tensors[x].q})
    b.from_native(mid, o)


def STRIDED_SLICE(b, op):
    o = op.options
    begin, end, strides = (b.value(i) for i in op.inputs[1:4])
    if begin is None or end is None or strides is None:
        raise b.fail("begin, end and strides must be constant")
    if o.EllipsisMask() or o.NewAxisMask():
        raise b.fail("ellipsis_mask and new_axis_mask unsupported")
    if o.Offset():
        end = end + begin
    shape = b.shape(op.inputs[0])
    starts, counts, steps = [], [], []
    for k, dim in enumerate(shape):
        bit = 1 << k
        if k >= len(begin):
            lo, hi, step = 0, dim, 1
        elif o.ShrinkAxisMask() & bit:
            lo = int(begin[k]) + (dim if begin[k] < 0 else 0)
            if not 0 <= lo < dim:
                raise b.fail(f"shrink index {int(begin[k])} out of axis {k} of {list(shape)}", BadInput)
            hi, step = lo + 1, 1
        else:
            step = int(strides[k])
            if step == 0:
                raise b.fail("a stride of 0", BadInput)
            lo = None if o.BeginMask() & bit else int(begin[k])
            hi = None if o.EndMask() & bit else int(end[k])
        picked = range(*slice(lo, hi, step).indices(dim))
        starts.append(picked.start if len(picked) else 0)
        counts.append(len(picked))
        steps.append(picked.step)
    _window(b, op.inputs[0], op.outputs[0], starts, counts, steps)


def _split(b, op, x: int, axis_tensor: int, sizes: list[int] | None) -> None:
    axis = b.value(axis_tensor)
    if axis is None:
        raise b.fail("the axis must be constant")
    shape = b.shape(x)
    axis = int(axis.reshape(-1)[0]) % len(shape)
    sizes = sizes or [shape[axis] // len(op.outputs)] * len(op.outputs)
    if -1 in sizes:  # SPLIT_V: one size may be inferred
        sizes[sizes.index(-1)] = shape[axis] - (sum(sizes) + 1)
    if sum(sizes) != shape[axis] or len(sizes) != len(op.outputs):
        raise b.fail(f"sizes {sizes} do not split axis {axis} of {list(shape)}", BadInput)
    start = 0
    for o, size in zip(op.outputs, sizes):
        starts = [start if k == axis else 0 for k in range(len(shape))]
        counts = [size if k == axis else d for k, d in enumerate(shape)]
        _window(b, x, o, starts, counts, [1] * len(shape))
        start += size


def SPLIT(b, op):
    _split(b, op, op.inputs[1], op.inputs[0], None)


def SPLIT_V(b, op):
    sizes = b.value(op.inputs[1])
    if sizes is None:
        raise b.fail("size_splits must be constant")
    _split(b, op, op.inputs[0], op.inputs[2], [int(s) for s in sizes.reshape(-1)])


LOWERINGS.update({"STRIDED_SLICE": STRIDED_SLICE, "SPLIT": SPLIT, "SPLIT_V": SPLIT_V})
