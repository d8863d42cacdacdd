"""Every ONNX case of tests/onnx_cases.py as generated C: int8 equals the reference bit for bit,
float32 matches onnxruntime."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from tests.conftest import need_tool
from tests.onnx_cases import CASES, case_inputs, case_model
from tinyc import interpreter, pipeline, runners


def _compile(case: str, dtype: str, tmp_path) -> tuple[pipeline.Compiled, dict, onnx.ModelProto]:
    model = case_model(case)
    path = tmp_path / f"{case}.onnx"
    onnx.save(model, path)
    x = case_inputs(model, count=8, seed=5)
    return pipeline.build(path, pipeline.Options(dtype=dtype, calib=x)), x, model


@pytest.fixture(autouse=True)
def _cc():
    need_tool("cc")


@pytest.mark.parametrize("case", sorted(CASES))
def test_int8_c_equals_reference(case, tmp_path):
    compiled, x, _ = _compile(case, "int8", tmp_path)
    feeds = runners.feeds_for(compiled.graph, x)
    rng = np.random.default_rng(9)
    for n in compiled.graph.inputs:  # the whole int8 range too, saturation included
        extra = rng.integers(-128, 128, (8, *compiled.graph.tensors[n].shape), dtype=np.int8)
        feeds[n] = np.concatenate([feeds[n], extra])
    ref = interpreter.run_samples(compiled.graph, feeds)
    host = runners.run_host(compiled, feeds, sanitize=True)
    for out in compiled.graph.outputs:
        assert np.array_equal(ref[out], host[out]), f"{np.sum(ref[out] != host[out])} values differ"


@pytest.mark.parametrize("case", sorted(CASES))
def test_float32_c_matches_onnxruntime(case, tmp_path):
    compiled, x, model = _compile(case, "float32", tmp_path)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    host = runners.run_host(compiled, runners.feeds_for(compiled.graph, x), sanitize=True)
    for i in range(len(next(iter(x.values())))):
        expected = session.run(None, {k: v[i] for k, v in x.items()})
        for out, exp in zip(compiled.graph.outputs, expected):
            np.testing.assert_allclose(host[out][i], exp, rtol=1e-4, atol=1e-5)
