"""Zoo models quantized by onnxruntime (quantize_static: QDQ per channel, and the QOperator form) compile
with their own scales; the int8 C equals the reference interpreter bit for bit, and tinyc's output is within
2 output quantization steps of onnxruntime's own execution of the same file on at least 99 % of elements
(docs/onnxruntime_quantization.md has the table: scripts/ort_agreement.py)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.ort_quantized import CASES, measure, output_params


def _check(tmp_path, model: str, form: str, activations: str, weights: str = "int8") -> None:
    need_tool("cc")
    m = measure(model, form, activations, tmp_path, weights)
    g = m["graph"]
    for name, (scale, zero_point) in output_params(m["path"]).items():  # the file's own output parameters
        assert g.tensors[name].q.scale[0] == pytest.approx(scale, rel=1e-7), name
        assert g.tensors[name].q.zero_point[0] == zero_point, name
    for name in g.outputs:
        assert np.array_equal(m["ref"][name], m["host"][name]), name
    print(f"{model} {form} {activations} (weights {weights}): {m['agreement']}")
    assert m["agreement"]["within2"] >= 99.0, m["agreement"]


@pytest.mark.parametrize("model,form,activations", CASES)
def test_onnxruntime_quantized_zoo_model_agrees_with_onnxruntime(tmp_path, model, form, activations):
    _check(tmp_path, model, form, activations)


@pytest.mark.parametrize("form", ["qdq", "qoperator"])
def test_asymmetric_uint8_weights_are_requantized_and_agree(tmp_path, form):
    """onnxruntime's uint8 weights are asymmetric per tensor; tinyc's kernels take symmetric per-channel ones,
    so those weights alone are quantized afresh (the activations keep the file's parameters)."""
    _check(tmp_path, "resnet_classic13", form, "uint8", weights="uint8")
