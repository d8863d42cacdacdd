"""Models as onnxruntime's quantizer writes them: an int32 bias comes back as the file's integers, the
QOperator ops keep the file's parameters, and what tinyc cannot take is one line naming the node."""

from __future__ import annotations

import logging

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.ort_quantized import quantized_file
from tests.zoo_models import feeds_of, path_of
from tinyc import pipeline
from tinyc.errors import UnsupportedOp

logging.getLogger().setLevel(logging.ERROR)  # onnxruntime's quantizer advises pre-processing on every call


def _int32_biases(model: onnx.ModelProto) -> list[np.ndarray]:
    """The int32 data read by DequantizeLinear (QDQ) or as QLinearConv's B and QGemm's C (QOperator)."""
    read = {n.input[0] for n in model.graph.node if n.op_type == "DequantizeLinear"}
    read |= {n.input[8] for n in model.graph.node if n.op_type == "QLinearConv" and len(n.input) > 8}
    read |= {n.input[6] for n in model.graph.node if n.op_type == "QGemm" and len(n.input) > 6}
    return [numpy_helper.to_array(i) for i in model.graph.initializer
            if i.data_type == TensorProto.INT32 and i.name in read]


@pytest.mark.parametrize("model,form", [("mlp_flatten_classic13", "qdq"), ("resnet_classic13", "qoperator"),
                                        ("tcn_classic13", "qdq")])
def test_int32_bias_comes_back_as_the_files_integers(tmp_path, model, form):
    path = quantized_file(model + ".onnx", tmp_path, form)
    g = pipeline.build(path, pipeline.Options(dtype="int8", calib=feeds_of(model + ".onnx"))).graph
    ours = [t.data for n in g.nodes if n.op in ("conv2d", "dense") for t in [g.tensors[n.inputs[2]]]]
    theirs = _int32_biases(onnx.load(str(path)))
    assert len(ours) == len(theirs) > 0
    for mine in ours:  # dequantized to float, requantized by input scale x weight scale: the same integers
        assert any(mine.shape == b.shape and np.array_equal(mine, b) for b in theirs), mine[:4]


def test_qoperator_conv_keeps_the_files_parameters(tmp_path):
    path = quantized_file("resnet_classic13.onnx", tmp_path, "qoperator", "uint8")
    model = onnx.load(str(path))
    conv = next(n for n in model.graph.node if n.op_type == "QLinearConv")
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    g = pipeline.build(path, pipeline.Options(dtype="int8", calib=feeds_of("resnet_classic13.onnx"))).graph
    node = next(n for n in g.nodes if n.outputs[0] == conv.output[0])
    y = g.tensors[node.outputs[0]].q
    assert y.scale[0] == pytest.approx(float(inits[conv.input[6]]), rel=1e-7)
    assert y.zero_point[0] == int(inits[conv.input[7]]) - 128  # uint8 moved onto int8
    w = g.tensors[node.inputs[1]]
    assert np.array_equal(w.data, inits[conv.input[3]]) and np.allclose(w.q.scale, inits[conv.input[4]])


def _qoperator_model(tmp_path, nodes, inits, out_shape=(1, 2, 4, 4)) -> str:
    graph = helper.make_graph(nodes, "q", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(out_shape))],
                              [numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    opsets = [helper.make_opsetid("", 13), helper.make_opsetid("com.microsoft", 1)]
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 8
    path = tmp_path / "q.onnx"
    onnx.save(model, path)
    return str(path)


SCALES = {"s": np.float32(0.05), "z": np.int8(3), "s2": np.float32(0.1), "z2": np.int8(-5)}


def _compile(path):
    return pipeline.build(path, pipeline.Options(dtype="int8", calib={"x": np.ones((1, 1, 2, 4, 4), np.float32)}))


def test_qoperator_sigmoid_keeps_the_files_output_parameters(tmp_path):
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["xq"]),
             helper.make_node("QLinearSigmoid", ["xq", "s", "z", "s2", "z2"], ["yq"], name="sig",
                              domain="com.microsoft"),
             helper.make_node("DequantizeLinear", ["yq", "s2", "z2"], ["y"])]
    g = _compile(_qoperator_model(tmp_path, nodes, SCALES)).graph
    assert g.tensors["y"].q.scale[0] == pytest.approx(0.1) and g.tensors["y"].q.zero_point[0] == -5


def test_input_read_with_other_parameters_than_written_is_an_error(tmp_path):
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["xq"]),
             helper.make_node("QLinearSigmoid", ["xq", "s2", "z", "s2", "z2"], ["yq"], name="sig",
                              domain="com.microsoft"),
             helper.make_node("DequantizeLinear", ["yq", "s2", "z2"], ["y"])]
    with pytest.raises(UnsupportedOp, match=r"^node 'sig' \(QLinearSigmoid\): input 'xq' is read with scale 0.1"):
        _compile(_qoperator_model(tmp_path, nodes, SCALES))


def test_channels_last_pool_is_an_error(tmp_path):
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["xq"]),
             helper.make_node("QLinearGlobalAveragePool", ["xq", "s", "z", "s", "z"], ["yq"], name="gap",
                              domain="com.microsoft", channels_last=1),
             helper.make_node("DequantizeLinear", ["yq", "s", "z"], ["y"])]
    with pytest.raises(UnsupportedOp, match=r"^node 'gap' \(QLinearGlobalAveragePool\): channels_last=1 unsupported"):
        _compile(_qoperator_model(tmp_path, nodes, SCALES, (1, 2, 1, 1)))


def test_unknown_com_microsoft_op_is_an_error(tmp_path):
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["xq"]),
             helper.make_node("QLinearReduceMean", ["xq", "s", "z", "s", "z"], ["yq"], name="rm",
                              domain="com.microsoft"),
             helper.make_node("DequantizeLinear", ["yq", "s", "z"], ["y"])]
    with pytest.raises(UnsupportedOp, match=r"^1 unsupported node\(s\): 'rm' \(QLinearReduceMean\)$"):
        _compile(_qoperator_model(tmp_path, nodes, SCALES))


@pytest.mark.parametrize("zero_point,message", [
    (np.int16(0), r"zero point of type int16 unsupported; only int8 and uint8$"),
    (np.uint16(0), r"zero point of type uint16 unsupported; only int8 and uint8$")])
def test_activation_zero_point_without_int8_meaning_is_an_error(tmp_path, zero_point, message):
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["xq"], name="q"),
             helper.make_node("DequantizeLinear", ["xq", "s", "z"], ["y"])]
    with pytest.raises(UnsupportedOp, match=r"^node 'q' \(QuantizeLinear\): " + message):
        _compile(_qoperator_model(tmp_path, nodes, {"s": np.float32(0.05), "z": zero_point}))


def test_int32_bias_with_a_zero_point_is_an_error(tmp_path):
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["xq"]),
             helper.make_node("DequantizeLinear", ["xq", "s", "z"], ["xd"]),
             helper.make_node("DequantizeLinear", ["bq", "bs", "bz"], ["b"], name="dqb"),
             helper.make_node("Add", ["xd", "b"], ["y"])]
    inits = dict(SCALES, bq=np.array([100, -100], np.int32).reshape(2, 1, 1), bs=np.float32(0.01), bz=np.int32(7))
    with pytest.raises(UnsupportedOp, match=r"^node 'dqb' \(DequantizeLinear\): int32 zero point 7 unsupported; "
                                            r"only 0$"):
        _compile(_qoperator_model(tmp_path, nodes, inits))


def test_dynamically_quantized_model_is_an_error(tmp_path):
    from onnxruntime.quantization import quantize_dynamic

    out = tmp_path / "dynamic.onnx"
    quantize_dynamic(str(path_of("mlp_flatten_classic13.onnx")), str(out))
    with pytest.raises(UnsupportedOp, match=r"^node '[^']+' \(DynamicQuantizeLinear\): dynamic quantization "
                                            r"\(onnxruntime's quantize_dynamic\) unsupported.*quantize_static$"):
        pipeline.build(out, pipeline.Options(dtype="int8", calib=feeds_of("mlp_flatten_classic13.onnx")))
