"""Gemm and MatMul forms beyond dense-with-a-constant-weight, float32 C (ASan/UBSan) and the reference
interpreter against onnxruntime: transA, a matrix or column bias, alpha/beta, batch broadcast beyond
rank 4, constant right operands of rank 1 and 3, a constant left operand; and the clear errors."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.conformance import max_error
from tests.conftest import need_tool
from tests.onnx_cases import with_output_shapes
from tinyc import pipeline, runners
from tinyc.errors import UnsupportedOp

pytestmark = pytest.mark.host
RNG = np.random.default_rng(3)


def _w(*shape):
    return RNG.normal(0, 0.5, shape).astype(np.float32)


# (op, activation input shapes, constant inputs (None: an activation), attrs)
NODES = [
    ("Gemm", [(4, 3)], [None, _w(4, 5), _w(3, 5)], {"transA": 1, "alpha": 0.5, "beta": 2.0}),
    ("Gemm", [(3, 6)], [None, _w(4, 6), _w(3, 1)], {"transB": 1}),
    ("Gemm", [(2, 6)], [None, _w(6, 4), _w(1)], {"beta": -1.5}),
    ("MatMul", [(2, 1, 3, 4, 5), (3, 5, 2)], [None, None], {}),
    ("MatMul", [(2, 3, 2, 2, 4, 5), (5, 2)], [None, None], {}),
    ("MatMul", [(3, 5), (2, 4, 5, 3)], [None, None], {}),
    ("MatMul", [(2, 3, 4)], [None, _w(4)], {}),
    ("MatMul", [(3, 4)], [None, _w(2, 4, 5)], {}),
    ("MatMul", [(4, 5)], [_w(2, 3, 4), None], {}),
    ("MatMul", [(4,)], [None, _w(4, 3)], {}),
]


def _model(nodes) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    graph_nodes, inputs, outputs, inits, feeds = [], [], [], [], {}
    for i, (op, shapes, consts, attrs) in enumerate(nodes):
        names, act = [], iter(shapes)
        for j, c in enumerate(consts):
            name = f"in{i}_{j}"
            names.append(name)
            if c is None:
                shape = next(act)
                inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape)))
                feeds[name] = RNG.uniform(-2, 2, shape).astype(np.float32)
            else:
                inits.append(numpy_helper.from_array(c, name))
        outputs.append(helper.make_tensor_value_info(f"y{i}", TensorProto.FLOAT, None))
        graph_nodes.append(helper.make_node(op, names, [f"y{i}"], name=f"n{i}", **attrs))
    model = helper.make_model(helper.make_graph(graph_nodes, "g", inputs, outputs, inits),
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return with_output_shapes(model), feeds


def _build(model: onnx.ModelProto, tmp: str):
    path = Path(tmp) / "m.onnx"
    onnx.save(model, path)
    return pipeline.build(path, pipeline.Options(dtype="float32", name="model"))


def test_gemm_and_matmul_forms_match_onnxruntime():
    need_tool("cc")
    ort = pytest.importorskip("onnxruntime")
    model, feeds = _model(NODES)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    expected = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds)))
    with tempfile.TemporaryDirectory() as tmp:
        compiled = _build(model, tmp)
        samples = {n: feeds[n][None] for n in compiled.graph.inputs}
        for target in ("ref", "host"):
            got = runners.run(compiled, samples, "ref") if target == "ref" else \
                runners.run_host(compiled, samples, sanitize=True)
            for name, exp in expected.items():
                assert max_error(np.asarray(got[name][0]), exp) <= 1e-5, (target, name)


def test_matmul_batch_broadcast_of_three_loops_is_unsupported_error():
    model, _ = _model([("MatMul", [(2, 1, 3, 4, 5), (1, 2, 1, 5, 2)], [None, None], {})])
    with tempfile.TemporaryDirectory() as tmp, pytest.raises(UnsupportedOp, match="at most 2"):
        _build(model, tmp)
