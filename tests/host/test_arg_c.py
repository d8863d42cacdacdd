"""ArgMax, ArgMin and TopK as generated C (AddressSanitizer and UndefinedBehaviorSanitizer on):
seeded shapes against onnxruntime, a classifier whose graph output is ArgMax (float32 and int8),
and the CLI writing int64 results."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.conftest import need_tool
from tests.onnx_cases import i64, one_node_model
from tinyc import interpreter, pipeline, runners


@pytest.fixture(autouse=True)
def _cc():
    need_tool("cc")


def _session(model: onnx.ModelProto) -> ort.InferenceSession:
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("seed", range(4))
def test_index_ops_match_onnxruntime(seed, tmp_path):
    rng = np.random.default_rng(seed)
    shape = tuple(int(d) for d in rng.integers(1, 6, 3))
    axis = int(rng.integers(-3, 3))
    k = int(rng.integers(0, shape[axis] + 1))
    models = [one_node_model("ArgMax", [("x", shape)], {"axis": axis, "keepdims": seed % 2,
                                                         "select_last_index": seed // 2}),
              one_node_model("ArgMin", [("x", shape)], {"axis": axis, "select_last_index": seed % 2}),
              one_node_model("TopK", [("x", shape), ("k", i64(k))], {"axis": axis, "largest": seed % 2}, 11, 2)]
    x = rng.integers(-3, 4, (5, *shape)).astype(np.float32)  # ties on purpose
    for model in models:
        path = tmp_path / "m.onnx"
        onnx.save(model, path)
        compiled = pipeline.build(path, pipeline.Options(dtype="float32", name="model"))
        got = runners.run_host(compiled, {"x": x}, sanitize=True)
        for i in range(len(x)):
            for name, exp in zip(compiled.graph.outputs, _session(model).run(None, {"x": x[i]})):
                assert got[name][i].dtype == exp.dtype and np.array_equal(got[name][i], exp), name


def _classifier() -> onnx.ModelProto:
    rng = np.random.default_rng(3)
    inits = [numpy_helper.from_array(rng.standard_normal(s).astype(np.float32) * 0.5, n)
             for n, s in (("w1", (12, 16)), ("b1", (16,)), ("w2", (16, 5)), ("b2", (5,)))]
    nodes = [helper.make_node("Gemm", ["x", "w1", "b1"], ["h"]), helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Gemm", ["r", "w2", "b2"], ["logits"]),
             helper.make_node("ArgMax", ["logits"], ["label"], axis=1, keepdims=0)]
    graph = helper.make_graph(nodes, "classifier", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 12])],
                              [helper.make_tensor_value_info("label", TensorProto.INT64, [1])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def test_classifier_with_argmax_output_float32_and_int8(tmp_path):
    model = _classifier()
    path = tmp_path / "classifier.onnx"
    onnx.save(model, path)
    x = np.random.default_rng(4).uniform(-2, 2, (64, 1, 12)).astype(np.float32)
    expected = np.stack([_session(model).run(None, {"x": s})[0] for s in x])

    f32 = pipeline.build(path, pipeline.Options(dtype="float32", name="classifier"))
    got = runners.run_host(f32, {"x": x}, sanitize=True)["label"]
    assert got.dtype == np.int64 and np.array_equal(got, expected)

    int8 = pipeline.build(path, pipeline.Options(dtype="int8", calib={"x": x[:32]}, name="classifier"))
    assert int8.graph.tensors["label"].dtype == "int64"
    feeds = runners.feeds_for(int8.graph, {"x": x})
    host = runners.run_host(int8, feeds, sanitize=True)["label"]
    assert host.dtype == np.int64 and np.array_equal(host, interpreter.run_samples(int8.graph, feeds)["label"])
    assert np.mean(host == expected) >= 0.9  # int8 rounding may flip near-ties only


def test_topk_int8_values_keep_the_input_q(tmp_path):
    model = one_node_model("TopK", [("x", (1, 9)), ("k", i64(4))], {}, 11, 2)
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    x = np.random.default_rng(5).uniform(-2, 2, (16, 1, 9)).astype(np.float32)
    compiled = pipeline.build(path, pipeline.Options(dtype="int8", calib={"x": x}, name="model"))
    g = compiled.graph
    values, indices = g.outputs
    assert g.tensors[values].q == g.tensors["x"].q and g.tensors[indices].dtype == "int64"
    feeds = runners.feeds_for(g, {"x": x})
    host = runners.run_host(compiled, feeds, sanitize=True)
    order = np.argsort(-feeds["x"].astype(np.int32), axis=-1, kind="stable")[..., :4]
    assert np.array_equal(host[indices], order)
    assert np.array_equal(host[values], np.take_along_axis(feeds["x"], order, -1))


def test_cli_run_writes_int64_results(tmp_path):
    path = tmp_path / "classifier.onnx"
    onnx.save(_classifier(), path)
    x = np.random.default_rng(6).uniform(-2, 2, (10, 1, 12)).astype(np.float32)
    np.savez(tmp_path / "in.npz", x=x)
    for dtype in ("float32", "int8"):
        done = subprocess.run([sys.executable, "-m", "tinyc.cli", "run", str(path), "--target", "host", "--dtype",
                               dtype, "--calib", str(tmp_path / "in.npz"), "--input", str(tmp_path / "in.npz"),
                               "--output", str(tmp_path / "r.npz")],
                              capture_output=True, text=True, env=dict(os.environ, PYTHONWARNINGS="ignore"))
        assert done.returncode == 0, done.stderr
        label = np.load(tmp_path / "r.npz")["label"]
        assert label.dtype == np.int64 and label.shape == (10, 1) and label.min() >= 0 and label.max() < 5
