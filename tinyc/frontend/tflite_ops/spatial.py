"""Convolution and pooling builtins (see tflite_ops/common.py for the lowering conventions)."""

from __future__ import annotations

import numpy as np

from tinyc.frontend.tflite_ops.common import fused, padding
from tinyc.ir import QParams


def _bias(b, op, channels: int, w_q: QParams | None, x: str) -> str:
    """The bias as float32 real values; an int32 bias must come back exactly when re-quantized."""
    if len(op.inputs) < 3 or op.inputs[2] < 0:
        return ""
    raw = b.value(op.inputs[2])
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


LOWERINGS = {"CONV_2D": CONV_2D, "DEPTHWISE_CONV_2D": DEPTHWISE_CONV_2D, "AVERAGE_POOL_2D": AVERAGE_POOL_2D,
             "MAX_POOL_2D": MAX_POOL_2D}
