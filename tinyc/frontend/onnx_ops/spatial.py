"""Convolution and pooling lowerings.

Each lowering is named after its ONNX op: `b` is the Importer (tinyc/frontend/onnx_import.py), `n` the
ONNX node, positional arguments the node's input names ("" when absent), attributes keyword
arguments with ONNX's defaults. What tinyc does not implement raises UnsupportedOp through b.fail.
"""

from __future__ import annotations



def _spatial(b, n, rank: int, kernel, strides, pads, dilations, auto_pad) -> tuple:
    """Normalise ONNX spatial attrs to 2-D (strides, pads (t, l, b, r), dilations); 1-D gets h = 1."""
    sp = rank - 2
    if sp not in (1, 2):
        raise b.fail(f"{sp}-D input; only 1-D and 2-D are supported")
    strides = list(strides or [1] * sp)
    dilations = list(dilations or [1] * sp)
    in_sizes = b.shape(n.input[0])[2:]
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        pads_begin, pads_end = [], []
        for size, k, s, d in zip(in_sizes, kernel, strides, dilations):
            out = -(-size // s)
            total = max((out - 1) * s + d * (k - 1) + 1 - size, 0)
            small = total // 2
            pads_begin.append(small if auto_pad == "SAME_UPPER" else total - small)
            pads_end.append(total - pads_begin[-1])
        pads = pads_begin + pads_end
    elif auto_pad == "VALID":
        pads = [0] * (2 * sp)
    elif auto_pad != "NOTSET":
        raise b.fail(f"auto_pad={auto_pad!r} unsupported")
    pads = list(pads or [0] * (2 * sp))
    if sp == 1:
        return (1, strides[0]), (0, pads[0], 0, pads[1]), (1, dilations[0])
    return tuple(strides), (pads[0], pads[1], pads[2], pads[3]), tuple(dilations)


def _as_2d(b, W: str, w) -> str:
    """A 1-D kernel (O, I, K) as (O, I, 1, K); a QDQ weight keeps its parameters (its axis is 0 or 1)."""
    name = b.fresh(W + "_2d")
    b.consts[name] = w.reshape(w.shape[0], w.shape[1], 1, w.shape[2])
    if b.resolve(W) in b.q:
        b.q[name] = b.q[b.resolve(W)]
    return name


def Conv(b, n, X, W, B="", *, auto_pad="NOTSET", dilations=None, group=1, kernel_shape=None, pads=None,
         strides=None):
    w = b.const(W)
    if w is None:
        raise b.fail("weights must be constant")
    if B and b.const(B) is None:
        raise b.fail("bias must be constant")
    rank = len(b.shape(X))
    kernel = list(kernel_shape or w.shape[2:])
    strides, pads, dilations = _spatial(b, n, rank, kernel, strides, pads, dilations, auto_pad)
    if w.ndim == 3:
        W = _as_2d(b, W, w)
    b.emit("conv2d", [X, W, B], [n.output[0]],
           {"strides": strides, "pads": pads, "dilations": dilations, "group": int(group), "act": None})


def ConvTranspose(b, n, X, W, B="", *, auto_pad="NOTSET", dilations=None, group=1, kernel_shape=None,
                  output_padding=None, output_shape=None, pads=None, strides=None):
    """Resolved as the onnx reference does: explicit (or zero) pads, with output_shape only the output size;
    SAME_UPPER/SAME_LOWER split the total padding that makes output_shape (default input * stride)."""
    w = b.const(W)
    if w is None:
        raise b.fail("weights must be constant")
    if B and b.const(B) is None:
        raise b.fail("bias must be constant")
    x_shape = b.shape(X)
    sp = len(x_shape) - 2
    if sp not in (1, 2):
        raise b.fail(f"{sp}-D input; only 1-D and 2-D are supported")
    if x_shape[1] != w.shape[0] or x_shape[1] % int(group):
        raise b.fail(f"input {list(x_shape)} and weight {list(w.shape)} with group {group} do not match")
    kernel = list(w.shape[2:])
    if kernel_shape is not None and list(kernel_shape) != kernel:
        raise b.fail(f"kernel_shape={list(kernel_shape)} differs from the weight's {kernel}")
    strides = list(strides or [1] * sp)
    dilations = list(dilations or [1] * sp)
    output_padding = list(output_padding or [0] * sp)
    sizes = list(x_shape[2:])
    full = [s * (i - 1) + op + (k - 1) * d + 1 for i, k, s, d, op in zip(sizes, kernel, strides, dilations,
                                                                         output_padding)]
    if auto_pad in ("SAME_UPPER", "SAME_LOWER") and pads is None:
        out = list(output_shape[-sp:]) if output_shape is not None else [i * s for i, s in zip(sizes, strides)]
        total = [f - o for f, o in zip(full, out)]
        begin = [t // 2 if auto_pad == "SAME_UPPER" else t - t // 2 for t in total]
    elif auto_pad in ("NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"):
        pads = list(pads or [0] * (2 * sp)) if auto_pad != "VALID" else [0] * (2 * sp)
        begin = pads[:sp]
        out = list(output_shape[-sp:]) if output_shape is not None else \
            [f - pb - pe for f, pb, pe in zip(full, pads[:sp], pads[sp:])]
    else:
        raise b.fail(f"auto_pad={auto_pad!r} unsupported")
    if any(o <= 0 for o in out):
        raise b.fail(f"empty output {out}")
    if sp == 1:
        strides, dilations, begin, out = [1] + strides, [1] + dilations, [0] + begin, [1] + out
        W = _as_2d(b, W, w)
    b.emit("conv_transpose2d", [X, W, B], [n.output[0]],
           {"strides": tuple(strides), "dilations": tuple(dilations), "pads_begin": tuple(begin),
            "output_size": tuple(out), "group": int(group), "act": None})


def _pool(b, n, op, X, kernel_shape, strides, pads, auto_pad, ceil_mode, dilations, extra):
    rank = len(b.shape(X))
    strides, pads, dilations = _spatial(b, n, rank, kernel_shape, strides or [1] * (rank - 2), pads, dilations,
                                        auto_pad)
    kernel = tuple(kernel_shape)
    if rank == 3:  # a 1-D pool keeps one-element kernel and strides, pads (left, right)
        strides, pads, dilations = strides[1:], (pads[1], pads[3]), dilations[1:]
    if any(d != 1 for d in dilations):
        extra = dict(extra, dilations=tuple(dilations))
    b.emit(op, [X], [n.output[0]], {"kernel": kernel, "strides": strides, "pads": pads,
                                    "ceil_mode": bool(ceil_mode), **extra})


def MaxPool(b, n, X, *, auto_pad="NOTSET", ceil_mode=0, dilations=None, kernel_shape=None, pads=None,
            storage_order=0, strides=None):
    if len(n.output) > 1 and n.output[1]:
        raise b.fail("the Indices output (int64) is unsupported; graph outputs are float32 or int8")
    _pool(b, n, "maxpool", X, kernel_shape, strides, pads, auto_pad, ceil_mode, dilations, {})


def AveragePool(b, n, X, *, auto_pad="NOTSET", ceil_mode=0, count_include_pad=0, dilations=None,
                kernel_shape=None, pads=None, strides=None):
    _pool(b, n, "avgpool", X, kernel_shape, strides, pads, auto_pad, ceil_mode, dilations,
          {"count_include_pad": bool(count_include_pad)})


def GlobalAveragePool(b, n, X):
    kernel = b.shape(X)[2:]
    _pool(b, n, "avgpool", X, kernel, None, None, "NOTSET", 0, None, {"count_include_pad": False})


def GlobalMaxPool(b, n, X):
    _pool(b, n, "maxpool", X, b.shape(X)[2:], None, None, "NOTSET", 0, None, {})


LOWERINGS = {"Conv": Conv, "ConvTranspose": ConvTranspose,
             "MaxPool": MaxPool, "AveragePool": AveragePool, "GlobalAveragePool": GlobalAveragePool,
             "GlobalMaxPool": GlobalMaxPool}
