"""Resize: per-axis tap tables, computed at compile time with ONNX Resize's rules (nearest, linear,
cubic, antialias, every coordinate transformation mode); the C kernel only gathers and blends.

An output element is the sum, over one tap per resized axis, of x at the taps' source indices
times the product of their weights (ONNX resizes axis by axis: the same sum, regrouped).

int8: nearest moves bytes (y keeps x's q). Linear (any axes, antialias included) is TFLite's RESIZE_BILINEAR
int8 kernel (ResizeBilinearInteger) followed by TFLite's int8 -> int8 requantization (its QUANTIZE op):
  v = round_half_away(sum of raw x times the product of per-axis integer weights / 2^(10 x table axes)),
      saturated to int8 (weights are multiples of 1/1024 summing to 1 per output index of an axis);
  y = clamp(y_zp + MultiplyByQuantizedMultiplier(v - x_zp, x_scale / y_scale), -128, 127).
The taps are TFLite's own (coordinates in 1/1024 from scale_10 = round(1024 in / out)) where ONNX's
coordinate_transformation_mode is one TFLite has, asymmetric (both flags off), align_corners (align_corners)
or half_pixel / pytorch_half_pixel (half_pixel_centers; pytorch_half_pixel only when out > 1), and the scale
is out / in. Other modes (half_pixel_symmetric, tf_crop_and_resize, pytorch_half_pixel to one sample),
scales that are not out / in, and antialias keep ONNX's float taps with weights rounded half away to 1/1024,
the largest tap of each row taking the rounding remainder (a row sums to exactly 1024, so a flat input stays
flat); a point outside tf_crop_and_resize's crop is the extrapolation value quantized with y's q. A .tflite
model's bilinear (attrs "rule": "tflm") has TFLite's taps from its frontend and y keeps x's q (identity
requantization). Cubic has no int8 form: it stays float32.
"""

from __future__ import annotations

import numpy as np

from tinyc import quant
from tinyc.errors import UnsupportedOp
from tinyc.ir import Node
from tinyc.ops import KernelCall, Op, register

RESIZE_RANK = 6  # most dims the C kernel walks, after merging axes that are plain copies
MAX_INT8_LINEAR_AXES = 4  # weight products up to 1536^4 x 128 x taps stay well inside int64

COORDINATE_MODES = ("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric",
                    "tf_crop_and_resize")
NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")


def _source_coordinates(out_size: int, in_size: int, scale: float, coord: str, roi: tuple[float, float]):
    """Where each output index samples the input axis (float64), ONNX's coordinate_transformation_mode."""
    y = np.arange(out_size, dtype=np.float64)
    out_f = scale * in_size  # the unrounded output length
    if coord == "align_corners":
        return np.zeros(out_size) if out_f == 1 else y * (in_size - 1) / (out_f - 1)
    if coord == "asymmetric":
        return y / scale
    if coord == "tf_crop_and_resize":
        lo, hi = roi
        x = np.full(out_size, (hi - lo) * (in_size - 1) / 2) if out_f == 1 \
            else y * (hi - lo) * (in_size - 1) / (out_f - 1)
        return x + lo * (in_size - 1)
    if coord == "pytorch_half_pixel":
        return np.full(out_size, -0.5) if out_f == 1 else (y + 0.5) / scale - 0.5
    if coord == "half_pixel":
        return (y + 0.5) / scale - 0.5
    if coord == "half_pixel_symmetric":
        offset = in_size / 2 * (1 - out_size / out_f)
        return offset + (y + 0.5) / scale - 0.5
    raise AssertionError(coord)


def _nearest(ratio: float, rule: str) -> list[float]:
    if ratio == 1.0:  # on a sample: the right-hand tap of the pair is that sample
        return [0.0, 1.0]
    prefer_right = {"round_prefer_floor": ratio > 0.5, "round_prefer_ceil": ratio >= 0.5,
                    "floor": False, "ceil": True}[rule]
    return [0.0, 1.0] if prefer_right else [1.0, 0.0]


def _cubic(ratio: float, a: float) -> list[float]:
    """Keys' cubic convolution weights of the samples at distances 1 + ratio, ratio, 1 - ratio, 2 - ratio."""
    def near(t):  # |t| <= 1
        return ((a + 2) * t - (a + 3)) * t * t + 1

    def far(t):  # 1 < |t| < 2
        return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a

    return [far(1 + ratio), near(ratio), near(1 - ratio), far(2 - ratio)]


def _linear_antialias(ratio: float, scale: float) -> np.ndarray:
    scale = min(scale, 1.0)
    start = int(np.floor(-1 / scale) + 1)
    args = (np.arange(start, start + 2 - 2 * start) - ratio) * scale
    c = np.clip(1 - np.abs(args), 0, 1)
    return c / c.sum()


def _cubic_antialias(ratio: float, scale: float, a: float) -> np.ndarray:
    scale = min(scale, 1.0)
    start = int(np.floor(-2 / scale) + 1)
    x = np.abs(scale * (np.arange(start, 2 - start) - ratio))
    c = np.where(x <= 1, (a + 2) * x ** 3 - (a + 3) * x ** 2 + 1,
                 np.where(x < 2, a * x ** 3 - 5 * a * x ** 2 + 8 * a * x - 4 * a, 0.0))
    return c / c.sum()


def axis_taps(in_size: int, out_size: int, scale: float, *, mode: str, coord: str,
              nearest_mode: str = "round_prefer_floor", cubic_a: float = -0.75, exclude_outside: bool = False,
              antialias: bool = False, roi: tuple[float, float] = (0.0, 1.0)):
    """(index, weight, outside) of one axis: output index i reads input indices index[i, :] with
    weights weight[i, :] (float64), or is the extrapolation value where outside[i] (tf_crop_and_resize).
    Taps of weight 0 are dropped, so nearest has one tap and linear on a sample point one."""
    x = _source_coordinates(out_size, in_size, scale, coord, roi)
    outside = (x < 0) | (x > in_size - 1) if coord == "tf_crop_and_resize" else np.zeros(out_size, bool)
    x_floor = np.floor(x)
    ratios = np.where(x == x_floor, 1.0, x - x_floor)  # in (0, 1]: the left neighbour is preferred
    if mode == "nearest":
        coeffs = np.array([_nearest(r, nearest_mode) for r in ratios])
    elif mode == "linear":
        coeffs = np.array([_linear_antialias(r, scale) if antialias else [1 - r, r] for r in ratios])
    else:
        coeffs = np.array([_cubic_antialias(r, scale, cubic_a) if antialias else _cubic(r, cubic_a)
                           for r in ratios])
    n = coeffs.shape[1]
    # The n samples nearest x (ties to the smaller index), as ONNX's reference picks them
    pad = -(-n // 2)
    p = np.floor(x + pad)
    frac = x + pad - p
    if n % 2 == 0:
        start = p + np.where(frac == 0, -(n // 2), -(n // 2) + 1)
    else:
        start = p + np.where(frac <= 0.5, -((n - 1) // 2), -((n - 1) // 2) + 1)
    index = start.astype(np.int64)[:, None] + np.arange(n) - pad
    if exclude_outside:
        coeffs = np.where((index < 0) | (index >= in_size), 0.0, coeffs)
        total = coeffs.sum(axis=1, keepdims=True)
        coeffs = coeffs / np.where(total == 0, 1.0, total)
    index = np.clip(index, 0, in_size - 1)  # edge padding
    return (*_compact(index, coeffs), outside)


def _compact(index: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge taps on the same input index and drop zero weights; rows padded with weight 0."""
    rows = []
    for idx, w in zip(index, weight):
        merged: dict[int, float] = {}
        for i, v in zip(idx.tolist(), w.tolist()):
            merged[i] = merged.get(i, 0.0) + v
        rows.append([(i, v) for i, v in merged.items() if v != 0.0] or [(int(idx[0]), 0.0)])
    taps = max(len(r) for r in rows)
    rows = [r + [(r[0][0], 0.0)] * (taps - len(r)) for r in rows]
    return np.array([[i for i, _ in r] for r in rows], np.int32), np.array([[v for _, v in r] for r in rows])


def tflite_bilinear_taps(n_in: int, n_out: int, align: bool, half: bool) -> tuple:
    """(index, weight, outside) of TFLite's int8 bilinear on one axis (ResizeBilinearInteger): source
    coordinates in 1/1024 from scale_10 = round(1024 * n_in / n_out), weights k / 1024 (as float64)."""
    s10 = ((1 << 10) * n_in + n_out // 2) // n_out
    if align and n_out > 1:
        s10 = ((1 << 10) * (n_in - 1) + (n_out - 1) // 2) // (n_out - 1)
    rows, weights = [], []
    for v in range(n_out):
        at = v * s10 + s10 // 2 - (1 << 9) if half else v * s10
        lo, hi = max(_tdiv(at, 1024), 0), min(_tdiv(at + 1023, 1024), n_in - 1)
        rows.append([lo, hi])
        weights.append([(1024 - (at - 1024 * lo)) / 1024, (at - 1024 * lo) / 1024])
    index, weight = _compact(np.array(rows), np.array(weights, np.float64))
    return index, weight, np.zeros(n_out, bool)


def _tdiv(a: int, b: int) -> int:
    """C's integer division (truncates toward zero), b > 0."""
    return -((-a) // b) if a < 0 else a // b


# ONNX coordinate modes TFLite's bilinear has: (align_corners, half_pixel_centers)
_TFLITE_COORDS = {"asymmetric": (False, False), "align_corners": (True, False), "half_pixel": (False, True),
                  "pytorch_half_pixel": (False, True)}


def _fixed_point_axis(node: Node, k: int, axis: tuple, in_size: int) -> tuple:
    """Axis k's (index, weight k / 1024, outside) for int8 linear: TFLite's own taps where its bilinear
    has the ONNX coordinate mode (and the scale is out / in), else ONNX's taps with weights rounded."""
    out_size = node.attrs["shape"][k]
    if node.attrs.get("rule") == "tflm":  # the .tflite frontend built TFLite's taps already
        return axis
    flags = _TFLITE_COORDS.get(node.attrs.get("coord", ""))
    scales = node.attrs.get("scales")
    exact_scale = scales is not None and abs(scales[k] * in_size - out_size) <= 1e-9 * out_size
    if flags and exact_scale and not node.attrs.get("antialias") and axis[0].shape[1] <= 2 and \
            not (node.attrs["coord"] == "pytorch_half_pixel" and out_size == 1):
        return tflite_bilinear_taps(in_size, out_size, *flags)
    return axis[0], _round_to_1024(axis[1]), axis[2]


def _round_to_1024(weight: np.ndarray) -> np.ndarray:
    """Weights rounded half away to multiples of 1/1024, each row's largest tap taking the rounding
    remainder so a row still sums to exactly 1 (a flat input stays flat)."""
    w = quant.round_half_away(weight * 1024).astype(np.int64)
    rows = np.arange(len(w))
    w[rows, np.argmax(np.abs(weight), axis=1)] += 1024 - w.sum(axis=1)
    return w / 1024


def is_copy(index: np.ndarray, weight: np.ndarray, outside: np.ndarray, in_size: int) -> bool:
    """Whether an axis's table is the identity (no resize along it)."""
    return (index.shape == (in_size, 1) and np.array_equal(index[:, 0], np.arange(in_size))
            and np.all(weight == 1.0) and not outside.any())


@register
class Resize(Op):
    """y = x resampled with attrs["axes"]: one (index, weight, outside) per input axis, None for a copy
    axis; attrs["shape"] is y's shape, attrs["extrapolation_value"] fills outside points.
    int8 for nearest and linear (the module docstring gives the integer rule); attrs "coord", "scales" and
    "antialias" (ONNX's) let linear pick TFLite's fixed-point taps."""

    name = "resize"

    def infer_shape(self, node, in_shapes):
        shape = tuple(node.attrs["shape"])
        for k, (axis, d_in, d_out) in enumerate(zip(node.attrs["axes"], in_shapes[0], shape)):
            assert (axis is None and d_in == d_out) or (axis is not None and axis[0].shape[0] == d_out), \
                f"resize axis {k}: {d_in} -> {d_out}"
        return [shape]

    def ref_float(self, node, xs):
        y = xs[0].astype(np.float64)
        for k, axis in enumerate(node.attrs["axes"]):
            if axis is not None:
                index, weight, _ = axis
                shape = [1] * k + list(weight.shape) + [1] * (y.ndim - k - 1)
                y = (np.take(y, index, axis=k) * weight.reshape(shape)).sum(axis=k + 1)
        return [np.where(self._outside(node), node.attrs["extrapolation_value"], y).astype(np.float32)]

    @staticmethod
    def _outside(node: Node) -> np.ndarray:
        mask = np.zeros(node.attrs["shape"], bool)
        for k, axis in enumerate(node.attrs["axes"]):
            if axis is not None:
                mask |= axis[2].reshape([-1 if j == k else 1 for j in range(mask.ndim)])
        return mask

    @staticmethod
    def _is_nearest(node: Node) -> bool:
        return all(a is None or (a[1].shape[1] == 1 and np.all(a[1] == 1.0)) for a in node.attrs["axes"])

    def output_qparams(self, node, g, calibrated):
        tflm = node.attrs.get("rule") == "tflm"  # TFLite's RESIZE_BILINEAR requires y to keep x's q
        return [g.tensors[node.inputs[0]].q] if self._is_nearest(node) or tflm else calibrated

    def quantize(self, node, g):
        x_q, y_q = g.tensors[node.inputs[0]].q, g.tensors[node.outputs[0]].q
        value = int(quant.quantize_array(np.array([node.attrs["extrapolation_value"]]), y_q)[0])
        if self._is_nearest(node):
            return Node(node.name, node.op, list(node.inputs), list(node.outputs),
                        {**node.attrs, "int8": {"value": value}})
        if node.attrs["mode"] != "linear":
            raise UnsupportedOp(f"node {node.name!r} (resize): mode {node.attrs['mode']!r} has no int8 form "
                                "(nearest and linear have); it stays float32")
        tables = sum(a is not None for a in node.attrs["axes"])
        if tables > MAX_INT8_LINEAR_AXES:
            raise UnsupportedOp(f"node {node.name!r} (resize): int8 linear over {tables} axes; at most "
                                f"{MAX_INT8_LINEAR_AXES} (the 1/1024 weight products fill int64)")
        in_shape = g.tensors[node.inputs[0]].shape
        axes = tuple(None if a is None else _fixed_point_axis(node, k, a, in_shape[k])
                     for k, a in enumerate(node.attrs["axes"]))
        weights = [np.rint(a[1] * 1024).astype(np.int64) for a in axes if a is not None]
        m, sh = quant.quantize_multiplier(float(x_q.scale[0]) / float(y_q.scale[0]))
        int8 = {"value": value, "weights": weights, "shift": 10 * len(weights), "input_zp": int(x_q.zero_point[0]),
                "output_zp": int(y_q.zero_point[0]), "multiplier": int(m), "requant_shift": int(sh)}
        return Node(node.name, node.op, list(node.inputs), list(node.outputs),
                    {**node.attrs, "axes": axes, "int8": int8})

    def ref_int8(self, node, xs):
        p = node.attrs["int8"]
        if "weights" not in p:  # nearest: bytes move
            y = xs[0]
            for k, axis in enumerate(node.attrs["axes"]):
                if axis is not None:
                    y = np.take(y, axis[0][:, 0], axis=k)
            return [np.where(self._outside(node), np.int8(p["value"]), y).astype(np.int8)]
        y, weights = xs[0].astype(np.int64), iter(p["weights"])
        for k, axis in enumerate(node.attrs["axes"]):
            if axis is not None:
                w = next(weights)
                shape = [1] * k + list(w.shape) + [1] * (y.ndim - k - 1)
                y = (np.take(y, axis[0], axis=k) * w.reshape(shape)).sum(axis=k + 1)
        half = np.int64(1) << (p["shift"] - 1)
        y = np.where(y > 0, y + half, y - half)
        v = quant.saturate(np.sign(y) * (np.abs(y) >> p["shift"]))  # C division truncates
        y = quant.requantize(v.astype(np.int64) - p["input_zp"], p["multiplier"], p["requant_shift"])
        y = np.clip(y + p["output_zp"], -128, 127)
        return [np.where(self._outside(node), p["value"], y).astype(np.int8)]

    def kernel(self, node, g):
        in_shape = g.tensors[node.inputs[0]].shape
        s8 = g.tensors[node.outputs[0]].dtype == "int8"
        loops, weights = resize_loops(node, in_shape)
        if s8 and "weights" in node.attrs["int8"]:
            p = node.attrs["int8"]
            params = {"loops": loops, "weights": np.rint(weights * 1024).astype(np.int32), "shift": p["shift"],
                      **{k: p[k] for k in ("input_zp", "output_zp", "multiplier", "requant_shift", "value")}}
            return KernelCall("tinyc_resize_linear_s8", "tinyc_resize", "tinyc_resize_linear_s8_params", params,
                              [node.inputs[0], node.outputs[0]])
        if s8:
            params = {"loops": loops, "value": node.attrs["int8"]["value"]}
        else:
            params = {"loops": loops, "weights": weights.astype(np.float32),
                      "value": float(node.attrs["extrapolation_value"])}
        kernel = "tinyc_resize_s8" if s8 else "tinyc_resize_f32"
        return KernelCall(kernel, "tinyc_resize", kernel + "_params", params, [node.inputs[0], node.outputs[0]])


def resize_loops(node: Node, in_shape: tuple) -> tuple[dict, np.ndarray]:
    """The tinyc_resize_loops struct (copy axes, size-1 ones dropped, neighbours merged; table axes with
    their taps; a table holds input element offsets (index x stride), -1 at tap 0 where outside) and the
    tables' weights in the same order (float64)."""
    strides = [int(np.prod(in_shape[k + 1:])) for k in range(len(in_shape))]
    dims, taps, copy_strides, starts, offsets, weights = [], [], [], [], [], []
    used = 0
    for k, axis in enumerate(node.attrs["axes"]):
        if axis is None:
            if in_shape[k] == 1:
                continue
            if dims and taps[-1] == 0 and copy_strides[-1] == strides[k] * in_shape[k]:
                dims[-1], copy_strides[-1] = dims[-1] * in_shape[k], strides[k]
                continue
            dims.append(in_shape[k])
            taps.append(0)
            copy_strides.append(strides[k])
            starts.append(0)
            continue
        index, weight, outside = axis
        table = index.astype(np.int64) * strides[k]
        table[outside, 0] = -1
        dims.append(index.shape[0])
        taps.append(index.shape[1])
        copy_strides.append(0)
        starts.append(used)
        used += index.size
        offsets.append(table.reshape(-1))
        weights.append(weight.reshape(-1))
    if not dims:
        dims, taps, copy_strides, starts = [1], [0], [1], [0]
    if len(dims) > RESIZE_RANK:
        raise UnsupportedOp(f"node {node.name!r} (resize): {len(dims)} loops after merging copy axes; "
                            f"at most {RESIZE_RANK}")
    i32 = lambda v: np.array(v, np.int32)  # noqa: E731
    loops = {"rank": len(dims), "dims": i32(dims), "taps": i32(taps), "strides": i32(copy_strides),
             "table_start": i32(starts), "offsets": i32(np.concatenate(offsets) if offsets else [0])}
    return loops, np.concatenate(weights) if weights else np.ones(1)
