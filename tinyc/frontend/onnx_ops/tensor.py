"""Shape and data movement lowerings: views, transpose, concat, pad, and the strided copies (slice,
split, gather, expand, tile, depth/space rearrangements).

Each lowering is named after its ONNX op: `b` is the Importer (tinyc/frontend/onnx_import.py), `n` the
ONNX node, positional arguments the node's input names ("" when absent), attributes keyword
arguments with ONNX's defaults. What tinyc does not implement raises UnsupportedOp through b.fail.
"""

from __future__ import annotations

import numpy as np

from tinyc.errors import BadInput
from tinyc.frontend.onnx_ops.quantization import pad_value


def _view(b, n, X, shape):
    b.emit("reshape", [X], [n.output[0]], {"shape": tuple(int(d) for d in shape)})


def Reshape(b, n, X, shape, *, allowzero=0):
    target = b.const(shape)
    if target is None:
        raise b.fail("the target shape must be constant")
    if allowzero and 0 in target:
        raise b.fail("allowzero=1 with a zero dimension (an empty tensor) unsupported")
    _view(b, n, X, np.empty(b.shape(X), np.uint8).reshape(
        [b.shape(X)[i] if d == 0 else int(d) for i, d in enumerate(target)]).shape)


def Flatten(b, n, X, *, axis=1):
    shape = b.shape(X)
    axis = axis + len(shape) if axis < 0 else axis
    _view(b, n, X, (int(np.prod(shape[:axis])), int(np.prod(shape[axis:]))))


def Squeeze(b, n, X, axes_in="", *, axes=None):
    shape = list(b.shape(X))
    axes = b.const(axes_in) if axes_in else axes
    axes = {int(a) % len(shape) for a in axes} if axes is not None else {i for i, d in enumerate(shape) if d == 1}
    _view(b, n, X, [d for i, d in enumerate(shape) if i not in axes])


def Unsqueeze(b, n, X, axes_in="", *, axes=None):
    axes = b.const(axes_in) if axes_in else axes
    shape = list(b.shape(X))
    rank = len(shape) + len(axes)
    for a in sorted(int(a) % rank for a in axes):
        shape.insert(a, 1)
    _view(b, n, X, shape)


def Identity(b, n, X):
    if n.output[0] in b.graph_outputs:
        _view(b, n, X, b.shape(X))
    else:
        b.alias[n.output[0]] = b.resolve(X)


def Dropout(b, n, X, ratio="", training_mode="", *, seed=None, is_test=1):
    training = b.const(training_mode) if training_mode else np.array(not is_test)  # is_test: opset < 7
    if not isinstance(ratio, str):  # opset < 12: an attribute
        drop = np.array(ratio)
    else:
        drop = b.const(ratio) if ratio else np.array(0.5)
    if training is None or drop is None:
        raise b.fail("training_mode and ratio must be constant")
    if bool(np.asarray(training).reshape(-1)[0]) and float(np.asarray(drop).reshape(-1)[0]) != 0.0:
        raise b.fail("training mode (random masks) unsupported; export the model in eval mode")
    if len(n.output) > 1 and n.output[1]:  # inference keeps every element: the mask is all true
        b.consts[n.output[1]] = np.ones(b.shape(X), bool)
    Identity(b, n, X)


def Transpose(b, n, X, *, perm=None):
    rank = len(b.shape(X))
    b.emit("transpose", [X], [n.output[0]], {"perm": tuple(perm or range(rank - 1, -1, -1))})


def Concat(b, n, *inputs, axis):
    rank = len(b.shape(inputs[0]))
    b.emit("concat", list(inputs), [n.output[0]], {"axis": axis % rank})


def Pad(b, n, X, pads_in="", value_in="", axes_in="", *, mode="constant", pads=None, value=0.0):
    if mode not in ("constant", "reflect", "edge", "wrap"):
        raise b.fail(f"mode={mode!r} unsupported; allowed 'constant', 'reflect', 'edge', 'wrap'")
    if pads_in:
        pads = b.const(pads_in)
        if pads is None:
            raise b.fail("pads must be constant")
    if value_in:
        v = b.const(value_in)
        if v is None:
            raise b.fail("the pad value must be constant")
        value = pad_value(b, X, v)
    rank = len(b.shape(X))
    pads = [int(p) for p in pads]
    if axes_in:
        axes = [int(a) % rank for a in b.const(axes_in)]
        full = [0] * (2 * rank)
        for i, a in enumerate(axes):
            full[a], full[rank + a] = pads[i], pads[len(axes) + i]
        pads = full
    if mode != "constant" or any(p < 0 for p in pads):
        _pad_by_gathers(b, n, X, pads, mode)
        return
    b.emit("pad", [X], [n.output[0]], {"pads": tuple(pads), "value": float(value)})


def _pad_source(size: int, begin: int, end: int, mode: str) -> np.ndarray:
    """For each output index of one padded axis, the input index it copies (numpy.pad's rules)."""
    j = np.arange(-begin, size + end)
    if mode == "constant":  # cropping only: every index is inside
        return j
    if mode == "edge":
        return np.clip(j, 0, size - 1)
    if mode == "wrap":
        return j % size
    if size == 1:  # reflect
        return np.zeros_like(j)
    period = 2 * (size - 1)
    j = np.abs(j) % period
    return np.where(j >= size, period - j, j)


def _pad_by_gathers(b, n, X, pads: list[int], mode: str) -> None:
    """reflect, edge and wrap padding, and cropping (negative pads), as one gather per padded axis."""
    shape = list(b.shape(X))
    rank = len(shape)
    axes = [a for a in range(rank) if pads[a] or pads[rank + a]]
    if mode == "constant" and any(p > 0 for p in pads):
        raise b.fail("constant padding that also crops (positive and negative pads) unsupported")
    if mode != "constant" and any(p < 0 for p in pads):  # onnx's own reference leaves this undefined
        raise b.fail(f"negative pads (cropping) with mode={mode!r} unsupported")
    for k, a in enumerate(axes):
        begin, end = pads[a], pads[rank + a]
        if shape[a] + begin + end <= 0:
            raise b.fail(f"pads {pads} leave nothing of axis {a} (size {shape[a]})", BadInput)
        source = _pad_source(shape[a], begin, end, mode)
        out = n.output[0] if k == len(axes) - 1 else b.fresh(f"{n.output[0]}_pad{a}")
        b.emit("gather", [X], [out], {"axis": a, "indices": tuple(int(i) for i in source)},
               name=b.fresh(f"{n.output[0]}_pad_axis{a}"))
        shape[a], X = len(source), out
    if not axes:
        Identity(b, n, X)


def _strides(shape) -> list[int]:
    """Row-major element strides of `shape`."""
    return [int(np.prod(shape[k + 1:])) for k in range(len(shape))]


def _copy(b, n, X, out: str, walk, strides, offset: int = 0) -> None:
    """Emit y = the strided copy of X over `walk`, viewed as out's ONNX shape when that differs."""
    walk = tuple(int(d) for d in walk)
    if 0 in walk:  # an empty result has no values to compute: a constant
        b.consts[out] = np.zeros(b.onnx_shapes.get(out) or walk, np.float32)
        return
    attrs = {"shape": walk, "strides": tuple(int(s) for s in strides), "offset": int(offset)}
    b.emit("strided_copy", [X], [out], attrs)


def _const_input(b, name: str, what: str) -> np.ndarray:
    value = b.const(name)
    if value is None:
        raise b.fail(f"{what} must be constant")
    return np.asarray(value)


def _permute(b, n, X, view, perm, out_shape) -> None:
    """Y = X viewed as `view`, transposed by `perm`, viewed as out_shape (DepthToSpace and kin)."""
    strides = _strides(view)
    walk = [view[p] for p in perm]
    tmp = b.fresh(n.output[0] + "_walk")
    _copy(b, n, X, tmp, walk, [strides[p] for p in perm])
    _view(b, n, tmp, out_shape)


def Slice(b, n, X, starts_in="", ends_in="", axes_in="", steps_in="", *, starts=None, ends=None, axes=None):
    shape = b.shape(X)
    rank = len(shape)
    if starts_in:  # opset >= 10: inputs; before: attributes
        starts, ends = _const_input(b, starts_in, "starts"), _const_input(b, ends_in, "ends")
        axes = _const_input(b, axes_in, "axes") if axes_in else None
    steps = _const_input(b, steps_in, "steps") if steps_in else np.ones(len(starts), np.int64)
    axes = range(len(starts)) if axes is None else axes
    begin, step, count = [0] * rank, [1] * rank, list(shape)
    for a, s, e, st in zip(axes, starts, ends, steps):
        a, s, e, st = int(a) % rank, int(s), int(e), int(st)
        d = shape[a]
        if st == 0:
            raise b.fail("a step of 0 is invalid", BadInput)
        s, e = s + d if s < 0 else s, e + d if e < 0 else e
        # ONNX clamps to [0, d] going forward and to [0, d - 1] / [-1, d - 1] going back
        s, e = (min(max(s, 0), d), min(max(e, 0), d)) if st > 0 else (min(max(s, 0), d - 1), min(max(e, -1), d - 1))
        begin[a], step[a], count[a] = s, st, max(0, -(-(e - s) // st))
    strides = _strides(shape)
    _copy(b, n, X, n.output[0], count, [st * s for st, s in zip(step, strides)],
          sum(bg * s for bg, s in zip(begin, strides)))


def Split(b, n, X, split_in="", *, axis=0, split=None, num_outputs=None):
    shape = b.shape(X)
    axis %= len(shape)
    d, parts = shape[axis], len(n.output)
    if split_in:
        split = _const_input(b, split_in, "split")
    if split is None:
        chunk = -(-d // (num_outputs or parts))  # opset 18 num_outputs: the last chunk may be smaller
        split = [min(chunk, d - k * chunk) for k in range(parts)]
    split = [int(s) for s in split]
    if len(split) != parts or sum(split) != d or min(split) < 0:
        raise b.fail(f"split {split} does not cut {d} into {parts} outputs", BadInput)
    strides, start = _strides(shape), 0
    for out, size in zip(n.output, split):
        if out:
            _copy(b, n, X, out, [*shape[:axis], size, *shape[axis + 1:]], strides, start * strides[axis])
        start += size


def Gather(b, n, X, indices, *, axis=0):
    shape = b.shape(X)
    axis %= len(shape)
    if b.const(indices) is None:  # indices known only at run time (token ids): a kernel that reads them
        if b.tensors[b.resolve(indices)].dtype != "int64":
            raise b.fail("the indices must be constant or an int64 model input")
        b.emit("gather_indexed", [X, indices], [n.output[0]], {"axis": axis})
        return
    idx = _const_input(b, indices, "the indices").astype(np.int64)
    d = shape[axis]
    if idx.size and (idx.min() < -d or idx.max() >= d):
        raise b.fail(f"indices {idx.reshape(-1).tolist()} out of range for axis size {d}", BadInput)
    flat = np.where(idx < 0, idx + d, idx).reshape(-1)
    out_shape = (*shape[:axis], *idx.shape, *shape[axis + 1:])
    walk = (*shape[:axis], flat.size, *shape[axis + 1:])
    target = n.output[0] if tuple(walk) == out_shape else b.fresh(n.output[0] + "_rows")
    steps = np.diff(flat)
    if flat.size and np.all(steps == (steps[0] if steps.size else 1)):  # a regular index set: a strided copy
        strides = _strides(shape)
        step = int(steps[0]) if steps.size else 1
        _copy(b, n, X, target, walk, [s * step if k == axis else s for k, s in enumerate(strides)],
              int(flat[0]) * strides[axis])
    else:
        if flat.size == 0:
            raise b.fail("no indices: the output would be empty; empty tensors unsupported")
        b.emit("gather", [X], [target], {"axis": axis, "indices": tuple(int(i) for i in flat)})
    if target != n.output[0]:
        _view(b, n, target, out_shape)


def Expand(b, n, X, shape_in):
    shape = b.shape(X)
    target = [int(d) for d in _const_input(b, shape_in, "the shape")]
    try:
        out = np.broadcast_shapes(shape, tuple(target))
    except ValueError:
        raise b.fail(f"cannot broadcast {list(shape)} to {target}", BadInput) from None
    if out == tuple(shape):
        _view(b, n, X, shape)
        return
    lead = len(out) - len(shape)
    strides = [0] * lead + [0 if d == 1 and o != 1 else s for d, o, s in zip(shape, out[lead:], _strides(shape))]
    _copy(b, n, X, n.output[0], out, strides)


def Tile(b, n, X, repeats):
    shape = b.shape(X)
    reps = [int(r) for r in _const_input(b, repeats, "repeats")]
    if len(reps) != len(shape) or min(reps) < 0:
        raise b.fail(f"repeats {reps} for rank {len(shape)}", BadInput)
    # y viewed as (r0, d0, r1, d1, ...) reads x with stride 0 over each repeat
    walk = [v for r, d in zip(reps, shape) for v in (r, d)]
    strides = [v for s in _strides(shape) for v in (0, s)]
    tmp = b.fresh(n.output[0] + "_tiles")
    _copy(b, n, X, tmp, walk, strides)
    _view(b, n, tmp, [r * d for r, d in zip(reps, shape)])


def _block_dims(b, X):
    shape = b.shape(X)
    if len(shape) != 4:
        raise b.fail(f"input rank {len(shape)}; only 4-D (N, C, H, W)")
    return shape


def DepthToSpace(b, n, X, *, blocksize, mode="DCR"):
    N, C, H, W = _block_dims(b, X)
    bs, c = blocksize, C // (blocksize * blocksize)
    out = (N, c, H * bs, W * bs)
    if mode == "DCR":
        _permute(b, n, X, (N, bs, bs, c, H, W), (0, 3, 4, 1, 5, 2), out)
    elif mode == "CRD":
        _permute(b, n, X, (N, c, bs, bs, H, W), (0, 1, 4, 2, 5, 3), out)
    else:
        raise b.fail(f"mode={mode!r}; only 'DCR' or 'CRD'")


def SpaceToDepth(b, n, X, *, blocksize, mode="DCR"):
    N, C, H, W = _block_dims(b, X)
    bs = blocksize
    view, out = (N, C, H // bs, bs, W // bs, bs), (N, C * bs * bs, H // bs, W // bs)
    if mode == "DCR":
        _permute(b, n, X, view, (0, 3, 5, 1, 2, 4), out)
    elif mode == "CRD":
        _permute(b, n, X, view, (0, 1, 3, 5, 2, 4), out)
    else:
        raise b.fail(f"mode={mode!r}; only 'DCR' or 'CRD'")


LOWERINGS = {"Reshape": Reshape, "Flatten": Flatten, "Squeeze": Squeeze, "Unsqueeze": Unsqueeze, "Identity": Identity,
             "Dropout": Dropout, "Transpose": Transpose, "Concat": Concat, "Pad": Pad, "Slice": Slice, "Split": Split,
             "Gather": Gather, "Expand": Expand, "Tile": Tile, "DepthToSpace": DepthToSpace,
             "SpaceToDepth": SpaceToDepth}
