"""The Python API (tinyc.compile / tinyc.run): the same results as the command line's files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tinyc
from tinyc import interpreter, io, pipeline, runners
from tinyc.errors import BadInput

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MLP, CALIB = EXAMPLES / "digits_mlp.onnx", EXAMPLES / "digits_calib_mlp.npz"


def test_compile_returns_the_report_it_writes(tmp_path):
    doc = tinyc.compile(MLP, tmp_path / "out", calib=CALIB, board="nucleo-l4r5zi")
    assert doc == json.loads((tmp_path / "out" / "report.json").read_text())
    assert doc["board"] == "nucleo-l4r5zi" and doc["fits"] == {"flash": True, "ram": True}
    assert tinyc.compile(MLP, calib=CALIB, board="nucleo-l4r5zi") == doc  # without a folder: the same report


def test_run_takes_files_or_arrays_and_gives_the_reference_outputs():
    with np.load(CALIB) as data:
        x = data["input"][:5].astype(np.float32)
    by_file = tinyc.run(MLP, CALIB, calib=CALIB)
    by_array = tinyc.run(MLP, x, calib=CALIB)
    calib = io.load_samples(CALIB, pipeline.frontend(MLP)).arrays
    g = pipeline.build(MLP, pipeline.Options(calib=calib)).graph
    expected = interpreter.run_samples(g, runners.feeds_for(g, {g.inputs[0]: x}))
    for name, y in by_array.items():
        assert y.dtype == np.int8 and np.array_equal(y, expected[name])
        assert np.array_equal(by_file[name][:5], y)


def test_api_errors_are_tinyc_errors():
    with pytest.raises(BadInput, match="does not fit the model input"):
        tinyc.run(MLP, np.zeros((2, 3), np.float32), calib=CALIB)
    with pytest.raises(BadInput, match="--flash-budget"):
        tinyc.compile(MLP, calib=CALIB, flash_budget="lots")
