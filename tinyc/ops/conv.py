"""conv2d: grouped 2-D (and 1-D) convolution with fused activation, float32 and int8.

Semantics only; the ONNX Conv lowering (auto_pad, 1-D attrs) lives in the frontend.
"""

from __future__ import annotations

import numpy as np

from tinyc import quant
from tinyc.ir import Graph, Node
from tinyc.ops import KernelCall, Op, common, register
from tinyc.sparse import kernel_weights


def _geometry(node: Node, x_shape: tuple[int, ...], w_shape: tuple[int, ...]) -> dict:
    """The tinyc_conv_geometry struct: NCHW shapes (1-D: h = 1), kernel, stride, pads, dilation."""
    a = node.attrs
    (sh, sw), (dh, dw), group = a["strides"], a["dilations"], int(a["group"])
    top, left, bottom, right = a["pads"]
    co, ci_g, kh, kw = w_shape
    x4 = common.shape4(x_shape)
    assert x4["c"] == ci_g * group and co % group == 0, \
        f"node {node.name!r} (conv2d): input {x_shape}, weight {w_shape}, group {group}"
    oh = common.spatial_out(x4["h"], kh, sh, top, bottom, dh)
    ow = common.spatial_out(x4["w"], kw, sw, left, right, dw)
    assert oh > 0 and ow > 0, f"node {node.name!r} (conv2d): empty output {oh}x{ow}"
    return {"input": x4, "output": {"n": x4["n"], "c": co, "h": oh, "w": ow},
            "kernel_h": kh, "kernel_w": kw, "stride_h": sh, "stride_w": sw,
            "pad_top": top, "pad_left": left, "dilation_h": dh, "dilation_w": dw, "groups": group}


def _out_shape(geom: dict, rank: int) -> tuple[int, ...]:
    o = geom["output"]
    return (o["n"], o["c"], o["w"]) if rank == 3 else (o["n"], o["c"], o["h"], o["w"])


def _in_rank(y4: np.ndarray, rank: int) -> np.ndarray:
    """y4 (N, Co, OH, OW) in the input's rank: NCL drops the unit height."""
    return np.ascontiguousarray(y4[:, :, 0, :]) if rank == 3 else y4


def _conv_f64(x: np.ndarray, w: np.ndarray, node: Node) -> np.ndarray:
    """Grouped conv of float64 arrays x (NCHW or NCL) and w (Co, Ci/g, KH, KW), padding with 0.

    im2col by slicing, then one batched BLAS matmul per group; exact for integer-valued
    inputs below 2**53, so the int8 reference uses it too. Returns (N, Co, OH, OW).
    """
    geom = _geometry(node, x.shape, w.shape)
    x4 = common.as4(x)
    top, left, bottom, right = node.attrs["pads"]
    xp = np.pad(x4, ((0, 0), (0, 0), (top, bottom), (left, right)))
    n, c = x4.shape[:2]
    co, ci_g, kh, kw = w.shape
    oh, ow = geom["output"]["h"], geom["output"]["w"]
    sh, sw, dh, dw = geom["stride_h"], geom["stride_w"], geom["dilation_h"], geom["dilation_w"]
    taps = [xp[:, :, i * dh: i * dh + sh * (oh - 1) + 1: sh, j * dw: j * dw + sw * (ow - 1) + 1: sw]
            for i in range(kh) for j in range(kw)]
    cols = np.stack(taps, axis=2)  # (N, C, KH*KW, OH, OW); channel-major like w's (Ci/g, KH, KW)
    g = geom["groups"]
    cols = cols.reshape(n, g, ci_g * kh * kw, oh * ow)
    y = np.matmul(w.reshape(g, co // g, ci_g * kh * kw), cols)  # (N, G, Co/g, OH*OW)
    return y.reshape(n, co, oh, ow)


SPARSE_COLUMNS_MIN_COUT = 2  # output channels per group from which the sparse conv fills columns
SMALLK = 144  # runtime_c/tinyc_conv.h TINYC_CONV_SMALLK: the stack columns of tinyc_conv2d_smallk_s8 (1,152 B)


def im2col_weights(wq: np.ndarray, groups: int) -> tuple[int, np.ndarray]:
    """(k_padded, Co * k_padded / 4 int32 words of 4 int8, byte j = bits 8j..8j+7) for tinyc_conv2d_s8.

    Rows w[oc] flattened (Ci/g, KH, KW) and zero padded to k_padded (a multiple of 4); half = k_padded / 2,
    and k pairs with k + half (the column layout of tinyc_conv.c). Per group, blocks of 4 channels, then
    2, then 1: a block of 4 holds per pair q the words (c0[q], c1[q], c0[q + half], c1[q + half]) and the
    same for c2, c3; a block of 2 the first word only; a lone channel per two pairs q, q + 1 the word
    (w[q], w[q + 1], w[q + half], w[q + 1 + half]).
    """
    co = wq.shape[0]
    k = wq[0].size
    kp = -(-k // 4) * 4
    half = kp // 2
    rows = np.zeros((co, kp), np.int8)
    rows[:, :k] = wq.reshape(co, k)
    lo, hi = rows[:, :half], rows[:, half:]
    out = []
    for grp in np.split(np.arange(co), groups):
        m = 0
        while m < len(grp):
            n = 4 if len(grp) - m >= 4 else 2 if len(grp) - m >= 2 else 1
            c = grp[m:m + n]
            if n == 1:
                out.append(np.stack([lo[c[0], 0::2], lo[c[0], 1::2], hi[c[0], 0::2], hi[c[0], 1::2]], axis=1).ravel())
            else:  # per pair q: the words of channel pairs (c0, c1), (c2, c3)
                words = [np.stack([lo[c[i]], lo[c[i + 1]], hi[c[i]], hi[c[i + 1]]], axis=1) for i in range(0, n, 2)]
                out.append(np.stack(words, axis=1).ravel())
            m += n
    return kp, np.concatenate(out).view("<i4").astype(np.int32)


CHUNKED_FAMILY = "tinyc_conv_chunked"  # its kernels: only a Helium build links them (tinyc.fit counts it so)
CHUNK = 16  # runtime_c/tinyc_conv_chunked.h TINYC_CONV_CHUNK
CHUNKED_PIXELS = 8  # runtime_c/tinyc_conv_chunked.h TINYC_CONV_CHUNKED_PIXELS: columns filled at a time


def chunked_weights(wq: np.ndarray, groups: int) -> tuple[int, np.ndarray]:
    """(k_padded, Co * k_padded / 4 int32 words of 4 int8) for tinyc_conv2d_chunked_s8 (Helium).

    Rows w[oc] flattened (Ci/g, KH, KW) and zero padded to k_padded (a multiple of CHUNK). Per group, blocks
    of 4 channels hold per chunk of CHUNK k the 4 channels' bytes one after the other; the last Co/g % 4
    channels their rows whole.
    """
    co = wq.shape[0]
    k = wq[0].size
    kp = -(-k // CHUNK) * CHUNK
    rows = np.zeros((co, kp), np.int8)
    rows[:, :k] = wq.reshape(co, k)
    out = []
    for grp in np.split(rows, groups):
        whole = len(grp) // 4 * 4
        out.append(grp[:whole].reshape(-1, 4, kp // CHUNK, CHUNK).transpose(0, 2, 1, 3).ravel())
        out.append(grp[whole:].ravel())
    return kp, np.concatenate(out).view("<i4").astype(np.int32)


def _chunked_scratch(kp: int) -> int:
    """Bytes of tinyc_conv2d_chunked_s8's scratch: CHUNKED_PIXELS columns of k_padded + CHUNK bytes."""
    return CHUNKED_PIXELS * (kp + CHUNK)


DW_STACK_BYTES = 1024  # runtime_c/tinyc_depthwise.h TINYC_DW_STACK_BYTES


def _sparse_columns(geom: dict) -> bool:
    """The sparse conv fills columns of 4 pixels (tinyc_conv2d_*_cols_s8, scratch 8 K + 42 Co bytes) when a
    group has enough output channels to share them; else (depthwise) it reads the taps straight."""
    return geom["output"]["c"] // geom["groups"] >= SPARSE_COLUMNS_MIN_COUT


def is_1x1_unpadded(node, w_shape) -> bool:
    """A 2-D 1x1 conv with stride 1 and no padding (any groups): each output plane is one pixel per input
    pixel, so kernels may run a plane as one row (tinyc_pointwise, tinyc_sparse_conv's tinyc_spc_flat)."""
    return len(w_shape) == 4 and tuple(w_shape[2:]) == (1, 1) \
        and all(s == 1 for s in node.attrs.get("strides", (1, 1))) and not any(node.attrs.get("pads", (0, 0, 0, 0)))


def _depthwise_3x3(geom: dict) -> bool:
    """tinyc_depthwise_3x3_s8 handles it: 3x3, dilation 1, strides 1 or 2."""
    return (geom["kernel_h"], geom["kernel_w"], geom["dilation_h"], geom["dilation_w"]) == (3, 3, 1, 1) \
        and geom["stride_h"] in (1, 2) and geom["stride_w"] in (1, 2)


def _depthwise_3x3_scratch(geom: dict) -> int:
    """Bytes of tinyc_depthwise_3x3_s8's scratch: NB padded rows of R bytes, then max(OW, 32) + 2 int32
    sums (tinyc_dw_row_bytes, tinyc_dw_band_rows, TINYC_DW_ROWS_BYTES = 512 and TINYC_DW_SUMS = 32 in C)."""
    out_w = geom["output"]["w"]
    row = max(geom["pad_left"] + geom["input"]["w"], geom["stride_w"] * ((out_w + 1) & ~1) + 2)
    row = (row + 3) & ~3
    rows = min(max(512 // row, 3), (geom["output"]["h"] - 1) * geom["stride_h"] + 3)
    return rows * row + 4 * (max(out_w, 32) + 2)


def _depthwise_cols_scratch(geom: dict) -> int:
    """Bytes of tinyc_depthwise_cols_s8's scratch: P columns of C words and P int32 sums
    (tinyc_dw_col_words, tinyc_dw_col_pixels and TINYC_DW_COLS_BYTES = 1024 in C)."""
    k = geom["kernel_h"] * geom["kernel_w"]
    words = (k & ~3) // 2 + (k & 3)
    pixels = min(max(1024 // (4 * words), 2), geom["output"]["h"] * geom["output"]["w"])
    pixels = (pixels + 1) & ~1
    return 4 * pixels * (words + 1)


FIRST_ROWS = 12  # runtime_c/tinyc_conv_first.h: Ci * KH kernel rows at most (18 pairs of its unrolled leaf)


def _first_layer(geom: dict) -> bool:
    """tinyc_conv2d_first_s8 takes it: groups 1, a few input channels (Ci * KH <= 12), KW = 3, dilation_w 1."""
    return geom["groups"] == 1 and geom["kernel_w"] == 3 and geom["dilation_w"] == 1 \
        and geom["input"]["c"] * geom["kernel_h"] <= FIRST_ROWS


def first_scratch_bytes(geom: dict, k_padded: int) -> int:
    """tinyc_conv2d_first_s8's scratch: its weights (C2 x P words, C2 = Co rounded up to even), 4 pixels'
    columns (4 P words), 24 bytes of output constants per channel (P = R + ceil(R / 2), R = Ci * KH); at
    least the 8 k_padded of tinyc_conv2d_s8, which it falls back on."""
    rows = geom["input"]["c"] * geom["kernel_h"]
    pairs = rows + (rows + 1) // 2
    co = geom["output"]["c"]
    c2 = (co + 1) & ~1
    return max(4 * (c2 * pairs + 4 * pairs) + 24 * co, 8 * k_padded)


@register
class Conv2d(Op):
    """y = conv(x, w, groups) + b, then the fused clamp; x NCHW or NCL, w (Co, Ci/g, KH, KW)."""

    name = "conv2d"

    def infer_shape(self, node, in_shapes):
        bias = in_shapes[2] if len(in_shapes) > 2 else None
        assert len(in_shapes[1]) == 4 and bias in (None, (in_shapes[1][0],)), f"weight {in_shapes[1]}, bias {bias}"
        return [_out_shape(_geometry(node, in_shapes[0], in_shapes[1]), len(in_shapes[0]))]

    def macs(self, node, in_shapes, out_shapes):
        co, ci_g, kh, kw = in_shapes[1]
        return int(np.prod(out_shapes[0])) * ci_g * kh * kw

    def ref_float(self, node, xs):
        x, w, b = xs
        y = _conv_f64(x.astype(np.float64), w.astype(np.float64), node)
        if b is not None:
            y += b.astype(np.float64)[None, :, None, None]
        return [common.apply_act_float(node, _in_rank(y, x.ndim))]

    def quantize(self, node: Node, g: Graph) -> Node:
        return common.quantize_weighted(node, g)

    def ref_int8(self, node, xs):
        x, w, b = xs
        p = node.attrs["int8"]
        # Padding holds input_zp (real 0), so pad (x - input_zp) with 0.
        acc = _conv_f64(x.astype(np.float64) - p["input_zp"], w.astype(np.float64), node)
        acc = np.rint(acc).astype(np.int64)
        if b is not None:  # added with int32 saturation, as the C kernel: a clipped bias must not wrap
            acc = np.clip(acc + b.astype(np.int64)[None, :, None, None], quant.INT32_MIN, quant.INT32_MAX)
        v = quant.requantize(acc, p["multiplier"][None, :, None, None], p["shift"][None, :, None, None])
        y = quant.saturate(v + p["output_zp"], p["act_min"], p["act_max"])
        return [_in_rank(y, x.ndim)]

    def kernel(self, node, g):
        x, w, b = node.inputs
        y = node.outputs[0]
        geom = _geometry(node, g.tensors[x].shape, g.tensors[w].shape)
        # one input channel counts as depthwise (a multiplier-Co one): tinyc_depthwise_cols_s8 runs kws_dscnn's
        # first layer as fast as the im2col kernel and keeps tinyc_conv out of its firmware (3 KB of code)
        depthwise = geom["groups"] == geom["input"]["c"]
        op, family = ("depthwise_conv2d", "tinyc_depthwise") if depthwise else ("conv2d", "tinyc_conv")
        if common.out_dtype(node, g) == "float32":
            params = {"geom": geom, "clamp": common.act_clamp_f32(node)}
            return KernelCall(f"tinyc_{op}_f32", family, "tinyc_conv2d_f32_params", params, [x, w, b, y])
        p = node.attrs["int8"]
        params = {"geom": geom, "input_zp": p["input_zp"], "output_zp": p["output_zp"],
                  "requant": {"multiplier": p["multiplier"], "shift": p["shift"]},
                  "clamp": {"min": p["act_min"], "max": p["act_max"]}}
        fmt = g.tensors[w].format
        if fmt != "dense":  # the encoding goes in params; the dense weight is neither passed nor emitted
            kind = "csr" if fmt == "csr" else "nm"
            params["weights"] = kernel_weights(g.tensors[w].data, fmt)
            ptype = f"tinyc_conv2d_{kind}_s8_params"
            if _sparse_columns(geom):
                k = g.tensors[w].data[0].size
                return KernelCall(f"tinyc_conv2d_{kind}_cols_s8", "tinyc_sparse_conv", ptype, params, [x, b, y],
                                  scratch_bytes=8 * k + 42 * geom["output"]["c"])
            return KernelCall(f"tinyc_conv2d_{kind}_s8", "tinyc_sparse_conv", ptype, params, [x, b, y])
        wq = g.tensors[w].data
        params["weight_sums"] = wq.reshape(wq.shape[0], -1).astype(np.int32).sum(axis=1, dtype=np.int32)
        pointwise = geom["groups"] == 1 and is_1x1_unpadded(node, g.tensors[w].shape)
        if pointwise:  # its own kernel: the DSP loop assumes x[ci] and y[co] planes of the same size
            op, family = "conv2d_1x1", "tinyc_pointwise"
            if 64 < geom["input"]["c"] <= 512:  # the DSP pair buffer (8 pixels) in scratch: past the 1 KiB of stack
                return KernelCall("tinyc_conv2d_1x1_wide_s8", family, "tinyc_conv2d_s8_params", params, [x, w, b, y],
                                  scratch_bytes=16 * geom["input"]["c"])
            return KernelCall(f"tinyc_{op}_s8", family, "tinyc_conv2d_s8_params", params, [x, w, b, y])
        if depthwise and _depthwise_3x3(geom):  # padded rows in scratch, 2 output columns per step
            scratch = _depthwise_3x3_scratch(geom)
            if scratch <= DW_STACK_BYTES:  # on the stack: no arena bytes at a small layer's peak
                return KernelCall("tinyc_depthwise_3x3_small_s8", family, "tinyc_conv2d_s8_params", params,
                                  [x, w, b, y])
            return KernelCall("tinyc_depthwise_3x3_s8", family, "tinyc_conv2d_s8_params", params, [x, w, b, y],
                              scratch_bytes=scratch)
        if depthwise:  # any other geometry: gathered columns shared by the multiplier's channels
            scratch = _depthwise_cols_scratch(geom)
            if scratch <= DW_STACK_BYTES + 256:  # on the stack, as above (mnist8_cnn first layer: 1,120 B)
                return KernelCall("tinyc_depthwise_cols_small_s8", family, "tinyc_conv2d_s8_params", params,
                                  [x, w, b, y])
            return KernelCall("tinyc_depthwise_cols_s8", family, "tinyc_conv2d_s8_params", params, [x, w, b, y],
                              scratch_bytes=scratch)
        if g.helium:  # the layout Helium reads 4 channels x 2 pixels from with 6 loads and 8 VMLADAVA per chunk
            params["k_padded"], params["weights"] = chunked_weights(wq, geom["groups"])
            family = CHUNKED_FAMILY
            if params["k_padded"] <= SMALLK:  # columns on the stack, as tinyc_conv2d_smallk_s8
                return KernelCall("tinyc_conv2d_chunked_small_s8", family, "tinyc_conv2d_im2col_s8_params", params,
                                  [x, b, y])
            return KernelCall("tinyc_conv2d_chunked_s8", family, "tinyc_conv2d_im2col_s8_params", params, [x, b, y],
                              scratch_bytes=_chunked_scratch(params["k_padded"]))
        params["k_padded"], params["weights"] = im2col_weights(wq, geom["groups"])
        if _first_layer(geom):  # its own kernel on the DSP cores: columns from word loads, weights as int16 pairs
            return KernelCall("tinyc_conv2d_first_s8", family, "tinyc_conv2d_im2col_s8_params", params, [x, b, y],
                              scratch_bytes=first_scratch_bytes(geom, params["k_padded"]))
        if params["k_padded"] <= SMALLK:  # columns on the stack: no arena scratch at a small layer's peak
            return KernelCall("tinyc_conv2d_smallk_s8", family, "tinyc_conv2d_im2col_s8_params", params, [x, b, y])
        return KernelCall("tinyc_conv2d_s8", family, "tinyc_conv2d_im2col_s8_params", params, [x, b, y],
                          scratch_bytes=8 * params["k_padded"])

