"""Token ids as a model input: an int64 graph input feeding Gather (nn.Embedding), float32 C on the host
against onnxruntime; an id out of range is clamped in the reference and the C alike (never read outside
the table); the int8 form of a constant table is a one-line error; the CLI reads integer samples."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.conftest import need_tool
from tinyc import interpreter, pipeline, runners

TABLE = np.random.default_rng(3).standard_normal((11, 6)).astype(np.float32)


def _embedding(tmp_path, ids_shape=(1, 5)) -> str:
    nodes = [helper.make_node("Gather", ["table", "ids"], ["e"], axis=0),
             helper.make_node("Relu", ["e"], ["y"])]
    graph = helper.make_graph(nodes, "emb", [helper.make_tensor_value_info("ids", TensorProto.INT64, list(ids_shape))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [*ids_shape, 6])],
                              [numpy_helper.from_array(TABLE, "table")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    path = str(tmp_path / "emb.onnx")
    onnx.save(model, path)
    return path


@pytest.fixture(autouse=True)
def _cc():
    need_tool("cc")


def test_embedding_matches_onnxruntime_and_clamps_out_of_range_ids(tmp_path):
    path = _embedding(tmp_path)
    compiled = pipeline.build(path, pipeline.Options(dtype="float32"))
    assert compiled.graph.tensors["ids"].dtype == "int64"
    ids = np.array([[[0, 3, 10, -1, 5]], [[7, 7, 2, -11, 1]]], np.int64)
    host = runners.run_host(compiled, {"ids": ids}, sanitize=True)["y"]
    session = ort.InferenceSession(open(path, "rb").read(), providers=["CPUExecutionProvider"])
    for i in range(len(ids)):
        np.testing.assert_allclose(host[i], session.run(None, {"ids": ids[i]})[0], rtol=1e-6, atol=1e-7)
    wild = np.array([[[40, -40, 11, -12, 3]]], np.int64)  # out of range: clamped, the same in C and reference
    ref = interpreter.run_samples(compiled.graph, {"ids": wild})["y"]
    assert np.array_equal(runners.run_host(compiled, {"ids": wild}, sanitize=True)["y"], ref)
    assert np.array_equal(ref[0, 0, 0], np.maximum(TABLE[10], 0))  # 40 -> the last row
    assert np.array_equal(ref[0, 0, 1], np.maximum(TABLE[0], 0))  # -40 -> the first


def test_an_embedding_in_an_int8_model_runs_in_float32_with_a_warning(tmp_path):
    """Gather of an embedding table has no int8 form: it stays float32 (mixed precision), int8 after it."""
    compiled = pipeline.build(_embedding(tmp_path), pipeline.Options(dtype="int8"))
    said = "node 'e' (gather_indexed): no int8 form ("
    assert any(w.startswith(said) and w.endswith("; it runs in float32") for w in compiled.warnings)
    assert [n.op for n in compiled.graph.nodes][:2] == ["gather_indexed", "quantize"]
    assert compiled.graph.is_int8 and compiled.graph.tensors["y"].dtype == "int8"
    ids = {"ids": np.random.default_rng(0).integers(-11, 11, (6, 1, 5)).astype(np.int64)}
    ref = interpreter.run_samples(compiled.graph, ids)["y"]
    assert np.array_equal(runners.run_host(compiled, ids, sanitize=True)["y"], ref)


def test_cli_runs_integer_samples(tmp_path):
    np.save(tmp_path / "ids.npy", np.array([[[1, 2, 3, 4, 5]]], np.int64))
    cmd = [sys.executable, "-m", "tinyc.cli", "run", _embedding(tmp_path), "--dtype", "float32", "--target", "host",
           "--input", str(tmp_path / "ids.npy"), "--output", str(tmp_path / "y.npy")]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert np.allclose(np.load(tmp_path / "y.npy")[0, 0], np.maximum(TABLE[[1, 2, 3, 4, 5]], 0))
