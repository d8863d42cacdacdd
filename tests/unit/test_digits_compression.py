"""The shipped digits models under compression, on their held-out split (issue 5's accuracy bars).

Ratios are chosen and weights re-solved on the calibration images only; accuracy is measured on
the 600 held-out images. Float32 weight bytes are the baseline for "times smaller".
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from tinyc import io, pipeline
from tinyc.accuracy import load_labelled
from tinyc.compress import Compression

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@lru_cache(maxsize=None)
def _build(model: str, **compression) -> pipeline.Compiled:
    path = EXAMPLES / f"digits_{model}.onnx"
    g = pipeline.frontend(path)
    calib_file = EXAMPLES / f"digits_calib_{model}.npz"
    return pipeline.build(path, pipeline.Options(
        calib=io.load_samples(calib_file, g).arrays, calib_labels=io.load_labels(calib_file, 200),
        labelled=load_labelled(EXAMPLES / f"digits_test_{model}.npz", g), compression=Compression(**compression)))


def _float32_weight_bytes(c: pipeline.Compiled) -> int:
    return sum(t.nbytes for t in c.float_graph.tensors.values() if t.is_const)


def _layer_bytes(c: pipeline.Compiled, op: str) -> dict[str, int]:
    return {layer["name"]: layer["weights"] for layer in pipeline.report_of(c)["layers"] if layer["op"] == op}


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_int8_is_within_half_a_point_of_float(model):
    acc = _build(model).accuracy
    assert acc["float"] - acc["int8"] <= 0.5


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_prune_08_is_within_2_points_and_8x_below_float32(model):
    c = _build(model, prune=0.8)
    assert c.accuracy["float"] - c.accuracy["compressed"] <= 2.0
    assert _float32_weight_bytes(c) >= 8 * pipeline.report_of(c)["flash"]["weights"]


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_2_of_4_is_within_1_point(model):
    c = _build(model, sparsity="2:4")
    assert c.accuracy["float"] - c.accuracy["compressed"] <= 1.0


@pytest.mark.parametrize("model,layers", [("cnn", "auto"), ("mlp", "fc2")])
def test_doped_kronecker_is_10x_smaller_per_layer_and_within_2_points(model, layers):
    plain = _layer_bytes(_build(model), "dense")
    c = _build(model, kronecker=layers, doped=True)
    factorised = _layer_bytes(c, "dense_kp")
    assert factorised
    for name, size in factorised.items():
        assert plain[name] >= 10 * size, name
    assert c.accuracy["float"] - c.accuracy["compressed"] <= 2.0
