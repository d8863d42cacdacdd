"""One-node ConvTranspose and linear Resize models for the int8 tests (tests/unit/test_spatial_int8.py,
tests/host/test_spatial_int8.py, tests/qemu/test_spatial_int8_qemu.py): a spread of strides, pads, groups,
dilations, output_padding, scale factors, coordinate modes, axes and antialias; seeded calibration and
test inputs."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import onnx

from tests.onnx_cases import i64, one_node_model
from tinyc import pipeline

NO = ("", None)


def f32(*values):
    return np.array(values, np.float32)


# (x shape, Co, kernel, attrs): the float tests' layers (tests/host/test_conv_transpose.py) and more
CONV_TRANSPOSE = {
    "k3_plain": ((1, 3, 5, 5), 2, (3, 3), {}),
    "k4_s2_p1": ((1, 4, 4, 4), 3, (4, 4), {"strides": [2, 2], "pads": [1, 1, 1, 1]}),
    "k3_s2_p1_op1": ((1, 5, 7, 6), 4, (3, 3), {"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]}),
    "s3x2_op": ((1, 3, 5, 7), 5, (3, 2), {"strides": [3, 2], "output_padding": [2, 1]}),
    "group2_uneven_pads": ((1, 6, 5, 3), 4, (3, 3), {"group": 2, "strides": [2, 1], "pads": [0, 1, 2, 1]}),
    "group3_dilated": ((1, 6, 4, 5), 9, (2, 3), {"group": 3, "dilations": [2, 1], "strides": [1, 3]}),
    "depthwise": ((1, 4, 3, 5), 4, (3, 3), {"group": 4, "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    "batch2_k5x1": ((2, 3, 3, 4), 2, (5, 1), {"strides": [3, 1], "pads": [2, 0, 1, 0]}),
    "one_pixel": ((1, 1, 1, 1), 3, (3, 3), {"strides": [2, 2]}),
    "conv1d": ((1, 3, 9), 2, (5,), {"strides": [3], "pads": [1, 2], "output_padding": [1]}),
    "same_upper": ((1, 2, 6, 5), 3, (3, 3), {"strides": [2, 2], "auto_pad": "SAME_UPPER"}),
    "dilated2_s2_op": ((1, 3, 4, 4), 5, (3, 3), {"strides": [2, 2], "dilations": [2, 2], "output_padding": [1, 1]}),
}


def conv_transpose_model(name: str) -> onnx.ModelProto:
    xs, co, kernel, attrs = CONV_TRANSPOSE[name]
    rng = np.random.default_rng(sorted(CONV_TRANSPOSE).index(name))
    group = attrs.get("group", 1)
    w = rng.normal(0, 0.5, (xs[1], co // group, *kernel)).astype(np.float32)
    if group > 1:  # groups of very different magnitude: each output channel needs its own weight scale
        w *= np.repeat(np.geomspace(0.1, 1, group), xs[1] // group).astype(np.float32)[:, None, None, None]
    b = rng.normal(0, 0.5, co).astype(np.float32)
    inputs = [("x", xs), ("w", w), ("b", b) if len(name) % 2 else NO]
    return one_node_model("ConvTranspose", inputs, attrs, 13)


def _resize(shape, *, scales=None, sizes=None, roi=None, opset=13, **attrs):
    inputs = [("x", shape), ("roi", roi) if roi is not None else NO,
              ("scales", f32(*scales)) if scales else NO, ("sizes", i64(*sizes)) if sizes else NO]
    return one_node_model("Resize", inputs, dict(attrs, mode=attrs.get("mode", "linear")), opset)


RESIZE = {  # mode linear unless said
    "half_pixel_x2": dict(shape=(1, 3, 5, 4), scales=(1, 1, 2, 2), coordinate_transformation_mode="half_pixel"),
    "pytorch_half_pixel_odd": dict(shape=(1, 2, 7, 5), sizes=(1, 2, 11, 9),
                                   coordinate_transformation_mode="pytorch_half_pixel"),
    "pytorch_half_pixel_to_one_row": dict(shape=(1, 2, 7, 5), sizes=(1, 2, 1, 9),
                                          coordinate_transformation_mode="pytorch_half_pixel"),
    "align_corners_x2": dict(shape=(1, 3, 5, 4), scales=(1, 1, 2, 2), coordinate_transformation_mode="align_corners"),
    "align_corners_odd": dict(shape=(1, 2, 7, 5), sizes=(1, 2, 11, 3), coordinate_transformation_mode="align_corners"),
    "asymmetric_x3": dict(shape=(1, 3, 4, 5), scales=(1, 1, 3, 3), coordinate_transformation_mode="asymmetric"),
    "half_pixel_down": dict(shape=(1, 3, 9, 10), sizes=(1, 3, 4, 7), coordinate_transformation_mode="half_pixel"),
    "linear_1d_scale_2_5": dict(shape=(1, 4, 9), scales=(1, 1, 2.5), coordinate_transformation_mode="half_pixel"),
    "three_axes": dict(shape=(1, 3, 4, 5), sizes=(1, 5, 6, 8), coordinate_transformation_mode="half_pixel"),
    "axes_attr": dict(shape=(2, 3, 4, 5), sizes=(7, 9), axes=[2, 3], opset=18,
                      coordinate_transformation_mode="asymmetric"),
    "antialias_down": dict(shape=(1, 2, 12, 11), sizes=(1, 2, 5, 4), antialias=1, opset=18,
                           coordinate_transformation_mode="half_pixel"),
    "half_pixel_symmetric": dict(shape=(1, 2, 5, 6), scales=(1, 1, 1.7, 2.3), opset=19,
                                 coordinate_transformation_mode="half_pixel_symmetric"),
    "crop_and_resize": dict(shape=(1, 2, 5, 6), sizes=(1, 2, 4, 4), extrapolation_value=-1.0,
                            roi=f32(0, 0, -0.2, 0.1, 1, 1, 0.8, 1.3),
                            coordinate_transformation_mode="tf_crop_and_resize"),
}


def resize_model(name: str) -> onnx.ModelProto:
    return _resize(**RESIZE[name])


def inputs(model: onnx.ModelProto, count: int, seed: int) -> dict[str, np.ndarray]:
    """count seeded samples per graph input, uniform in [-2, 2) (calibration and test data alike)."""
    rng = np.random.default_rng(seed)
    return {vi.name: rng.uniform(-2, 2, (count, *[d.dim_value for d in vi.type.tensor_type.shape.dim]))
            .astype(np.float32) for vi in model.graph.input}


def build_int8(model: onnx.ModelProto, board: str | None = None) -> pipeline.Compiled:
    """The int8 build of a one-node model, calibrated on 8 seeded samples."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.onnx"
        onnx.save(model, path)
        return pipeline.build(path, pipeline.Options(dtype="int8", calib=inputs(model, 8, 1), name="model",
                                                     board=board))
