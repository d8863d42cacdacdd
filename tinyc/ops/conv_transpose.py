"""conv_transpose2d: grouped 2-D (and 1-D) transposed convolution, float32 and int8. int8 is TFLite's
TRANSPOSE_CONV (TFLM's reference kernel) for ONNX and .tflite models alike: symmetric int8 weights with one
scale per output channel, sum (x - input_zp) * w in int32, + int32 bias, per-channel requantization,
output zero point, fused clamp; groups, dilations and negative pads as the float op has them.

Semantics only; the ONNX ConvTranspose lowering (auto_pad, output_shape, output_padding) resolves
everything to the begin pads and the output size. C: runtime_c/tinyc_conv_transpose.c.
"""

from __future__ import annotations

import numpy as np

from tinyc import quant
from tinyc.ir import Node, QParams
from tinyc.ops import KernelCall, Op, common, register


def _geometry(node, x_shape: tuple[int, ...], w_shape: tuple[int, ...]) -> dict:
    """The tinyc_conv_geometry struct (weights (Ci, Co/g, KH, KW)); output pixel o takes input i at tap k
    when o = i * stride + k * dilation - pad_begin."""
    a = node.attrs
    group = int(a["group"])
    ci, co_g, kh, kw = w_shape
    x4 = common.shape4(x_shape)
    assert x4["c"] == ci and ci % group == 0, \
        f"node {node.name!r} (conv_transpose2d): input {x_shape}, weight {w_shape}, group {group}"
    oh, ow = a["output_size"]
    return {"input": x4, "output": {"n": x4["n"], "c": co_g * group, "h": oh, "w": ow},
            "kernel_h": kh, "kernel_w": kw, "stride_h": a["strides"][0], "stride_w": a["strides"][1],
            "pad_top": a["pads_begin"][0], "pad_left": a["pads_begin"][1],
            "dilation_h": a["dilations"][0], "dilation_w": a["dilations"][1], "groups": group}


def _quantize_weight(g, w: str, group: int) -> tuple[str, np.ndarray]:
    """Symmetric int8 copy of weight w (Ci, Co/g, KH, KW) and its scale per output channel (g * Co/g,
    group-major). A weight with its own q (a .tflite or QDQ model, per tensor or along axis 1) keeps it."""
    t = g.tensors[w]
    ci, co_g = t.shape[:2]
    if t.q is not None or group == 1:
        w_q, q = common.quantize_weight(g, w, axis=1)
        return w_q, np.tile(np.broadcast_to(q.scale, (co_g,)), group)
    # Grouped: output channel gi * Co/g + j is column j of group gi's Ci/g rows; quantize each on its own.
    by_out = t.data.reshape(group, ci // group, co_g, *t.shape[2:]).swapaxes(1, 2)
    data, q = quant.quantize_weights_per_channel(by_out.reshape(group * co_g, ci // group, *t.shape[2:]), 0)
    data = data.reshape(group, co_g, ci // group, *t.shape[2:]).swapaxes(1, 2).reshape(t.shape)
    # q's scales run over output channels (group-major), not over axis 1 alone: only this kernel reads them
    return g.add_const(w + "_q", np.ascontiguousarray(data), "int8", QParams(q.scale, q.zero_point, 1)), q.scale


@register
class ConvTranspose2d(Op):
    """y = conv_transpose(x, w, groups) + b, then the fused clamp; x NCHW or NCL, w (Ci, Co/g, KH, KW)."""

    name = "conv_transpose2d"

    def infer_shape(self, node, in_shapes):
        geom = _geometry(node, in_shapes[0], in_shapes[1])
        o = geom["output"]
        return [(o["n"], o["c"], o["w"]) if len(in_shapes[0]) == 3 else (o["n"], o["c"], o["h"], o["w"])]

    def macs(self, node, in_shapes, out_shapes):
        _, co_g, kh, kw = in_shapes[1]
        return int(np.prod(in_shapes[0])) * co_g * kh * kw

    def ref_float(self, node, xs):
        x, w, b = xs
        y = self._scatter(node, x, w)
        if b is not None:
            y = y + b.astype(np.float64)[None, :, None, None]
        y = y[:, :, 0, :] if x.ndim == 3 else y
        return [common.apply_act_float(node, np.ascontiguousarray(y))]

    def quantize(self, node, g):
        x, w, b = node.inputs
        s_in, zp_in = common.scale_zp(g, x)
        s_out, zp_out = common.scale_zp(g, node.outputs[0])
        w_q, s_w = _quantize_weight(g, w, int(node.attrs["group"]))
        channels = len(s_w)
        b_q = common.quantize_bias(g, b or None, s_in * s_w, channels)
        requant = common.requant_params(s_in * s_w / s_out)
        clamp = common.act_clamp_s8(node, g.tensors[node.outputs[0]].q)
        int8 = {"input_zp": zp_in, "output_zp": zp_out, **requant, "act_min": clamp["min"], "act_max": clamp["max"]}
        return Node(node.name, node.op, [x, w_q, b_q], list(node.outputs), dict(node.attrs, int8=int8))

    def ref_int8(self, node, xs):
        x, w, b = xs
        p = node.attrs["int8"]
        acc = np.rint(self._scatter(node, x.astype(np.int64) - p["input_zp"], w)).astype(np.int64)
        acc = np.clip(acc + b.astype(np.int64)[None, :, None, None], quant.INT32_MIN, quant.INT32_MAX)
        y = quant.requantize(acc, p["multiplier"][None, :, None, None], p["shift"][None, :, None, None])
        y = np.clip(y + p["output_zp"], p["act_min"], p["act_max"])
        return [(y[:, :, 0, :] if x.ndim == 3 else y).astype(np.int8)]

    def _scatter(self, node, x, w) -> np.ndarray:
        """The transposed convolution of x by w, float64, without bias; rank 4."""
        geom = _geometry(node, x.shape, w.shape)
        x4 = common.as4(x).astype(np.float64)
        n, ci, h, wd = x4.shape
        _, co_g, kh, kw = w.shape
        g = geom["groups"]
        sh, sw, dh, dw = geom["stride_h"], geom["stride_w"], geom["dilation_h"], geom["dilation_w"]
        pt, pl = geom["pad_top"], geom["pad_left"]
        oh, ow = geom["output"]["h"], geom["output"]["w"]
        # Scatter onto a canvas whose row r is output row r - off_h (begin pads may be negative).
        off_h, off_w = max(0, -pt), max(0, -pl)
        canvas = np.zeros((n, g, co_g, off_h + max((h - 1) * sh + (kh - 1) * dh + 1, pt + oh),
                           off_w + max((wd - 1) * sw + (kw - 1) * dw + 1, pl + ow)))
        xg = x4.reshape(n, g, ci // g, h, wd)
        wg = w.astype(np.float64).reshape(g, ci // g, co_g, kh, kw)
        for i in range(kh):
            for j in range(kw):
                contrib = np.einsum("ngchw,gcd->ngdhw", xg, wg[:, :, :, i, j])
                r0, c0 = off_h + i * dh, off_w + j * dw
                canvas[:, :, :, r0:r0 + (h - 1) * sh + 1:sh, c0:c0 + (wd - 1) * sw + 1:sw] += contrib
        return canvas[:, :, :, off_h + pt:off_h + pt + oh, off_w + pl:off_w + pl + ow].reshape(n, g * co_g, oh, ow)

    def kernel(self, node, g):
        x, w, b = node.inputs
        geom = _geometry(node, g.tensors[x].shape, g.tensors[w].shape)
        if g.tensors[node.outputs[0]].dtype == "int8":
            p = node.attrs["int8"]
            params = {"geom": geom, "input_zp": p["input_zp"], "output_zp": p["output_zp"],
                      "requant": {"multiplier": p["multiplier"], "shift": p["shift"]},
                      "clamp": {"min": p["act_min"], "max": p["act_max"]}}
            return KernelCall("tinyc_conv_transpose2d_s8", "tinyc_conv_transpose", "tinyc_conv_transpose2d_s8_params",
                              params, [x, w, b, node.outputs[0]])
        params = {"geom": geom, "clamp": common.act_clamp_f32(node)}
        return KernelCall("tinyc_conv_transpose2d_f32", "tinyc_conv_transpose", "tinyc_conv_transpose2d_f32_params",
                          params, [x, w, b, node.outputs[0]])
