"""Normalization lowerings: BatchNormalization (a mul and an add), the ones that normalize over a set of
axes (layer, RMS, group, instance, mean-variance, Lp: the `normalize` op), LRN.

Each lowering is named after its ONNX op: `b` is the Importer (tinyc/frontend/onnx_import.py), `n` the
ONNX node, positional arguments the node's input names ("" when absent), attributes keyword
arguments with ONNX's defaults. What tinyc does not implement raises UnsupportedOp through b.fail.
"""

from __future__ import annotations

import numpy as np

from tinyc.errors import BadInput


def BatchNormalization(b, n, X, scale, B, mean, var, *, epsilon=1e-5, momentum=0.9, training_mode=0,
                       is_test=None, spatial=1, consumed_inputs=None):
    """Inference with the running statistics, or training mode with the batch's (and the updated running
    statistics when asked). Opset < 7 (PyTorch's old exports): is_test=0 is training only where the node
    asks for the updated statistics; spatial=0 (statistics per element) is rejected."""
    if not spatial:
        raise b.fail("spatial=0 (per-element statistics) unsupported; only spatial=1")
    params = [b.const(t) for t in (scale, B, mean, var)]
    if any(p is None for p in params):
        raise b.fail("scale, bias, mean and variance must be constant")
    if training_mode or (is_test == 0 and len([o for o in n.output if o]) > 1):
        _batch_norm_training(b, n, X, scale, B, params[2:], epsilon, momentum)
        return
    s, bias, m, v = (np.asarray(p, np.float64) for p in params)
    k = s / np.sqrt(v + epsilon)
    shape = (-1,) + (1,) * (len(b.shape(X)) - 2)
    mul_c, add_c = b.fresh(n.output[0] + "_bn_scale"), b.fresh(n.output[0] + "_bn_shift")
    b.consts[mul_c] = k.reshape(shape).astype(np.float32)
    b.consts[add_c] = (bias - m * k).reshape(shape).astype(np.float32)
    mid = b.fresh(n.output[0] + "_bn_mul")
    b.emit("mul", [X, mul_c], [mid], {"act": None})  # simplify folds these into a preceding conv
    b.emit("add", [mid, add_c], [n.output[0]], {"act": None})


def _batch_norm_training(b, n, X, scale, B, running, epsilon, momentum):
    """Y normalised with the batch's mean and (population) variance per channel; the optional outputs are
    running * momentum + batch * (1 - momentum), as onnx's reference computes them."""
    shape = b.shape(X)
    axes = (0, *range(2, len(shape)))
    w_shape = (1, shape[1]) + (1,) * (len(shape) - 2)
    outputs = list(n.output) + [""] * (3 - len(n.output))
    batch_mean = b.fresh(n.output[0] + "_batch_mean") if any(outputs[1:]) else ""
    _normalize(b, n, X, _weights(b, n, X, [scale, B], w_shape), [outputs[0], batch_mean, ""], "moments", axes,
               epsilon)
    if not any(outputs[1:]):
        return
    channels = (shape[1],)
    diff, square, batch_var = (b.fresh(n.output[0] + s) for s in ("_bn_diff", "_bn_square", "_batch_var"))
    b.emit("sub", [X, batch_mean], [diff], {"act": None})
    b.emit("mul", [diff, diff], [square], {"act": None})
    b.emit("reduce", [square], [batch_var], {"kind": "mean", "axes": axes, "keepdims": False})
    flat_mean = b.fresh(n.output[0] + "_batch_mean_c")
    b.emit("reshape", [batch_mean], [flat_mean], {"shape": channels})
    for out, batch, old in zip(outputs[1:], (flat_mean, batch_var), running):
        if not out:
            continue
        keep, old_part = b.fresh(out + "_new"), b.fresh(out + "_old")
        factor = b.fresh(out + "_factor")
        b.consts[factor] = np.full(channels, 1.0 - momentum, np.float32)
        b.consts[old_part] = (np.asarray(old, np.float64).reshape(channels) * momentum).astype(np.float32)
        b.emit("mul", [batch, factor], [keep], {"act": None})
        b.emit("add", [keep, old_part], [out], {"act": None})


def _axis(b, axis: int, rank: int) -> int:
    if not -rank <= axis < rank:
        raise b.fail(f"axis {axis} out of range for rank {rank}")
    return axis % rank


def _weights(b, n, X, names: list[str], shape: tuple[int, ...] | None = None) -> list[str]:
    """Constant [scale, bias] inputs ("" when absent) as new constants of one shape of x's rank (1 where
    broadcast): `shape` (their values in order, or one value for all) if given, else numpy broadcasting
    of them all against x."""
    x_shape = tuple(b.shape(X))
    arrays = [b.const(name) if name else None for name in names]
    if any(name and a is None for name, a in zip(names, arrays)):
        raise b.fail("scale and bias must be constant")
    given = [np.asarray(a, np.float32) for a in arrays if a is not None]
    try:
        if shape is None:
            common = np.broadcast_shapes(*(a.shape for a in given)) if given else ()
            if np.broadcast_shapes(common, x_shape) != x_shape:
                raise ValueError
            shape = (1,) * (len(x_shape) - len(common)) + tuple(common)
            given = [np.broadcast_to(a, shape) for a in given]
        else:
            given = [a.reshape(shape) if a.size == int(np.prod(shape)) else np.broadcast_to(a.reshape(()), shape)
                     for a in given]
    except ValueError:
        shapes = " and ".join(str(list(a.shape)) for a in given)
        raise b.fail(f"scale/bias of shape {shapes} do not fit the input {list(x_shape)}", BadInput) from None
    out, values = [], iter(given)
    for role, a in zip(("scale", "bias"), arrays):
        if a is None:
            out.append("")
            continue
        const = b.fresh(n.output[0] + "_" + role)
        b.consts[const] = np.ascontiguousarray(next(values), np.float32)
        out.append(const)
    return out


def _normalize(b, n, X, weights: list[str], outputs: list[str], kind: str, axes, epsilon=0.0, epsilon_after=0.0):
    b.emit("normalize", [X, *weights], outputs, {"kind": kind, "axes": tuple(axes), "epsilon": float(epsilon),
                                                   "epsilon_after": float(epsilon_after)})


def LayerNormalization(b, n, X, Scale, B="", *, axis=-1, epsilon=1e-5, stash_type=1):
    # stash_type picks the precision of the statistics; tinyc computes them in float32 whatever it says
    rank = len(b.shape(X))
    axis = _axis(b, axis, rank)
    outputs = list(n.output) + [""] * (3 - len(n.output))
    _normalize(b, n, X, _weights(b, n, X, [Scale, B]), outputs, "moments", range(axis, rank), epsilon)


def RMSNormalization(b, n, X, scale, *, axis=-1, epsilon=1e-5, stash_type=1):
    rank = len(b.shape(X))
    axis = _axis(b, axis, rank)
    _normalize(b, n, X, _weights(b, n, X, [scale, ""]), [n.output[0]], "rms", range(axis, rank), epsilon)


def GroupNormalization(b, n, X, scale, bias, *, num_groups, epsilon=1e-5, stash_type=1):
    shape = b.shape(X)
    if len(shape) < 2 or num_groups < 1 or shape[1] % num_groups:
        raise b.fail(f"num_groups={num_groups} does not divide the channels of {list(shape)}")
    n_, c, g = shape[0], shape[1], num_groups
    grouped = (n_, g, c // g, int(np.prod(shape[2:])))  # statistics over axes 2 and 3 of this view
    view = b.fresh(n.output[0] + "_groups")
    b.emit("reshape", [X], [view], {"shape": grouped})
    # opset 18 gives one scale and bias per group, opset 21 one per channel
    w_shape = (1, g, 1, 1) if b.opset < 21 else (1, g, c // g, 1)
    for name in (scale, bias):
        if b.const(name) is not None and b.const(name).size != int(np.prod(w_shape)):
            raise b.fail(f"{name!r} has {b.const(name).size} values; opset {b.opset} wants "
                         f"{int(np.prod(w_shape))}", BadInput)
    y = b.fresh(n.output[0] + "_normalized")
    _normalize(b, n, view, _weights(b, n, view, [scale, bias], w_shape), [y], "moments", (2, 3), epsilon)
    b.emit("reshape", [y], [n.output[0]], {"shape": shape})


def InstanceNormalization(b, n, X, scale, B, *, epsilon=1e-5):
    shape = b.shape(X)
    if len(shape) < 2:
        raise b.fail(f"input of rank {len(shape)}; at least 2 (N, C, ...)")
    w_shape = (1, shape[1]) + (1,) * (len(shape) - 2)
    _normalize(b, n, X, _weights(b, n, X, [scale, B], w_shape), [n.output[0]], "moments", range(2, len(shape)),
               epsilon)


def MeanVarianceNormalization(b, n, X, *, axes=(0, 2, 3)):
    # (x - mean) / (sqrt(variance) + 1e-9), the 1e-9 of the ONNX function body
    rank = len(b.shape(X))
    _normalize(b, n, X, ["", ""], [n.output[0]], "moments", sorted({_axis(b, a, rank) for a in axes}),
               epsilon_after=1e-9)


def LpNormalization(b, n, X, *, axis=-1, p=2):
    if p not in (1, 2):
        raise b.fail(f"p={p} unsupported; only 1 and 2")
    axis = _axis(b, axis, len(b.shape(X)))
    _normalize(b, n, X, ["", ""], [n.output[0]], f"l{p}", (axis,))


def LRN(b, n, X, *, size, alpha=1e-4, beta=0.75, bias=1.0):
    if len(b.shape(X)) < 2 or size < 1:
        raise b.fail(f"size={size} on an input of shape {list(b.shape(X))}; size >= 1 on (N, C, ...)")
    b.emit("lrn", [X], [n.output[0]], {"size": int(size), "alpha": float(alpha), "beta": float(beta),
                                        "bias": float(bias)})


LOWERINGS = {
    "BatchNormalization": BatchNormalization, "LayerNormalization": LayerNormalization,
    "RMSNormalization": RMSNormalization, "GroupNormalization": GroupNormalization,
    "InstanceNormalization": InstanceNormalization, "MeanVarianceNormalization": MeanVarianceNormalization,
    "LpNormalization": LpNormalization, "LRN": LRN,
}
