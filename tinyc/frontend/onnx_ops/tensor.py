"""Shape and data movement lowerings: views, transpose, concat, pad.

Each lowering is named after its ONNX op: `b` is the Importer (tinyc/frontend/onnx_import.py), `n` the
ONNX node, positional arguments the node's input names ("" when absent), attributes keyword
arguments with ONNX's defaults. What tinyc does not implement raises UnsupportedOp through b.fail.
"""

from __future__ import annotations

import numpy as np


def _view(b, n, X, shape):
    b.emit("reshape", [X], [n.output[0]], {"shape": tuple(int(d) for d in shape)})


def Reshape(b, n, X, shape, *, allowzero=0):
    target = b.const(shape)
    if target is None:
        raise b.fail("the target shape must be constant")
    if allowzero and 0 in target:
        raise b.fail("allowzero=1 with a zero dimension unsupported")
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
    if training is None or bool(np.asarray(training).reshape(-1)[0]):
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
    if mode != "constant":
        raise b.fail(f"mode={mode!r} unsupported; only 'constant'")
    if pads_in:
        pads = b.const(pads_in)
        if pads is None:
            raise b.fail("pads must be constant")
    if value_in:
        v = b.const(value_in)
        if v is None:
            raise b.fail("the pad value must be constant")
        value = float(np.asarray(v).reshape(-1)[0])
    rank = len(b.shape(X))
    pads = [int(p) for p in pads]
    if axes_in:
        axes = [int(a) % rank for a in b.const(axes_in)]
        full = [0] * (2 * rank)
        for i, a in enumerate(axes):
            full[a], full[rank + a] = pads[i], pads[len(axes) + i]
        pads = full
    if any(p < 0 for p in pads):
        raise b.fail("negative pads (cropping) unsupported")
    b.emit("pad", [X], [n.output[0]], {"pads": tuple(pads), "value": float(value)})


LOWERINGS = {"Reshape": Reshape, "Flatten": Flatten, "Squeeze": Squeeze, "Unsqueeze": Unsqueeze, "Identity": Identity,
             "Dropout": Dropout, "Transpose": Transpose, "Concat": Concat, "Pad": Pad}
