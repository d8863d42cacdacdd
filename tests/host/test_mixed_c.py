"""Mixed precision as generated C under ASan/UBSan: the arena plan holds int8 and float32 activations, the
boundary kernels equal the reference bit for bit, and `verify` reports the difference in output steps."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from tests.conftest import need_tool
from tests.mixed_models import max_mlp, outlier_mlp, samples, without_int8_form
from tinyc import cli, interpreter, pipeline, runners
from tinyc.selftest import MIXED_STEPS


@pytest.fixture(autouse=True)
def _cc():
    need_tool("cc")


def _host_and_ref(model: onnx.ModelProto, tmp_path, **kw):
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    c = pipeline.build(path, pipeline.Options(dtype="int8", calib={"x": samples(64)}, **kw))
    feeds = interpreter.feeds_for(c.graph, {"x": samples(48, seed=9)})
    return c, runners.run_host(c, feeds, sanitize=True), interpreter.run_samples(c.graph, feeds)


def test_an_exact_float_layer_gives_c_equal_to_the_reference(tmp_path):
    c, host, ref = _host_and_ref(max_mlp(), tmp_path, float_layers="/floor/Max")
    assert c.graph.is_mixed
    np.testing.assert_array_equal(host["y"], ref["y"])


@pytest.mark.parametrize("log_softmax, float_layers", [(False, "fc2"), (True, "fc2"), (True, None)])
def test_float_dense_and_log_softmax_are_within_the_mixed_tolerance(tmp_path, monkeypatch, log_softmax, float_layers):
    if log_softmax:
        without_int8_form(monkeypatch, "log_softmax")  # the float32 log softmax inside an int8 model
    c, host, ref = _host_and_ref(outlier_mlp(log_softmax=log_softmax), tmp_path, float_layers=float_layers)
    out = c.graph.outputs[0]
    float_bytes = sum(c.graph.tensors[n].nbytes for n in c.plan.offsets if n in c.graph.tensors
                      and c.graph.tensors[n].dtype == "float32")
    assert float_bytes > 0 and c.plan.arena >= max(t.nbytes for t in c.graph.tensors.values() if not t.is_const)
    diff = np.abs(host[out].astype(np.int32) - ref[out].astype(np.int32))
    assert diff.max() <= MIXED_STEPS


def test_verify_reports_steps_for_a_mixed_model_and_bit_exactness_without(tmp_path, capsys):
    path = tmp_path / "mlp.onnx"
    onnx.save(outlier_mlp(), path)
    np.savez(tmp_path / "calib.npz", x=samples(64))
    calib = str(tmp_path / "calib.npz")
    assert cli.main(["verify", str(path), "--calib", calib, "--float-layers", "fc2"]) == 0
    out = capsys.readouterr().out
    assert "host: logits within 0 quantization step(s) of ref" in out
    assert "OK: ref = host agree within 2 quantization steps on 32 sample(s) (int8 with float32 layers)" in out
    assert cli.main(["verify", str(path), "--calib", calib]) == 0
    assert "agree bit for bit on 32 sample(s) (int8)" in capsys.readouterr().out
