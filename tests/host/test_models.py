"""Every shared model through the whole compiler, checked against independent references:
onnxruntime for float32, the reference interpreter bit for bit for int8, and the README's facts.
"""

from __future__ import annotations

import filecmp
import re
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from tests.conftest import need_tool
from tests.models import CLASSIFIERS, MODELS, TFLM_HEAD, model_path, sample_inputs, samples
from tinyc import interpreter, pipeline, quant, runners

RANDOM_INPUTS = 32


@lru_cache(maxsize=None)
def compiled(name: str, dtype: str) -> pipeline.Compiled:
    float_graph = pipeline.frontend(model_path(name))
    calib = sample_inputs(name, float_graph.inputs[0], float_graph.tensors[float_graph.inputs[0]].shape)
    return pipeline.build(model_path(name), pipeline.Options(dtype=dtype, calib=calib))


def inputs_of(c: pipeline.Compiled, name: str) -> dict[str, np.ndarray]:
    g = c.float_graph
    return sample_inputs(name, g.inputs[0], g.tensors[g.inputs[0]].shape)


@pytest.fixture(autouse=True)
def _cc():
    need_tool("cc")


@pytest.mark.parametrize("name", MODELS)
def test_float32_c_matches_onnxruntime(name):
    c = compiled(name, "float32")
    x = inputs_of(c, name)
    session = ort.InferenceSession(str(model_path(name)), providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    expected = np.stack([session.run(None, {input_name: xi})[0] for xi in x[input_name]])
    got = runners.run_host(c, runners.feeds_for(c.graph, x), sanitize=True)[c.graph.outputs[0]]
    tolerance = 1e-4 * max(1.0, float(np.abs(expected).max()))
    assert np.abs(got.reshape(expected.shape) - expected).max() <= tolerance


@pytest.mark.parametrize("name", MODELS)
def test_int8_c_equals_reference_bit_for_bit(name):
    c = compiled(name, "int8")
    g = c.graph
    feeds = runners.feeds_for(g, inputs_of(c, name))
    rng = np.random.default_rng(1234)
    for n in g.inputs:  # plus random int8 inputs over the whole range, saturation included
        noise = rng.integers(-128, 128, (RANDOM_INPUTS, *g.tensors[n].shape), dtype=np.int8)
        feeds[n] = np.concatenate([feeds[n], noise])
    ref = interpreter.run_samples(g, feeds)
    host = runners.run_host(c, feeds, sanitize=True)
    for out in g.outputs:
        assert host[out].dtype == np.int8
        assert np.array_equal(ref[out], host[out]), f"{name}: {np.sum(ref[out] != host[out])} values differ"


@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_int8_picks_the_float_class_on_every_sample(name):
    c8, c32 = compiled(name, "int8"), compiled(name, "float32")
    x = inputs_of(c8, name)
    out8 = interpreter.run_samples(c8.graph, runners.feeds_for(c8.graph, x))[c8.graph.outputs[0]]
    out32 = interpreter.run_samples(c32.graph, x)[c32.graph.outputs[0]]
    assert np.array_equal(out8.reshape(len(out8), -1).argmax(1), out32.reshape(len(out32), -1).argmax(1))


def test_int8_sine_is_within_a_tenth_of_sin():
    c = compiled("sine_mlp", "int8")
    x = inputs_of(c, "sine_mlp")
    out = interpreter.run_samples(c.graph, runners.feeds_for(c.graph, x))[c.graph.outputs[0]]
    y = quant.dequantize_array(out, c.graph.tensors[c.graph.outputs[0]].q).ravel()
    assert np.abs(y - samples("sine_mlp")["label_sin"].ravel()).max() < 0.1


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("name", MODELS)
def test_arena_is_within_5_percent_of_lower_bound(name, dtype):
    plan = compiled(name, dtype).plan
    assert plan.lower_bound <= plan.arena <= 1.05 * plan.lower_bound


@pytest.mark.parametrize("name", sorted(TFLM_HEAD))
def test_int8_ram_is_at_most_what_tflite_micro_plans(name):
    c = compiled(name, "int8")
    with tempfile.TemporaryDirectory() as tmp:
        doc = pipeline.write(c, Path(tmp) / "out")
    assert doc["ram"]["total"] <= TFLM_HEAD[name]


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("name", MODELS)
def test_generated_c_has_no_heap_and_compiles_byte_identical(name, dtype):
    c = compiled(name, dtype)
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp) / "a", Path(tmp) / "b"
        pipeline.write(c, a)
        pipeline.write(pipeline.build(model_path(name), pipeline.Options(
            dtype=dtype, calib=inputs_of(c, name))), b)
        files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
        assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
        _, mismatch, errors = filecmp.cmpfiles(a, b, [str(f) for f in files], shallow=False)
        assert not mismatch and not errors
        for f in files:
            if f.suffix in (".c", ".h"):
                assert not re.search(r"\b(malloc|calloc|realloc|free)\s*\(", (a / f).read_text()), f
