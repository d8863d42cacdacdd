"""A 20 MB float model compiles with peak traced memory below 3x its size (weights are streamed to the C
file, not held as one string, and never copied needlessly); with a board, weights that cannot fit fail first."""

from __future__ import annotations

import importlib.util
import tracemalloc
from pathlib import Path

import onnx
import pytest

from tinyc import pipeline
from tinyc.errors import DoesNotFit

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "big_model.py"


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    spec = importlib.util.spec_from_file_location("big_model", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = tmp_path_factory.mktemp("big") / "big.onnx"
    onnx.save(module.big_model(5_000_000), path)
    return path


@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_peak_memory_is_below_three_times_the_model(big, tmp_path, dtype):
    size = big.stat().st_size
    tracemalloc.start()
    try:
        compiled = pipeline.build(big, pipeline.Options(dtype=dtype))
        pipeline.write(compiled, tmp_path / "out")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * size, f"peak {peak:,} B for a {size:,} B model"
    written = sum(p.stat().st_size for p in (tmp_path / "out").glob("big*.c"))
    assert written > 2 * size // (4 if dtype == "int8" else 1)


def test_weights_that_cannot_fit_the_board_fail_before_quantization(big, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("quantization ran")
    monkeypatch.setattr(pipeline, "lower", never)
    with pytest.raises(DoesNotFit, match=r"the weights alone need \d,\d\d\d,\d\d\d B \(int8.*4,194,304 B of flash"):
        pipeline.build(big, pipeline.Options(dtype="int8", board="mps2-an386"))
