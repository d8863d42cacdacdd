"""Mixed precision (--float-layers): the boundary ops against an independent rounding, the schedule
of boundaries, layer names, the automatic float32 for an op without int8 form, and `auto`'s choice
on a model with a layer int8 destroys (tests/mixed_models.py)."""

from __future__ import annotations

import math

import numpy as np
import onnx
import pytest

from tests.mixed_models import max_mlp, outlier_mlp, samples, without_int8_form
from tinyc import interpreter, ir, pipeline, quant
from tinyc.errors import BadInput
from tinyc.ops.boundary import dequantize_f32, quantize_f32
from tinyc.pipeline import report_of


def _quantize_oracle(x: float, scale: float, zp: int) -> int:
    """TFLite's AffineQuantize on one value: the float32 quotient, rounded half away, saturated."""
    v = float(np.float32(x) / np.float32(scale))
    if math.isnan(v):
        return zp
    r = math.copysign(math.floor(abs(v) + 0.5), v) if math.isfinite(v) else v
    return int(min(max(r + zp, -128), 127)) if math.isfinite(r) else (127 if r > 0 else -128)


def test_quantize_rounds_ties_away_saturates_and_maps_nan_to_the_zero_point():
    scale, zp = np.float32(0.05), -3
    ties = (np.arange(-300, 300) + 0.5).astype(np.float32) * scale  # exact halves, as float32 can hold them
    x = np.concatenate([ties, np.array([0.0, -0.0, 1e30, -1e30, np.inf, -np.inf, np.nan], np.float32),
                        np.random.default_rng(3).standard_normal(1000).astype(np.float32) * 4])
    got = quantize_f32(x, float(scale), zp)
    want = np.array([_quantize_oracle(float(v), float(scale), zp) for v in x], np.int8)
    np.testing.assert_array_equal(got, want)


def test_dequantize_is_one_float32_rounding_of_the_exact_product():
    scale = 0.0123456789
    q = np.arange(-128, 128, dtype=np.int8)
    exact = (q.astype(np.float64) - 7) * float(np.float32(scale))  # exact in float64: 9 x 24 bits
    np.testing.assert_array_equal(dequantize_f32(q, scale, 7), exact.astype(np.float32))


@pytest.fixture(scope="module")
def mlp(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("mixed") / "mlp.onnx"
    onnx.save(outlier_mlp(), path)
    return str(path)


def _build(path: str, **kw) -> pipeline.Compiled:
    return pipeline.build(path, pipeline.Options(dtype="int8", calib={"x": samples(64)}, **kw))


def _dtypes(c: pipeline.Compiled) -> dict[str, str]:
    return {layer["name"]: layer["dtype"] for layer in report_of(c)["layers"]}


def _output_error(c: pipeline.Compiled, x: np.ndarray) -> float:
    """Mean |int8 output - float output| in percent of the float output's range, computed here."""
    ref = interpreter.run_samples(c.float_graph, {"x": x})["logits"].astype(np.float64)
    q = interpreter.run_samples(c.graph, interpreter.feeds_for(c.graph, {"x": x}))["logits"]
    real = quant.dequantize_array(q, c.graph.tensors["logits"].q).astype(np.float64)
    return float(np.mean(np.abs(real - ref)) / (ref.max() - ref.min()) * 100)


@pytest.mark.parametrize("spelling", ["/fc2/Gemm", "1 fc2", "fc2"])
def test_a_named_layer_stays_float32_between_one_dequantize_and_one_quantize(mlp, spelling):
    c = _build(mlp, float_layers=spelling)
    assert [(n.op, c.graph.node_dtype(n)) for n in c.graph.nodes] == [
        ("dense", "int8"), ("dequantize", "float32"), ("dense", "float32"), ("quantize", "int8"), ("dense", "int8")]
    fc2 = c.graph.nodes[2]
    assert all(c.graph.tensors[t].dtype == "float32" for t in fc2.inputs + fc2.outputs)
    assert _dtypes(c)["/fc2/Gemm"] == "float32" and _dtypes(c)["/fc1/Gemm"] == "int8"
    assert c.graph.tensors[c.graph.inputs[0]].dtype == "int8" and c.graph.tensors["logits"].dtype == "int8"
    ir.verify(c.graph)


def test_consecutive_float_layers_share_one_boundary(mlp):
    c = _build(mlp, float_layers="fc2,fc3")
    assert [n.op for n in c.graph.nodes] == ["dense", "dequantize", "dense", "dense", "quantize"]
    assert c.graph.nodes[-1].outputs == ["logits"]  # the model's output keeps its name, in int8


def test_an_unknown_layer_is_one_line_naming_the_nearest(mlp):
    with pytest.raises(BadInput) as e:
        _build(mlp, float_layers="fc2,fc22")
    assert str(e.value).startswith("--float-layers: no layer 'fc22'; did you mean")
    assert "'1 fc2'" in str(e.value) and "\n" not in str(e.value)


def test_an_op_without_int8_form_runs_in_float32_with_a_warning(tmp_path, monkeypatch):
    without_int8_form(monkeypatch, "log_softmax")
    path = tmp_path / "ls.onnx"
    onnx.save(outlier_mlp(log_softmax=True), path)
    c = _build(str(path))
    said = "node '/head/LogSoftmax' (log_softmax): no int8 form ("
    assert any(w.startswith(said) and w.endswith("); it runs in float32") for w in c.warnings)
    assert [n.op for n in c.graph.nodes][-3:] == ["dequantize", "log_softmax", "quantize"]
    assert _dtypes(c)["/head/LogSoftmax"] == "float32"


def test_auto_keeps_the_destroyed_layer_in_float32_and_meets_max_drop(mlp):
    x = samples(64)
    plain = _build(mlp)
    c = _build(mlp, float_layers="auto", compression=pipeline.Compression(max_drop=1.0))
    assert c.mixed.chosen == ["/fc2/Gemm"]
    assert _dtypes(c)["/fc2/Gemm"] == "float32"
    assert _output_error(plain, x) > 5.0  # int8 destroys fc2: the premise
    assert _output_error(c, x) <= 1.0  # measured here, not taken from the search
    assert c.mixed.loss == pytest.approx(_output_error(c, x))
    doc = report_of(c)
    assert doc["float_layers_auto"]["chosen"] == ["/fc2/Gemm"]
    assert any("--float-layers auto: 1 layer(s) in float32 ('/fc2/Gemm')" in w for w in c.warnings)


def test_auto_with_labels_bounds_the_accuracy_drop(mlp):
    xe = samples(200, seed=5)
    labels = interpreter.run_samples(pipeline.frontend(mlp), {"x": xe})["logits"].reshape(200, -1).argmax(1)
    c = _build(mlp, float_layers="auto", compression=pipeline.Compression(max_drop=2.0), labelled=({"x": xe}, labels))
    assert c.mixed.metric == "accuracy drop (points)" and c.mixed.chosen == ["/fc2/Gemm"]
    assert c.accuracy["float"] == 100.0 and c.accuracy["int8"] < 50.0
    assert c.accuracy["mixed"] >= 98.0


def test_auto_needs_calibration_data_and_max_drop(mlp):
    with pytest.raises(BadInput, match="--float-layers auto needs --calib"):
        pipeline.build(mlp, pipeline.Options(dtype="int8", float_layers="auto"))


def test_a_float_layer_with_an_exact_float_op_keeps_ref_exact(tmp_path):
    """Max alone in float32 between int8 layers: the numpy reference is the C's arithmetic."""
    path = tmp_path / "max.onnx"
    onnx.save(max_mlp(), path)
    c = _build(str(path), float_layers="/floor/Max")
    assert [n.op for n in c.graph.nodes] == ["dense", "dequantize", "max", "quantize", "dense"]
    assert c.graph.is_mixed and _dtypes(c)["/floor/Max"] == "float32"
