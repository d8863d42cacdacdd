"""The four MLPerf Tiny int8 .tflite models compile directly and equal TensorFlow Lite Micro bit for bit:
the reference interpreter and the host C (ASan/UBSan) on 32 seeded random int8 inputs each."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.tflm import MLPERF, TFLITE_DIR, random_inputs, run_tflm
from tinyc import interpreter, pipeline, runners

RANDOM_INPUTS = 32


@lru_cache(maxsize=None)
def compiled(name: str) -> pipeline.Compiled:
    return pipeline.build(TFLITE_DIR / MLPERF[name], pipeline.Options(dtype="int8"))


@lru_cache(maxsize=None)
def expected(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, TFLM outputs) for the model's 32 seeded random inputs."""
    g = compiled(name).graph
    (x,) = random_inputs([g.tensors[g.inputs[0]].shape], [np.int8], RANDOM_INPUTS, seed=13)
    return x, run_tflm(TFLITE_DIR / MLPERF[name], [x])[0]


@pytest.mark.parametrize("name", MLPERF)
def test_shapes_and_quantization_are_the_files(name):
    g = compiled(name).graph
    x, y = expected(name)
    assert g.tensors[g.inputs[0]].shape == x.shape[1:] and g.tensors[g.inputs[0]].dtype == "int8"
    assert g.tensors[g.outputs[0]].shape == y.shape[1:] and g.tensors[g.outputs[0]].dtype == "int8"
    assert not compiled(name).warnings  # no calibration: the file's scales and zero points


@pytest.mark.parametrize("name", MLPERF)
def test_reference_equals_tflm_bit_for_bit(name):
    g = compiled(name).graph
    x, want = expected(name)
    got = interpreter.run_samples(g, {g.inputs[0]: x})[g.outputs[0]]
    assert np.array_equal(got, want), f"{np.sum(got != want)} of {want.size} values differ"


@pytest.mark.parametrize("name", MLPERF)
def test_host_c_equals_tflm_bit_for_bit(name):
    need_tool("cc")
    c = compiled(name)
    x, want = expected(name)
    got = runners.run_host(c, {c.graph.inputs[0]: x}, sanitize=True)[c.graph.outputs[0]]
    assert np.array_equal(got, want), f"{np.sum(got != want)} of {want.size} values differ"
