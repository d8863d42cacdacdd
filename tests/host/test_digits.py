"""The shipped labelled digits models (examples/, made by scripts/train_digits.py): their float accuracy,
int8 accuracy through the whole compiler and in the generated C, and channel-pruned int8 C bit for bit."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from tests.conftest import need_tool
from tests.helpers import run_c_host, run_ref
from tests.models import model_path, sample_inputs
from tinyc import io, ir, pipeline, runners
from tinyc.accuracy import accuracy, load_labelled
from tinyc.passes.channel_prune import prune_channels
from tinyc.passes.quantize import quantize

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MODELS = ("mlp", "cnn")
# What scripts/train_digits.py printed (correct of the 600 held-out images): 98.33 % and 98.83 %.
FLOAT_CORRECT = {"mlp": 590, "cnn": 593}
TEST_COUNT = 600


@pytest.fixture(autouse=True)
def _cc():
    need_tool("cc")


def path(kind: str, model: str) -> Path:
    return EXAMPLES / (f"digits_{model}.onnx" if kind == "model" else f"digits_{kind}_{model}.npz")


@lru_cache(maxsize=None)
def labelled(model: str) -> tuple[dict[str, np.ndarray], np.ndarray]:
    return load_labelled(path("test", model), pipeline.frontend(path("model", model)))


@lru_cache(maxsize=None)
def calib(model: str) -> dict[str, np.ndarray]:
    return io.load_samples(path("calib", model), pipeline.frontend(path("model", model))).arrays


@lru_cache(maxsize=None)
def compiled(model: str) -> pipeline.Compiled:
    return pipeline.build(path("model", model), pipeline.Options(dtype="int8", calib=calib(model)))


@pytest.mark.parametrize("model", MODELS)
def test_float_accuracy_in_onnxruntime_is_what_the_script_reported(model):
    samples, labels = labelled(model)
    session = ort.InferenceSession(str(path("model", model)), providers=["CPUExecutionProvider"])
    probs = np.concatenate([session.run(None, {"pixels": x})[0] for x in samples["pixels"]])
    assert len(labels) == TEST_COUNT
    assert int(np.sum(probs.argmax(1) == labels)) == FLOAT_CORRECT[model]
    assert accuracy(pipeline.frontend(path("model", model)), samples, labels) == pytest.approx(FLOAT_CORRECT[model] / 6)


@pytest.mark.parametrize("model", MODELS)
def test_int8_accuracy_is_within_half_a_point_of_float(model):
    # measured: mlp 98.33 -> 98.33, cnn 98.83 -> 98.67
    samples, labels = labelled(model)
    assert abs(accuracy(compiled(model).graph, samples, labels) - FLOAT_CORRECT[model] / 6) <= 0.5


@pytest.mark.parametrize("model", MODELS)
def test_int8_c_gives_the_reference_outputs_on_the_test_split(model):
    c = compiled(model)
    feeds = runners.feeds_for(c.graph, labelled(model)[0])
    host = runners.run_host(c, feeds)
    ref = runners.run(c, feeds, "ref")
    assert all(np.array_equal(host[o], ref[o]) for o in c.graph.outputs)


def pruned_int8(model: Path, ratio: float, calib: dict[str, np.ndarray]) -> ir.Graph:
    """frontend -> prune_channels -> quantize, as the pipeline will run it."""
    g, _ = prune_channels(pipeline.frontend(model), ratio)
    ir.verify(g)
    q = quantize(g, calib)
    ir.verify(q)
    return q


@pytest.mark.parametrize("model", MODELS)
def test_channel_pruned_int8_c_equals_the_reference_bit_for_bit(model):
    # accuracy at 0.25 (float / int8): mlp 96.33 / 96.17, cnn 95.67 / 95.83 (no fine-tuning)
    q = pruned_int8(path("model", model), 0.25, calib(model))
    samples = {k: v[:100] for k, v in labelled(model)[0].items()}
    host, ref = run_c_host(q, samples, sanitize=True), run_ref(q, samples)
    assert all(np.array_equal(host[o], ref[o]) for o in q.outputs)


@pytest.mark.parametrize("name", ["kws_dscnn", "mnist8_cnn"])
def test_channel_pruned_shared_model_int8_c_equals_the_reference_bit_for_bit(name):
    float_graph = pipeline.frontend(model_path(name))
    x = sample_inputs(name, float_graph.inputs[0], float_graph.tensors[float_graph.inputs[0]].shape)
    q = pruned_int8(model_path(name), 0.25, x)
    rng = np.random.default_rng(7)  # plus random int8 inputs over the whole range
    feeds = {n: np.concatenate([runners.feeds_for(q, x)[n], rng.integers(-128, 128, (8, *q.tensors[n].shape),
                                                                          dtype=np.int8)]) for n in q.inputs}
    host, ref = run_c_host(q, feeds, sanitize=True), run_ref(q, feeds)
    assert all(np.array_equal(host[o], ref[o]) for o in q.outputs)
