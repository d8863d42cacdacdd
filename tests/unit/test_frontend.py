"""Each ONNX lowering on a one-node model: the float reference interpreter agrees with onnxruntime.

onnxruntime, not onnx.reference, is the oracle: onnx.reference (1.23) gives wrong results for opset-11
Softmax (it ignores the coercion to 2-D) and for BatchNormalization in inference mode.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
import onnxruntime as ort

from tests.onnx_cases import CASES, case_inputs, case_model, one_node_model, w, with_output_shapes
from tinyc import interpreter, pipeline
from tinyc.errors import BadInput, UnsupportedOp


def _save(model: onnx.ModelProto, tmp_path, name="m") -> str:
    path = tmp_path / f"{name}.onnx"
    onnx.save(model, path)
    return str(path)


class ReferenceEvaluator:
    """onnxruntime behind the run(None, feeds) call of onnx.reference."""

    def __init__(self, model: onnx.ModelProto):
        self.session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])

    def run(self, _, feeds):
        return self.session.run(None, feeds)


@pytest.mark.parametrize("case", sorted(CASES))
def test_lowering_matches_onnx_reference(case, tmp_path):
    model = case_model(case)
    g = pipeline.frontend(_save(model, tmp_path))
    x = case_inputs(model, count=2)
    got = interpreter.run_samples(g, x)
    session = ReferenceEvaluator(model)
    for i in range(2):
        expected = session.run(None, {k: v[i] for k, v in x.items()})
        for out, exp in zip(g.outputs, expected):
            assert g.tensors[out].shape == exp.shape  # shape inference agrees exactly, no broadcasting
            np.testing.assert_allclose(got[out][i], exp, rtol=1e-5, atol=1e-5)


def test_batchnorm_after_conv_is_folded_into_its_weights(tmp_path):
    bn = helper.make_node("BatchNormalization", ["c", "s", "b", "m", "v"], ["y0"], name="bn")
    model = one_node_model("Conv", [("x", (1, 2, 5, 5)), ("w", w(3, 2, 3, 3))], {}, output_names=["c"],
                           extra_nodes=[bn])
    for name, value in (("s", w(3)), ("b", w(3)), ("m", w(3)), ("v", np.abs(w(3)) + 0.5)):
        model.graph.initializer.append(onnx.numpy_helper.from_array(value, name))
    del model.graph.output[:]
    model.graph.output.append(helper.make_tensor_value_info("y0", TensorProto.FLOAT, None))
    model = with_output_shapes(model)
    g = pipeline.frontend(_save(model, tmp_path))
    assert [n.op for n in g.nodes] == ["conv2d"]
    x = case_inputs(model)
    expected = ReferenceEvaluator(model).run(None, {"x": x["x"][0]})[0]
    np.testing.assert_allclose(interpreter.run_samples(g, x)["y0"][0], expected, rtol=1e-4, atol=1e-5)


def test_relu_after_dense_is_fused_and_keeps_outputs(tmp_path):
    relu = helper.make_node("Relu", ["m"], ["y0"], name="relu")
    model = one_node_model("MatMul", [("x", (1, 6)), ("w", w(6, 4))], {}, output_names=["m"], extra_nodes=[relu])
    del model.graph.output[:]
    model.graph.output.append(helper.make_tensor_value_info("y0", TensorProto.FLOAT, None))
    model = with_output_shapes(model)
    g = pipeline.frontend(_save(model, tmp_path))
    assert [(n.op, n.attrs["act"]) for n in g.nodes] == [("dense", (0.0, None))]
    x = case_inputs(model)
    expected = ReferenceEvaluator(model).run(None, {"x": x["x"][0]})[0]
    np.testing.assert_allclose(interpreter.run_samples(g, x)["y0"][0], expected, rtol=1e-5, atol=1e-6)


def test_every_unsupported_node_is_listed_in_one_error(tmp_path):
    erf = helper.make_node("Acos", ["y0"], ["e"], name="my_acos")  # outside the coverage op set
    gelu = helper.make_node("Asinh", ["e"], ["r"], name="my_asinh")
    model = one_node_model("Relu", [("x", (1, 4))], {}, extra_nodes=[erf, gelu])
    del model.graph.output[:]
    model.graph.output.append(helper.make_tensor_value_info("r", TensorProto.FLOAT, None))
    model = with_output_shapes(model)
    with pytest.raises(UnsupportedOp) as e:
        pipeline.frontend(_save(model, tmp_path))
    assert "'my_acos' (Acos)" in str(e.value) and "'my_asinh' (Asinh)" in str(e.value)


def test_unknown_attribute_names_node_and_attribute(tmp_path):
    model = one_node_model("LSTM", [("x", (3, 1, 2)), ("W", w(1, 8, 2)), ("R", w(1, 8, 2))],
                           {"hidden_size": 2, "direction": "sideways"}, n_outputs=2)
    with pytest.raises(UnsupportedOp, match=r"node 'node' \(LSTM\): direction='sideways' unsupported"):
        pipeline.frontend(_save(model, tmp_path))


def test_unknown_input_dimension_is_an_error(tmp_path):
    model = one_node_model("Relu", [("x", ("N", 4))], {})
    with pytest.raises(BadInput, match=r"input 'x' has unknown dimensions \[N, 4\]"):
        pipeline.frontend(_save(model, tmp_path))


def test_qdq_model_keeps_its_own_scales(tmp_path):
    scale, zp = np.array(0.05, np.float32), np.array(3, np.int8)
    wq = np.array([[10, -20, 30], [40, 50, -60]], np.int8)  # (in 2, out 3) for MatMul
    ws = np.array([0.01, 0.02, 0.03], np.float32)
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "z"], ["xq"], name="q"),
        helper.make_node("DequantizeLinear", ["xq", "s", "z"], ["xd"], name="dq"),
        helper.make_node("DequantizeLinear", ["wq", "ws"], ["wd"], name="dqw", axis=1),
        helper.make_node("MatMul", ["xd", "wd"], ["m"], name="mm"),
        # the result quantized too: a MatMul whose result has no QuantizeLinear is one the file computes in float
        helper.make_node("QuantizeLinear", ["m", "s", "z"], ["mq"], name="qm"),
        helper.make_node("DequantizeLinear", ["mq", "s", "z"], ["y"], name="dqm"),
    ]
    inits = [onnx.numpy_helper.from_array(a, n) for a, n in ((scale, "s"), (zp, "z"), (wq, "wq"), (ws, "ws"))]
    graph = helper.make_graph(nodes, "qdq", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    model = with_output_shapes(model)
    compiled = pipeline.build(_save(model, tmp_path), pipeline.Options(calib={"x": np.ones((1, 1, 2), np.float32)}))
    g = compiled.graph
    assert g.tensors["x"].q.scale[0] == pytest.approx(0.05) and g.tensors["x"].q.zero_point[0] == 3
    weight = next(t for t in g.tensors.values() if t.is_const and t.dtype == "int8")
    assert np.array_equal(weight.data, wq.T)  # the file's int8 values survive exactly
    np.testing.assert_allclose(weight.q.scale, ws)
