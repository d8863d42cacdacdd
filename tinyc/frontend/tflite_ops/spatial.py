"""Convolution and pooling builtins (see tflite_ops/common.py for the lowering conventions)."""

from __future__ import annotations

import numpy as np

from tinyc import quant
from tinyc.errors import BadInput
from tinyc.frontend.tflite_ops.common import fused, padding
from tinyc.ir import QParams
from tinyc.ops.resize import _compact, is_copy, tflite_bilinear_taps


def _bias(b, op, channels: int, w_q: QParams | None, x: str, index: int = 2) -> str:
    """The bias (op.inputs[index]) as float32 real values; an int32 bias must come back exactly when
    re-quantized."""
    if len(op.inputs) <= index or op.inputs[index] < 0:
        return ""
    raw = b.value(op.inputs[index])
    if raw is None:
        raise b.fail("bias must be constant")
    if raw.dtype == np.float32:
        return b.const(raw.reshape(channels), "bias")
    x_q = b.tensors[x].q
    if x_q is None or w_q is None:
        raise b.fail(f"an integer bias needs quantized input and weights (bias type {raw.dtype})")
    scale = np.broadcast_to(x_q.scale[0] * w_q.scale, (channels,))  # the scale the kernel's bias has
    real = raw.reshape(channels).astype(np.float64) * scale
    as32 = real.astype(np.float32) / scale
    if np.array_equal(np.sign(as32) * np.floor(np.abs(as32) + 0.5), raw.reshape(channels)):
        return b.const(real, "bias")
    # Tiny per-channel scales (float32 denormals): the constant keeps float64 so that
    # int8 quantization gets the file's integers back exactly.
    name = b.const(real, "bias")
    b.tensors[name].data = real
    return name


def _conv(b, op, w: np.ndarray, w_q: QParams | None, group: int, kernel: tuple, strides: tuple, dilations: tuple):
    x = b.input(op.inputs[0])
    pads = padding(b, op.options, b.shape(op.inputs[0])[1:3], kernel, strides, dilations)
    W = b.const(w, "weight", w_q)
    B = _bias(b, op, w.shape[0], w_q, x)
    b.result("conv2d", [x, W, B], op.outputs[0], {"strides": strides, "pads": pads, "dilations": dilations,
                                                   "group": group, "act": fused(b, op.options)})


def CONV_2D(b, op):
    o = op.options
    w = b.real(op.inputs[1]).transpose(0, 3, 1, 2)  # OHWI -> OIHW
    groups = b.shape(op.inputs[0])[3] // w.shape[1]
    _conv(b, op, w, b.qparams(op.inputs[1], (0, 3, 1, 2)), groups, w.shape[2:],
          (o.StrideH(), o.StrideW()), (o.DilationHFactor(), o.DilationWFactor()))


def DEPTHWISE_CONV_2D(b, op):
    o = op.options
    w = b.real(op.inputs[1])  # 1, KH, KW, C * multiplier
    channels = b.shape(op.inputs[0])[3]
    if w.shape[3] != channels * max(o.DepthMultiplier(), 1) and o.DepthMultiplier() != 0:
        raise b.fail(f"depth multiplier {o.DepthMultiplier()} does not match the weights {list(w.shape)}")
    w = w.transpose(3, 0, 1, 2)  # O, 1, KH, KW
    _conv(b, op, w, b.qparams(op.inputs[1], (3, 0, 1, 2)), channels, w.shape[2:],
          (o.StrideH(), o.StrideW()), (o.DilationHFactor(), o.DilationWFactor()))


def _pool(b, op, kind: str):
    o = op.options
    kernel, strides = (o.FilterHeight(), o.FilterWidth()), (o.StrideH(), o.StrideW())
    pads = padding(b, o, b.shape(op.inputs[0])[1:3], kernel, strides)
    act = fused(b, o)
    attrs = {"kernel": kernel, "strides": strides, "pads": pads, "ceil_mode": False}
    if kind == "avgpool":
        attrs["count_include_pad"] = False
    if act is None:
        b.result(kind, [b.input(op.inputs[0])], op.outputs[0], attrs)
        return
    x = b.input(op.inputs[0])
    mid = b.fresh(x + "_pool")
    q = b.activation_q(op.outputs[0])
    b.emit(kind, [x], [mid], attrs, None, {mid: q})
    b.result("unary", [mid], op.outputs[0], {"fn": "clip", "min": act[0], "max": act[1]})


def AVERAGE_POOL_2D(b, op):
    _pool(b, op, "avgpool")


def MAX_POOL_2D(b, op):
    _pool(b, op, "maxpool")


def TRANSPOSE_CONV(b, op):
    o = op.options
    shape = b.value(op.inputs[0])
    if shape is None:
        raise b.fail("the output shape must be constant")
    w = b.real(op.inputs[1]).transpose(3, 0, 1, 2)  # OHWI -> (Ci, Co, KH, KW)
    w_q = b.qparams(op.inputs[1], (3, 0, 1, 2))
    out_hw, strides = tuple(int(v) for v in shape.reshape(-1)[1:3]), (o.StrideH(), o.StrideW())
    top, left, _, _ = padding(b, o, out_hw, w.shape[2:], strides)  # TFLM: the forward conv's SAME pads
    x = b.input(op.inputs[2])
    W = b.const(w, "weight", w_q)
    B = _bias(b, op, w.shape[1], w_q, x, index=3)
    b.result("conv_transpose2d", [x, W, B], op.outputs[0],
             {"strides": strides, "pads_begin": (top, left), "dilations": (1, 1), "group": 1, "output_size": out_hw,
              "act": fused(b, o), "rule": "tflm"})


LOWERINGS = {"TRANSPOSE_CONV": TRANSPOSE_CONV,
             "CONV_2D": CONV_2D, "DEPTHWISE_CONV_2D": DEPTHWISE_CONV_2D, "AVERAGE_POOL_2D": AVERAGE_POOL_2D,
             "MAX_POOL_2D": MAX_POOL_2D}


def _nearest_taps(n_in: int, n_out: int, align: bool, half: bool) -> tuple:
    """TFLM's GetNearestNeighbor (float32 arithmetic) as one tap per output index."""
    f32 = np.float32
    scale = f32(n_in - 1) / f32(n_out - 1) if align and n_out > 1 else f32(n_in) / f32(n_out)
    at = (np.arange(n_out, dtype=f32) + f32(0.5 if half else 0.0)) * scale
    index = np.minimum(quant.round_half_away(at) if align else np.floor(at), n_in - 1).astype(np.int64)
    if half:
        index = np.maximum(index, 0)
    return index[:, None].astype(np.int32), np.ones((n_out, 1)), np.zeros(n_out, bool)


def _bilinear_taps(n_in: int, n_out: int, align: bool, half: bool, integer: bool) -> tuple:
    """TFLM's bilinear source pairs and weights: its ResizeBilinearInteger (weights k / 1024) for int8,
    its float ResizeBilinear (float32 weights) otherwise."""
    if integer:
        return tflite_bilinear_taps(n_in, n_out, align, half)
    rows, weights = [], []
    f32 = np.float32
    scale = f32(n_in - 1) / f32(n_out - 1) if align and n_out > 1 else f32(n_in) / f32(n_out)
    for v in range(n_out):
        at = (f32(v) + f32(0.5)) * scale - f32(0.5) if half else f32(v) * scale
        lo, hi = max(int(np.floor(at)), 0), min(int(np.ceil(at)), n_in - 1)
        rows.append([lo, hi])
        weights.append([float(f32(1) - (at - f32(lo))), float(at - f32(lo))])
    index, weight = _compact(np.array(rows), np.array(weights, np.float64))
    return index, weight, np.zeros(n_out, bool)


def _resize(b, op, bilinear: bool):
    o = op.options
    align, half = (bool(o.AlignCorners()), bool(o.HalfPixelCenters())) if o is not None else (False, False)
    if align and half:
        raise b.fail("align_corners and half_pixel_centers together", BadInput)
    n, h, w, c = b.shape(op.inputs[0])
    size = b.value(op.inputs[1])
    if size is None:
        raise b.fail("the output size must be constant")
    out_h, out_w = (int(v) for v in size.reshape(-1))
    if bilinear:
        taps = [_bilinear_taps(n_in, n_out, align, half, b.int8) for n_in, n_out in ((h, out_h), (w, out_w))]
    else:
        taps = [_nearest_taps(n_in, n_out, align, half) for n_in, n_out in ((h, out_h), (w, out_w))]
    tables = [None if is_copy(*t, n_in) else t for t, n_in in zip(taps, (h, w))]
    b.result("resize", [b.input(op.inputs[0])], op.outputs[0],
             {"shape": (n, c, out_h, out_w), "axes": (None, None, *tables), "mode": "linear" if bilinear else "nearest",
              "extrapolation_value": 0.0, "rule": "tflm"})


def RESIZE_NEAREST_NEIGHBOR(b, op):
    _resize(b, op, False)


def RESIZE_BILINEAR(b, op):
    _resize(b, op, True)


LOWERINGS.update({"RESIZE_NEAREST_NEIGHBOR": RESIZE_NEAREST_NEIGHBOR, "RESIZE_BILINEAR": RESIZE_BILINEAR})
