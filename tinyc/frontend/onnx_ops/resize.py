"""Resize and Upsample lowerings: ONNX's inputs and attributes (roi, scales or sizes, axes,
keep_aspect_ratio_policy, the opset 7-10 forms) resolved to one tap table per axis
(tinyc/ops/resize.py). Every input besides X must be constant.
"""

from __future__ import annotations

import numpy as np

from tinyc.errors import BadInput
from tinyc.ops.resize import COORDINATE_MODES, NEAREST_MODES, axis_taps, is_copy


def _given(b, name: str, what: str) -> np.ndarray | None:
    """A constant optional input, None when absent or empty."""
    if not name:
        return None
    value = b.const(name)
    if value is None:
        raise b.fail(f"{what} must be constant")
    return None if value.size == 0 else np.asarray(value).reshape(-1)


def _output_size(b, shape, axes, scales, sizes, policy):
    """(scale, output size) per axis of X, ONNX's rules: floor(scale x size), or sizes with the policy."""
    scale, out = [1.0] * len(shape), list(shape)
    if (scales is None) == (sizes is None):
        raise b.fail("exactly one of scales and sizes must be given", BadInput)
    if len((scales if sizes is None else sizes)) != len(axes):
        raise b.fail(f"{len(axes)} axes but {len(scales if sizes is None else sizes)} scales or sizes", BadInput)
    if sizes is None:
        for a, s in zip(axes, scales):
            scale[a], out[a] = float(s), int(float(s) * shape[a])
        return scale, out
    ratios = [int(s) / shape[a] for a, s in zip(axes, sizes)]
    if policy not in ("stretch", "not_larger", "not_smaller"):
        raise b.fail(f"keep_aspect_ratio_policy={policy!r} unknown", BadInput)
    for a, s, r in zip(axes, sizes, ratios):
        if policy == "stretch":
            scale[a], out[a] = r, int(s)
        else:  # one scale for every axis, sizes rounded half up
            scale[a] = min(ratios) if policy == "not_larger" else max(ratios)
            out[a] = int(scale[a] * shape[a] + 0.5)
    return scale, out


def _lower(b, n, X, *, scales, sizes, roi=None, axes=None, mode, coord, nearest_mode, cubic_a=-0.75,
           exclude_outside=0, antialias=0, extrapolation_value=0.0, policy="stretch"):
    shape = b.shape(X)
    r = len(shape)
    axes = list(range(r)) if axes is None else [int(a) % r for a in axes]
    if mode not in ("nearest", "linear", "cubic"):
        raise b.fail(f"mode={mode!r}; only 'nearest', 'linear' or 'cubic'")
    if coord not in COORDINATE_MODES:
        raise b.fail(f"coordinate_transformation_mode={coord!r}; only {', '.join(COORDINATE_MODES)}")
    if nearest_mode not in (*NEAREST_MODES, "simple"):
        raise b.fail(f"nearest_mode={nearest_mode!r}; only {', '.join(NEAREST_MODES)}")
    if antialias and mode == "nearest":
        raise b.fail("antialias with mode 'nearest' is undefined", BadInput)
    scale, out = _output_size(b, shape, axes, scales, sizes, policy)
    if 0 in out:
        raise b.fail(f"output shape {out} is empty; empty tensors unsupported")
    box = [(0.0, 1.0)] * r
    if coord == "tf_crop_and_resize":
        if roi is None or len(roi) != 2 * len(axes):
            raise b.fail(f"tf_crop_and_resize needs a constant roi of {2 * len(axes)} values", BadInput)
        for i, a in enumerate(axes):
            box[a] = (float(roi[i]), float(roi[len(axes) + i]))
    tables = []
    for k in range(r):
        # "simple" (Upsample, Resize-10): floor when enlarging, ceil when shrinking
        rule = ("floor" if scale[k] >= 1 else "ceil") if nearest_mode == "simple" else nearest_mode
        taps = axis_taps(shape[k], out[k], scale[k], mode=mode, coord=coord, nearest_mode=rule, cubic_a=cubic_a,
                         exclude_outside=bool(exclude_outside), antialias=bool(antialias), roi=box[k])
        tables.append(None if k not in axes or is_copy(*taps, shape[k]) else taps)
    # coord, scales and antialias let the int8 form pick TFLite's fixed-point taps (tinyc/ops/resize.py)
    b.emit("resize", [X], [n.output[0]], {"shape": tuple(out), "axes": tuple(tables), "mode": mode,
                                          "extrapolation_value": float(extrapolation_value), "coord": coord,
                                          "scales": tuple(scale), "antialias": bool(antialias)})


def Resize(b, n, X, roi="", scales="", sizes="", *, mode="nearest", coordinate_transformation_mode="half_pixel",
           cubic_coeff_a=-0.75, exclude_outside=0, extrapolation_value=0.0, nearest_mode="round_prefer_floor",
           antialias=0, axes=None, keep_aspect_ratio_policy="stretch"):
    if b.opset < 11:  # Resize-10 is (X, scales), Upsample's rules
        _lower(b, n, X, scales=_given(b, roi, "scales"), sizes=None, mode=mode, coord="asymmetric",
               nearest_mode="simple")
        return
    _lower(b, n, X, scales=_given(b, scales, "scales"), sizes=_given(b, sizes, "sizes"), roi=_given(b, roi, "roi"),
           axes=axes, mode=mode, coord=coordinate_transformation_mode, nearest_mode=nearest_mode,
           cubic_a=cubic_coeff_a, exclude_outside=exclude_outside, antialias=antialias,
           extrapolation_value=extrapolation_value, policy=keep_aspect_ratio_policy)


def Upsample(b, n, X, scales_in="", *, mode="nearest", scales=None):
    scales = _given(b, scales_in, "scales") if scales_in else scales  # opset 9: an input; 7: an attribute
    mode = "linear" if mode == "bilinear" else mode
    _lower(b, n, X, scales=None if scales is None else list(scales), sizes=None, mode=mode, coord="asymmetric",
           nearest_mode="simple")


LOWERINGS = {"Resize": Resize, "Upsample": Upsample}
