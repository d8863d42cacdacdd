"""int8 forms of max, min, where, div, pow and softmax on any axis: the reference interpreter's
int8 output within the stated number of output quantization steps of onnxruntime (tests/int8_op_cases.py),
and what stays float."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from tests.int8_op_cases import CASES, compile_int8, error_in_steps
from tests.onnx_cases import one_node_model
from tinyc import pipeline


@pytest.mark.parametrize("name", sorted(CASES))
def test_int8_reference_within_steps_of_onnxruntime(name, tmp_path):
    compiled, model, x = compile_int8(name, tmp_path)
    assert all(t.dtype == "int8" for n, t in compiled.graph.tensors.items() if n in compiled.graph.outputs)
    assert error_in_steps(compiled, model, x) <= CASES[name][5]


def test_pow_of_two_activations_stays_float(tmp_path):
    path = tmp_path / "pow.onnx"
    onnx.save(one_node_model("Pow", [("a", (2, 3)), ("b", (2, 3))]), path)
    x = {"a": np.ones((2, 2, 3), np.float32), "b": np.ones((2, 2, 3), np.float32)}
    compiled = pipeline.build(path, pipeline.Options(dtype="int8", calib=x))  # runs in float32 inside int8
    assert compiled.graph.is_mixed and [n.op for n in compiled.graph.nodes if n.op == "pow"] == ["pow"]
    assert any("no int8 form (int8 needs one side a constant scalar" in w for w in compiled.warnings)


def test_div_by_zero_saturates(tmp_path):
    # 1 / 0 = +inf -> 127, -1 / 0 = -inf -> -128, 0 / 0 = NaN -> the output zero point (0.0)
    compiled, _, _ = compile_int8("div_two", tmp_path)
    g = compiled.graph
    node = g.nodes[0]
    from tinyc import ops
    zb = node.attrs["int8"]["b_zp"]
    za = node.attrs["int8"]["a_zp"]
    a = np.array([za + 5, za - 5, za], np.int8).reshape(1, 1, 3)
    b = np.full((1, 1, 3), zb, np.int8)
    y = ops.get("div").ref_int8(node, [a, b])[0]
    assert y.ravel().tolist() == [127, -128, node.attrs["int8"]["output_zp"]]
