"""The `tinyc` command as a user meets it: outputs, one-line errors, no half-written folders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from tests.conftest import need_tool
from tests.models import MODELS_DIR, model_path
from tests.onnx_cases import one_node_model, w, with_output_shapes
from tinyc.codegen.c_literals import c_float

SINE = "sine_mlp"


def tinyc(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tinyc.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=dict(os.environ, PYTHONWARNINGS="ignore"))


def assert_one_line_error(done: subprocess.CompletedProcess, *fragments: str) -> None:
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if not line.startswith("warning:")]
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(autouse=True)
def _cc():
    need_tool("cc")


def test_compile_writes_the_folder_and_prints_the_report(tmp_path):
    out = tmp_path / "out"
    done = tinyc("compile", model_path(SINE), "-o", out, "--calib", MODELS_DIR / "samples" / f"{SINE}_samples.npz")
    assert done.returncode == 0, done.stderr
    assert {p.name for p in out.iterdir()} >= {"sine_mlp.h", "sine_mlp.c", "sine_mlp_weights.c", "tinyc",
                                               "Makefile", "report.json", "main_host.c"}
    doc = json.loads((out / "report.json").read_text())
    assert doc["name"] == "sine_mlp" and doc["dtype"] == "int8" and doc["macs"] == 288
    assert "lower bound" in done.stdout and "dense" in done.stdout
    assert tinyc("report", out).stdout.strip() in done.stdout


def test_generated_makefile_builds_the_host_program(tmp_path):
    need_tool("make")
    out = tmp_path / "out"
    assert tinyc("compile", model_path(SINE), "-o", out, "--dtype", "float32").returncode == 0
    subprocess.run(["make", "-C", str(out)], check=True, capture_output=True)
    x = np.array([1.0], np.float32)
    y = subprocess.run([str(out / "sine_mlp_host")], input=x.tobytes(), capture_output=True, check=True).stdout
    assert abs(np.frombuffer(y, np.float32)[0] - np.sin(1.0)) < 0.1


def test_run_on_host_saves_results_in_the_input_layout(tmp_path):
    samples = MODELS_DIR / "samples" / f"{SINE}_samples.npz"
    for target in ("ref", "host"):
        done = tinyc("run", model_path(SINE), "--target", target, "--input", samples, "--calib", samples,
                     "--output", tmp_path / f"{target}.npy", "--report", tmp_path / "r.json")
        assert done.returncode == 0, done.stderr
    ref, host = np.load(tmp_path / "ref.npy"), np.load(tmp_path / "host.npy")
    assert ref.dtype == np.int8 and ref.shape == (16, 1) and np.array_equal(ref, host)
    assert json.loads((tmp_path / "r.json").read_text())["measured"] is None


def test_verify_passes_on_a_real_model():
    done = tinyc("verify", model_path("kws_arm_dnn_s"))
    assert done.returncode == 0, done.stderr
    assert "agree bit for bit on 32 sample(s)" in done.stdout


def test_missing_file_is_an_error(tmp_path):
    assert_one_line_error(tinyc("compile", tmp_path / "nope.onnx", "-o", tmp_path / "o"), "nope.onnx", "no such file")
    assert not (tmp_path / "o").exists()


def test_a_file_that_is_not_onnx_is_an_error(tmp_path):
    bad = tmp_path / "model.onnx"
    bad.write_text("this is not a protobuf\n" * 20)
    assert_one_line_error(tinyc("compile", bad, "-o", tmp_path / "o"), "model.onnx")
    assert not (tmp_path / "o").exists()


def test_a_truncated_onnx_file_is_an_error(tmp_path):
    data = model_path("mnist8_cnn").read_bytes()
    bad = tmp_path / "cut.onnx"
    bad.write_bytes(data[: len(data) // 2])
    assert_one_line_error(tinyc("compile", bad, "-o", tmp_path / "o"), "cut.onnx")
    assert not (tmp_path / "o").exists()


def test_unsupported_ops_are_listed_in_one_line(tmp_path):
    nodes = [helper.make_node("Acos", ["x"], ["e"], name="acos_1"), helper.make_node("Asinh", ["e"], ["y"], name="r2")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    assert_one_line_error(tinyc("compile", path, "-o", tmp_path / "o"), "'acos_1' (Acos)", "'r2' (Asinh)")
    assert not (tmp_path / "o").exists()


def test_unknown_input_dimension_is_an_error(tmp_path):
    path = tmp_path / "m.onnx"
    onnx.save(one_node_model("Relu", [("x", ("batch", 4))]), path)
    assert_one_line_error(tinyc("compile", path, "-o", tmp_path / "o"), "input 'x'", "batch")


@pytest.mark.parametrize("args,fragment", [
    (["--dtype", "int4"], "--dtype 'int4'"),
    (["--calib", "missing.npz"], "missing.npz: no such file"),
    (["--board", "no-such-board"], "--board 'no-such-board'"),
    (["--seed", "x"], "--seed"),
    (["--calibration", "kl"], "--calibration 'kl': choose minmax, percentile or mse"),
])
def test_bad_compile_options_are_errors(tmp_path, args, fragment):
    out = tmp_path / "o"
    assert_one_line_error(tinyc("compile", model_path(SINE), "-o", out, *args, cwd=tmp_path), fragment)
    assert not out.exists()


def test_bad_run_options_are_errors(tmp_path):
    samples = tmp_path / "x.npy"
    np.save(samples, np.zeros((3, 7), np.float32))
    assert_one_line_error(tinyc("run", model_path(SINE), "--target", "host", "--input", samples), "[3, 7]")
    np.save(samples, np.zeros((3, 1), np.float32))
    assert_one_line_error(tinyc("run", model_path(SINE), "--target", "gpu", "--input", samples), "--target 'gpu'")
    assert_one_line_error(tinyc("run", model_path(SINE), "--target", "ref", "--input", samples, "--output",
                                tmp_path / "r.txt"), "r.txt")


def test_report_of_a_folder_without_report_is_an_error(tmp_path):
    assert_one_line_error(tinyc("report", tmp_path), "report.json")


def test_hostile_onnx_names_still_give_correct_compiling_c(tmp_path):
    """Names holding a comment end, a newline, quotes and backslashes are data, never code."""
    evil_in, evil_mid, evil_out = 'in*/ "x"\n#include', "mid\\\n*/ int z;", "out'/*\"\n"
    relu = helper.make_node("Relu", [evil_mid], [evil_out], name="relu */ exit(1); /*")
    model = one_node_model("Gemm", [(evil_in, (1, 5)), ("w */", w(5, 3)), ("b\n", w(3))], {"transB": 0},
                           node_name='gemm"\n*/', output_names=[evil_mid], extra_nodes=[relu])
    del model.graph.output[:]
    model.graph.output.append(helper.make_tensor_value_info(evil_out, TensorProto.FLOAT, None))
    model = with_output_shapes(model)
    path = tmp_path / "evil model.onnx"
    onnx.save(model, path)
    x = np.random.default_rng(0).standard_normal((4, 1, 5)).astype(np.float32)
    np.savez(tmp_path / "x.npz", **{evil_in: x})
    done = tinyc("run", path, "--dtype", "float32", "--target", "host", "--input", tmp_path / "x.npz",
                 "--output", tmp_path / "y.npy")
    assert done.returncode == 0, done.stderr
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    expected = np.stack([session.run(None, {evil_in: xi})[0] for xi in x])
    np.testing.assert_allclose(np.load(tmp_path / "y.npy").reshape(expected.shape), expected, rtol=1e-5, atol=1e-6)
    assert tinyc("verify", path, "--name", "evil model").returncode == 0


def test_readme_c_example_compiles_and_classifies(tmp_path):
    """The README's firmware example builds against the generated API and gives the model's class."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    example = readme.split("```c\n", 1)[1].split("```", 1)[0]
    out = tmp_path / "kws"
    examples = Path(__file__).resolve().parents[2] / "examples"
    assert tinyc("compile", examples / "kws_dscnn.onnx", "-o", out, "--calib",
                 examples / "kws_dscnn_samples.npz").returncode == 0
    (out / "main_host.c").unlink()
    x = np.load(examples / "kws_dscnn_samples.npz")["input"].astype(np.float32).ravel()
    (tmp_path / "app.c").write_text(example + "\n#include <stdio.h>\nstatic const float sample[] = {"
                                    + ", ".join(c_float(v) for v in x) + "};\n"
                                    "int main(void) { printf(\"%d\\n\", classify(sample)); return 0; }\n")
    exe = tmp_path / "app"
    sources = [str(p) for p in sorted(out.glob("*.c")) + sorted((out / "tinyc").glob("*.c"))]
    subprocess.run(["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2", "-I", str(out),
                    "-o", str(exe), str(tmp_path / "app.c"), *sources, "-lm"], check=True)
    assert subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.strip() == "5"  # "On"
