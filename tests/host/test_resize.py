"""Resize and Upsample as exporters write them (PyTorch F.interpolate, TensorFlow resize), and seeded
random data movement (Slice, Split, Gather, Expand, Tile): float32 C on the host (sanitizers on)
against onnxruntime; nearest also in int8, where the C equals the reference bit for bit."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from tests.conftest import need_tool
from tests.onnx_cases import i64, one_node_model
from tinyc import interpreter, pipeline, runners

NO = ("", None)


def f32(*values):
    return np.array(values, np.float32)


def resize(shape, *, scales=None, sizes=None, opset=13, **attrs):
    roi = ("roi", f32()) if opset == 11 else NO  # opset 11 requires roi, empty unless cropping
    inputs = [("x", shape), roi, ("scales", f32(*scales)) if scales else ("scales", f32())]
    if sizes:
        inputs.append(("sizes", i64(*sizes)))
    return one_node_model("Resize", inputs, attrs, opset)


PYTORCH = {  # F.interpolate(x, ...) exported with opset 13 (11 for the align_corners one)
    "nearest_scale2": resize((1, 3, 5, 4), scales=(1, 1, 2, 2), mode="nearest",
                             coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
    "nearest_odd_size": resize((1, 2, 7, 5), sizes=(1, 2, 11, 9), mode="nearest",
                               coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
    "nearest_down": resize((1, 2, 9, 13), sizes=(1, 2, 4, 6), mode="nearest",
                           coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
    "bilinear_scale2": resize((1, 3, 5, 4), scales=(1, 1, 2, 2), mode="linear",
                              coordinate_transformation_mode="pytorch_half_pixel"),
    "bilinear_odd_size": resize((1, 2, 7, 5), sizes=(1, 2, 11, 9), mode="linear",
                                coordinate_transformation_mode="pytorch_half_pixel"),
    "bilinear_to_one_row": resize((1, 2, 7, 5), sizes=(1, 2, 1, 9), mode="linear",
                                  coordinate_transformation_mode="pytorch_half_pixel"),
    "bilinear_align_corners": resize((1, 3, 5, 4), scales=(1, 1, 2, 2), mode="linear", opset=11,
                                     coordinate_transformation_mode="align_corners"),
    "bilinear_align_corners_odd": resize((1, 2, 7, 5), sizes=(1, 2, 11, 3), mode="linear",
                                         coordinate_transformation_mode="align_corners"),
    "bicubic": resize((1, 2, 6, 5), scales=(1, 1, 2, 2), mode="cubic", cubic_coeff_a=-0.75,
                      coordinate_transformation_mode="pytorch_half_pixel"),
    "linear_1d": resize((1, 4, 9), scales=(1, 1, 2.5), mode="linear",
                        coordinate_transformation_mode="half_pixel"),
}
TENSORFLOW = {  # tf.image.resize (half_pixel) and TF1's legacy asymmetric resize, via tf2onnx
    "bilinear_half_pixel": resize((1, 3, 6, 7), sizes=(1, 3, 9, 10), mode="linear",
                                  coordinate_transformation_mode="half_pixel"),
    "bilinear_half_pixel_down": resize((1, 3, 9, 10), sizes=(1, 3, 4, 7), mode="linear",
                                       coordinate_transformation_mode="half_pixel"),
    "nearest_half_pixel": resize((1, 3, 6, 7), sizes=(1, 3, 9, 10), mode="nearest",
                                 coordinate_transformation_mode="half_pixel", nearest_mode="round_prefer_ceil"),
    "bilinear_asymmetric": resize((1, 3, 5, 6), scales=(1, 1, 2, 2), mode="linear",
                                  coordinate_transformation_mode="asymmetric"),
    "nearest_asymmetric": resize((1, 3, 5, 6), sizes=(1, 3, 8, 9), mode="nearest",
                                 coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
    "crop_and_resize": resize((1, 2, 5, 6), sizes=(1, 2, 4, 4), mode="linear", opset=13, extrapolation_value=-1.0,
                              coordinate_transformation_mode="tf_crop_and_resize"),
}
OLD = {  # Upsample (opset 9) and Resize-10: asymmetric coordinates
    "upsample_nearest": one_node_model("Upsample", [("x", (1, 2, 3, 4)), ("s", f32(1, 1, 2, 3))],
                                       {"mode": "nearest"}, 9),
    "upsample_linear": one_node_model("Upsample", [("x", (1, 2, 3, 4)), ("s", f32(1, 1, 2, 2.5))],
                                      {"mode": "linear"}, 9),
    "resize10_nearest_down": one_node_model("Resize", [("x", (1, 2, 7, 8)), ("s", f32(1, 1, 0.5, 0.6))],
                                            {"mode": "nearest"}, 10),
    "resize10_nearest_up": one_node_model("Resize", [("x", (1, 2, 3, 4)), ("s", f32(1, 1, 1.5, 2.5))],
                                          {"mode": "nearest"}, 10),
}


def _crop_roi(model):  # tf_crop_and_resize reads a roi: a box partly outside the image
    model.graph.node[0].input[1] = "roi"
    model.graph.initializer.append(onnx.numpy_helper.from_array(f32(0, 0, -0.2, 0.1, 1, 1, 0.8, 1.3), "roi"))
    return model


TENSORFLOW["crop_and_resize"] = _crop_roi(TENSORFLOW["crop_and_resize"])


def _random_movement(seed: int) -> onnx.ModelProto:
    """A seeded Slice, Split, Gather, Expand or Tile on a random shape with random attributes."""
    rng = np.random.default_rng(seed)
    rank = int(rng.integers(2, 5))
    shape = tuple(int(d) for d in rng.integers(1, 6, rank) + 1)
    axis = int(rng.integers(-rank, rank))
    d = shape[axis]
    kind = ["slice", "split", "gather", "expand", "tile"][seed % 5]
    if kind == "slice":
        step = int(rng.choice([-3, -2, -1, 1, 2, 3]))
        start, end = (int(rng.integers(0, d)), -d - 5) if step < 0 else (int(rng.integers(-d, 0)), d + 7)
        return one_node_model("Slice", [("x", shape), ("s", i64(start)), ("e", i64(end)), ("a", i64(axis)),
                                        ("st", i64(step))], {}, 13)
    if kind == "split":
        parts = int(rng.integers(1, d + 1))
        return one_node_model("Split", [("x", shape)], {"axis": axis, "num_outputs": parts}, 18, parts)
    if kind == "gather":
        idx = rng.integers(-d, d, tuple(rng.integers(1, 4, int(rng.integers(1, 3)))))
        return one_node_model("Gather", [("x", shape), ("i", idx.astype(np.int64))], {"axis": axis}, 13)
    if kind == "expand":
        small = tuple(1 if rng.random() < 0.5 else s for s in shape)
        return one_node_model("Expand", [("x", small), ("s", i64(2, *shape))], {}, 13)
    return one_node_model("Tile", [("x", shape), ("r", i64(*rng.integers(1, 4, rank)))], {}, 13)


CASES = {**{f"pytorch_{k}": v for k, v in PYTORCH.items()}, **{f"tf_{k}": v for k, v in TENSORFLOW.items()},
         **OLD, **{f"random_{s}": _random_movement(s) for s in range(10)}}


@pytest.fixture(autouse=True)
def _cc():
    need_tool("cc")


def _inputs(model, count=3, seed=3):
    rng = np.random.default_rng(seed)
    return {vi.name: rng.uniform(-2, 2, (count, *[d.dim_value for d in vi.type.tensor_type.shape.dim]))
            .astype(np.float32) for vi in model.graph.input}


@pytest.mark.parametrize("name", sorted(CASES))
def test_float32_c_matches_onnxruntime(name, tmp_path):
    model = CASES[name]
    onnx.save(model, tmp_path / "m.onnx")
    compiled = pipeline.build(tmp_path / "m.onnx", pipeline.Options(dtype="float32"))
    x = _inputs(model)
    got = runners.run_host(compiled, runners.feeds_for(compiled.graph, x), sanitize=True)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    for i in range(3):
        expected = session.run(None, {k: v[i] for k, v in x.items()})
        for out, exp in zip(compiled.graph.outputs, expected):
            np.testing.assert_allclose(got[out][i], exp, rtol=1e-5, atol=1e-5, err_msg=out)


@pytest.mark.parametrize("name", ["pytorch_nearest_odd_size", "tf_nearest_half_pixel", "resize10_nearest_down"])
def test_int8_nearest_moves_bytes(name, tmp_path):
    model = CASES[name]
    onnx.save(model, tmp_path / "m.onnx")
    compiled = pipeline.build(tmp_path / "m.onnx", pipeline.Options(dtype="int8", calib=_inputs(model, 8, 1)))
    g = compiled.graph
    assert g.tensors[g.outputs[0]].q is g.tensors[g.inputs[0]].q  # no requantization
    feeds = runners.feeds_for(g, _inputs(model))
    ref = interpreter.run_samples(g, feeds)[g.outputs[0]]
    assert np.array_equal(runners.run_host(compiled, feeds, sanitize=True)[g.outputs[0]], ref)
    assert set(np.unique(ref)) <= set(np.unique(feeds[g.inputs[0]]))
