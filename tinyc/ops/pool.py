"""Max and average pooling over NCHW (or NCL, as h = 1) activations. int8 keeps the input's q.

Output size follows onnxruntime: ONNX's formula, and with ceil_mode a last window that
would start past the input and its begin pad is dropped (PyTorch's rule). C: runtime_c/tinyc_pool.c.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinyc.errors import UnsupportedOp
from tinyc.ir import Node
from tinyc.ops import KernelCall, Op, register
from tinyc.ops.common import as4, out_dtype, shape4, spatial_out


@dataclass
class Window:
    kh: int
    kw: int
    sh: int
    sw: int
    pt: int  # pads: top, left, bottom, right
    pl: int
    pb: int
    pr: int
    oh: int  # output size
    ow: int
    dh: int = 1  # dilations (float32 only): taps at start + k * d
    dw: int = 1


def _out_len(size: int, k: int, s: int, pb: int, pe: int, ceil_mode: bool, d: int = 1) -> int:
    out = spatial_out(size, k, s, pb, pe, d, ceil_mode=ceil_mode)
    if ceil_mode and (out - 1) * s >= size + pb:  # onnxruntime: no window starting in the end pad
        out -= 1
    return out


def window(node, in_shape: tuple) -> Window:
    """Pooling geometry; a 1-D (NCL) pool may give kernel/strides of one element and pads (l, r)."""
    a = node.attrs
    kernel, strides, pads = tuple(a["kernel"]), tuple(a.get("strides") or (1,) * len(a["kernel"])), a.get("pads")
    pads = tuple(pads) if pads else (0,) * (2 * len(kernel))
    dilations = tuple(a.get("dilations") or (1,) * len(kernel))
    if len(kernel) == 1:
        kernel, strides, pads = (1, *kernel), (1, *strides), (0, pads[0], 0, pads[1])
        dilations = (1, *dilations)
    flat = len(in_shape) == 3 and kernel[0] == 1 and pads[0] == pads[2] == 0  # NCL as h = 1
    if len(kernel) != 2 or not (len(in_shape) == 4 or flat):
        raise UnsupportedOp(f"node {node.name!r} ({node.op}): input {in_shape} with kernel {kernel}, "
                            f"pads {pads}; only NCHW, or NCL with a 1-high kernel")
    (kh, kw), (sh, sw), (pt, pl, pb, pr), (dh, dw) = kernel, strides, pads, dilations
    if max(pt, pb) > (kh - 1) * dh or max(pl, pr) > (kw - 1) * dw:
        raise UnsupportedOp(f"node {node.name!r} ({node.op}): pads {pads} not below kernel {kernel}")
    _, _, h, w = shape4(in_shape).values()
    ceil = bool(a.get("ceil_mode", False))
    win = Window(kh, kw, sh, sw, pt, pl, pb, pr,
                 _out_len(h, kh, sh, pt, pb, ceil, dh), _out_len(w, kw, sw, pl, pr, ceil, dw), dh, dw)
    if (dh, dw) != (1, 1) and tap_count(win, h, w, False).min() == 0:
        raise UnsupportedOp(f"node {node.name!r} ({node.op}): dilations {dilations} leave a window with no "
                            "input tap")
    return win


def taps(x4: np.ndarray, win: Window, fill) -> list[np.ndarray]:
    """The kh * kw strided views, one per kernel tap, of x4 on a canvas padded with `fill`."""
    n, c, h, w = x4.shape
    reach_h, reach_w = (win.oh - 1) * win.sh + 1, (win.ow - 1) * win.sw + 1  # window starts
    span_h, span_w = reach_h + (win.kh - 1) * win.dh, reach_w + (win.kw - 1) * win.dw
    canvas = np.full((n, c, max(span_h, win.pt + h), max(span_w, win.pl + w)), fill, x4.dtype)
    canvas[:, :, win.pt:win.pt + h, win.pl:win.pl + w] = x4
    return [canvas[:, :, i * win.dh:i * win.dh + reach_h:win.sh, j * win.dw:j * win.dw + reach_w:win.sw]
            for i in range(win.kh) for j in range(win.kw)]


def tap_count(win: Window, h: int, w: int, include_pad: bool) -> np.ndarray:
    """Divisor per output position (oh, ow): valid taps, or taps inside input + explicit pads."""
    def along(out, k, s, pad, pad_end, size, d):
        pos = (np.arange(out) * s - pad)[:, None] + d * np.arange(k)[None, :]  # every tap of every window
        if include_pad:  # as onnxruntime: the explicit pads count, a ceil_mode overhang does not
            return np.sum(pos < size + pad_end, axis=1)
        return np.sum((pos >= 0) & (pos < size), axis=1)
    return np.outer(along(win.oh, win.kh, win.sh, win.pt, win.pb, h, win.dh),
                    along(win.ow, win.kw, win.sw, win.pl, win.pr, w, win.dw))


class _Pool(Op):
    def infer_shape(self, node, in_shapes):
        s, win = in_shapes[0], window(node, in_shapes[0])
        return [(s[0], s[1], win.oh, win.ow) if len(s) == 4 else (s[0], s[1], win.ow)]

    def output_qparams(self, node, g, calibrated):
        return [g.tensors[node.inputs[0]].q]

    def quantize(self, node, g):
        if any(d != 1 for d in node.attrs.get("dilations") or ()):
            raise UnsupportedOp(f"node {node.name!r} ({self.name}): dilations {list(node.attrs['dilations'])} "
                                "in int8; only 1 (float32 takes any)")
        zp = int(g.tensors[node.inputs[0]].q.zero_point[0])
        return Node(node.name, node.op, list(node.inputs), list(node.outputs),
                          {**node.attrs, "int8": {"input_zp": zp}})

    def kernel(self, node, g):
        x = g.tensors[node.inputs[0]]
        win = window(node, x.shape)
        dtype = "s8" if out_dtype(node, g) == "int8" else "f32"
        params = {"input": shape4(x.shape), "output_h": win.oh, "output_w": win.ow,
                  "kernel_h": win.kh, "kernel_w": win.kw, "stride_h": win.sh, "stride_w": win.sw,
                  "pad_top": win.pt, "pad_left": win.pl, "pad_bottom": win.pb, "pad_right": win.pr,
                  "count_include_pad": int(bool(node.attrs.get("count_include_pad", False))),
                  "input_zp": node.attrs["int8"]["input_zp"] if dtype == "s8" else 0,
                  "dilation_h": win.dh, "dilation_w": win.dw}
        return KernelCall(f"tinyc_{self.name}_{dtype}", "tinyc_pool", "tinyc_pool_params", params,
                          [node.inputs[0], node.outputs[0]])

    @staticmethod
    def shaped(x: np.ndarray, y4: np.ndarray) -> np.ndarray:
        return y4[:, :, 0, :] if x.ndim == 3 else y4


@register
class MaxPool(_Pool):
    """y = max over each window; padding never wins (it is -inf)."""

    name = "maxpool"

    def ref_float(self, node, xs):
        x = np.asarray(xs[0], np.float32)
        y = np.max(taps(as4(x), window(node, x.shape), -np.inf), axis=0)
        return [self.shaped(x, y).astype(np.float32)]

    def ref_int8(self, node, xs):
        x = xs[0]
        y = np.max(taps(as4(x).astype(np.int16), window(node, x.shape), -129), axis=0)
        return [self.shaped(x, y).astype(np.int8)]


@register
class AvgPool(_Pool):
    """y = mean over each window; the divisor counts the pads only with count_include_pad."""

    name = "avgpool"

    def ref_float(self, node, xs):
        x = np.asarray(xs[0], np.float32)
        x4, win = as4(x), window(node, x.shape)
        total = np.sum(taps(x4.astype(np.float64), win, 0.0), axis=0)
        count = tap_count(win, x4.shape[2], x4.shape[3], bool(node.attrs.get("count_include_pad", False)))
        return [self.shaped(x, total / count).astype(np.float32)]

    def ref_int8(self, node, xs):
        # Sum of the int8 values, a counted pad tap holding the zero point (real 0); then
        # divide rounding half away from zero as TFLite's integer average pool does.
        x, zp = xs[0], node.attrs["int8"]["input_zp"]
        x4, win = as4(x), window(node, x.shape)
        valid = tap_count(win, x4.shape[2], x4.shape[3], False)
        count = tap_count(win, x4.shape[2], x4.shape[3], bool(node.attrs.get("count_include_pad", False)))
        total = np.sum(taps(x4.astype(np.int64), win, 0), axis=0) + zp * (count - valid)
        y = np.where(total >= 0, (total + count // 2) // count, -((-total + count // 2) // count))
        return [self.shaped(x, y).astype(np.int8)]
