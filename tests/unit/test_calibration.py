"""Calibration methods (tinyc/passes/calibration.py) on synthetic data, checked against numpy over all the
values at once and against the real quantization error of tinyc.quant; and the option's one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.helpers import graph_of
from tinyc import cli, pipeline, quant
from tinyc.accuracy import accuracy
from tinyc.errors import BadInput
from tinyc.passes.calibration import METHODS, PERCENTILE, calibrate

DIGITS = Path(__file__).resolve().parents[2] / "examples" / "digits_mlp.onnx"


def range_of(values: np.ndarray, method: str, samples: int = 4) -> tuple[float, float]:
    """The range `method` gives the input of a one-node graph fed `values`, split into `samples` samples."""
    per_sample = values.reshape(samples, 1, -1).astype(np.float32)
    g = graph_of("reshape", [("x", per_sample.shape[1:])], {"shape": per_sample.shape[1:]})
    return calibrate(g, {"x": per_sample}, method)["x"]


def quantization_mse(values: np.ndarray, lo: float, hi: float) -> float:
    """Mean squared error of quantizing `values` on the int8 grid of [lo, hi] (tinyc.quant, round and saturate)."""
    q = quant.choose_qparams(lo, hi)
    back = quant.dequantize_array(quant.quantize_array(values, q), q).astype(np.float64)
    return float(np.mean((back - values) ** 2))


def test_minmax_is_the_smallest_and_largest_value():
    x = np.random.default_rng(0).normal(0, 3, 4000).astype(np.float32)
    assert range_of(x, "minmax") == (float(x.min()), float(x.max()))


def test_percentile_is_numpys_quantile_of_each_tail_over_all_samples():
    x = np.random.default_rng(1).standard_t(3, 40_000).astype(np.float32)
    lo, hi = range_of(x, "percentile", samples=8)  # streamed sample by sample, tails kept as top-k
    want = np.quantile(x.astype(np.float64), [1 - PERCENTILE / 100, PERCENTILE / 100])
    assert (lo, hi) == pytest.approx(tuple(want), rel=1e-9)


def test_percentile_ignores_a_single_outlier():
    x = np.random.default_rng(2).normal(0, 1, 40_000).astype(np.float32)
    x[123] = 1000.0
    lo, hi = range_of(x, "percentile")
    assert range_of(x, "minmax")[1] == 1000.0
    assert 3.0 < hi < 5.0 and -5.0 < lo < -3.0  # the normal's own 0.01 % tails, about +-3.7


def best_on_a_grid(values: np.ndarray, steps: int = 30) -> float:
    """The least real quantization error over ranges (a min, b max), a and b on a grid in (0, 1]: the oracle."""
    lo, hi = float(values.min()), float(values.max())
    shrink = np.linspace(0.05, 1.0, steps)
    return min(quantization_mse(values, lo * a, hi * b) for a in shrink for b in shrink)


def test_mse_clips_a_heavy_tail_and_minmax_does_not():
    x = np.random.default_rng(3).standard_t(3, 50_000).astype(np.float32)  # Student's t, 3 degrees of freedom
    lo, hi = range_of(x, "mse")
    assert range_of(x, "minmax") == (float(x.min()), float(x.max()))
    assert hi < 0.95 * x.max() and lo > 0.95 * x.min()  # clipped on both sides
    error = quantization_mse(x, lo, hi)
    assert error < 0.9 * quantization_mse(x, float(x.min()), float(x.max()))
    assert error < 1.02 * best_on_a_grid(x)


def test_mse_finds_the_best_range_of_a_skewed_distribution():
    rng = np.random.default_rng(4)
    x = np.concatenate([rng.uniform(-1, 0, 25_000), np.abs(rng.standard_t(3, 25_000))]).astype(np.float32)
    lo, hi = range_of(x, "mse")
    assert hi < 0.95 * x.max()  # the heavy side is clipped
    error = quantization_mse(x, lo, hi)
    assert error < quantization_mse(x, float(x.min()), float(x.max()))
    assert error < 1.02 * best_on_a_grid(x)


def test_mse_keeps_the_range_of_a_uniform_distribution():
    x = np.random.default_rng(5).uniform(-2, 3, 50_000).astype(np.float32)
    lo, hi = range_of(x, "mse")
    assert lo == pytest.approx(float(x.min()), rel=0.03) and hi == pytest.approx(float(x.max()), rel=0.03)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_compiles_a_model_that_classifies_like_float(method):
    g = pipeline.frontend(DIGITS)
    with np.load(DIGITS.with_name("digits_calib_mlp.npz")) as data:
        calib, labels = {g.inputs[0]: data["input"]}, data["labels"]
    q, _ = pipeline.lower(g, "int8", calib, method=method)
    assert accuracy(q, calib, labels) >= accuracy(g, calib, labels) - 2.0


def test_an_unknown_method_is_a_one_line_error(capsys, tmp_path):
    with pytest.raises(BadInput, match=r"^--calibration 'kl': choose minmax, percentile or mse$"):
        pipeline.build(DIGITS, pipeline.Options(calibration="kl"))
    assert cli.main(["compile", str(DIGITS), "-o", str(tmp_path / "out"), "--calibration", "kl"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --calibration 'kl': choose minmax, percentile or mse"]
    assert not (tmp_path / "out").exists()
