"""Models a user may bring that tinyc cannot compile: each gives one `error:` line naming the tensor, node
or limit, and exit status 1, through the CLI (never a traceback)."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from tinyc import cli

EXAMPLE = "examples/digits_mlp.onnx"


def _compile(capsys, tmp_path, model: onnx.ModelProto | bytes, *extra: str) -> str:
    """Compile and return the one error line (the test fails unless exit status is 1 with one line)."""
    path = tmp_path / "m.onnx"
    path.write_bytes(model if isinstance(model, bytes) else model.SerializeToString())
    rc = cli.main(["compile", str(path), "-o", str(tmp_path / "out"), *extra])
    err = capsys.readouterr().err.strip()
    assert rc == 1, err
    lines = [line for line in err.splitlines() if not line.startswith("warning:")]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def _mlp() -> onnx.ModelProto:
    return onnx.load(EXAMPLE)


def _set_init(m: onnx.ModelProto, name: str, array: np.ndarray) -> None:
    init = next(i for i in m.graph.initializer if i.name == name)
    init.CopyFrom(numpy_helper.from_array(array, name))


def _first_weight(m: onnx.ModelProto) -> str:
    return max(m.graph.initializer, key=lambda i: np.prod(i.dims)).name


def _one_node(op: str, x_shape, inits: dict, attrs=None, y_shape=None, opset=17, domain="") -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, y_shape or x_shape)
    node = helper.make_node(op, ["x", *inits], ["y"], name="n0", domain=domain, **(attrs or {}))
    graph = helper.make_graph([node], "g", [x], [y], [numpy_helper.from_array(v, k) for k, v in inits.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_weight_names_the_tensor(capsys, tmp_path, dtype, bad):
    m = _mlp()
    name = _first_weight(m)
    w = numpy_helper.to_array(next(i for i in m.graph.initializer if i.name == name)).copy()
    w.flat[7] = bad
    _set_init(m, name, w)
    line = _compile(capsys, tmp_path, m, "--dtype", dtype)
    assert "must be finite" in line and str(bad) in line


def test_prelu_slope_that_does_not_broadcast(capsys, tmp_path):
    m = _one_node("PRelu", [2, 3, 4], {"slope": np.ones(3, np.float32)})
    m.graph.node[0].name = "prelu_0"
    line = _compile(capsys, tmp_path, m, "--dtype", "float32")
    assert "does not broadcast" in line and "prelu" in line


def test_batchnorm_scale_of_wrong_size(capsys, tmp_path):
    inits = {k: np.ones(n, np.float32) for k, n in [("s", 5), ("b", 3), ("mean", 3), ("var", 3)]}
    line = _compile(capsys, tmp_path, _one_node("BatchNormalization", [1, 3, 4, 4], inits), "--dtype", "float32")
    assert "n0" in line


@pytest.mark.parametrize("dim", [0, -1])
def test_zero_or_negative_input_dim(capsys, tmp_path, dim):
    m = _mlp()
    m.graph.input[0].type.tensor_type.shape.dim[1].dim_value = dim
    line = _compile(capsys, tmp_path, m)
    assert repr(m.graph.input[0].name) in line


def test_zero_size_initializer(capsys, tmp_path):
    m = _mlp()
    name = _first_weight(m)
    shape = list(next(i for i in m.graph.initializer if i.name == name).dims)
    _set_init(m, name, np.zeros([0] + shape[1:], np.float32))
    _compile(capsys, tmp_path, m)


def test_graph_output_that_is_a_graph_input(capsys, tmp_path):
    m = _mlp()
    m.graph.output.append(onnx.ValueInfoProto())
    m.graph.output[-1].CopyFrom(m.graph.input[0])
    line = _compile(capsys, tmp_path, m)
    assert "is a graph input" in line


def test_duplicate_tensor_names(capsys, tmp_path):
    m = _mlp()
    dup = onnx.TensorProto()
    dup.CopyFrom(m.graph.initializer[0])
    m.graph.initializer.append(dup)
    line = _compile(capsys, tmp_path, m)
    assert repr(dup.name) in line and "twice" in line


def test_duplicate_node_output(capsys, tmp_path):
    m = _mlp()
    m.graph.node[1].output[0] = m.graph.node[0].output[0]
    line = _compile(capsys, tmp_path, m)
    assert repr(m.graph.node[0].output[0]) in line


def test_nodes_out_of_topological_order(capsys, tmp_path):
    m = _mlp()
    nodes = list(m.graph.node)
    del m.graph.node[:]
    m.graph.node.extend(nodes[::-1])
    line = _compile(capsys, tmp_path, m)
    assert "topologically sorted" in line


def test_unknown_domain(capsys, tmp_path):
    m = _one_node("FusedGemm", [1, 4], {}, domain="com.microsoft")
    m.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    line = _compile(capsys, tmp_path, m)
    assert "FusedGemm" in line


def test_op_from_a_newer_opset(capsys, tmp_path):
    m = _one_node("Relu", [1, 4], {}, opset=onnx.defs.onnx_opset_version() + 5)
    line = _compile(capsys, tmp_path, m)
    assert "opset" in line.lower()


@pytest.mark.parametrize("data", [b"", b"\x08", bytes(range(256)) * 7], ids=["empty", "one-byte", "random"])
def test_file_that_is_not_a_model(capsys, tmp_path, data):
    _compile(capsys, tmp_path, data)


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.99])
def test_truncated_file(capsys, tmp_path, cut):
    data = open(EXAMPLE, "rb").read()
    _compile(capsys, tmp_path, data[:int(len(data) * cut)])


def test_random_bytes(capsys, tmp_path):
    _compile(capsys, tmp_path, np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())


def test_initializer_with_truncated_raw_data(capsys, tmp_path):
    m = _mlp()
    init = next(i for i in m.graph.initializer if i.name == _first_weight(m))
    if not init.raw_data:
        init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init), init.name))
    init.raw_data = init.raw_data[:-6]
    line = _compile(capsys, tmp_path, m)
    assert init.name in line


@pytest.mark.parametrize("elem", [TensorProto.INT64, TensorProto.UINT8, TensorProto.DOUBLE, TensorProto.FLOAT16])
def test_input_of_non_float_type(capsys, tmp_path, elem):
    m = _mlp()
    m.graph.input[0].type.tensor_type.elem_type = elem
    line = _compile(capsys, tmp_path, m)
    assert "float32" in line or repr(m.graph.input[0].name) in line


def test_huge_activation_names_the_limit(capsys, tmp_path):
    m = _one_node("Relu", [1, 1 << 27], {})
    line = _compile(capsys, tmp_path, m, "--dtype", "float32")
    assert "limit" in line


def test_name_that_is_not_utf8(capsys, tmp_path):
    data = onnx.load(EXAMPLE).SerializeToString()
    name = onnx.load(EXAMPLE).graph.node[0].name.encode()
    assert name in data
    line = _compile(capsys, tmp_path, data.replace(name, name[:-1] + b"\xff"))
    assert "UTF-8" in line


def test_stride_beyond_32_bits_names_the_node(capsys, tmp_path):
    m = _one_node("AveragePool", [1, 1, 8, 8], {}, {"kernel_shape": [2, 2], "strides": [1 << 40, 1]}, [1, 1, 1, 7])
    line = _compile(capsys, tmp_path, m, "--dtype", "float32")
    assert "'n0'" in line and "32-bit" in line
