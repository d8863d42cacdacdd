"""ConvTranspose float32 (tinyc_conv_transpose2d_f32, the reference interpreter) against onnxruntime on
seeded layers: strides 1-3, output_padding, groups, dilations, odd sizes, 1-D, and PyTorch
nn.ConvTranspose2d-style settings (k4 s2 p1, k3 s2 p1 op1). All layers run in one model (one build)."""

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

# (x shape, Co, kernel, attrs)
LAYERS = [
    ((1, 3, 5, 5), 2, (3, 3), {}),
    ((1, 4, 4, 4), 3, (4, 4), {"strides": [2, 2], "pads": [1, 1, 1, 1]}),  # DCGAN upsampling
    ((1, 5, 7, 6), 4, (3, 3), {"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]}),
    ((1, 3, 5, 7), 5, (3, 2), {"strides": [3, 2], "output_padding": [2, 1]}),
    ((1, 6, 5, 3), 4, (3, 3), {"group": 2, "strides": [2, 1], "pads": [0, 1, 2, 1]}),
    ((1, 6, 4, 5), 9, (2, 3), {"group": 3, "dilations": [2, 1], "strides": [1, 3]}),
    ((1, 4, 3, 5), 4, (3, 3), {"group": 4, "strides": [2, 2], "pads": [1, 1, 1, 1]}),  # depthwise
    ((2, 3, 3, 4), 2, (5, 1), {"strides": [3, 1], "pads": [2, 0, 1, 0], "dilations": [1, 1]}),
    ((1, 1, 1, 1), 3, (3, 3), {"strides": [2, 2]}),
    ((1, 3, 9), 2, (5,), {"strides": [3], "pads": [1, 2], "output_padding": [1]}),
    ((1, 2, 6, 5), 3, (3, 3), {"strides": [2, 2], "auto_pad": "SAME_UPPER"}),
]


def _model(seed: int = 0) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    nodes, inputs, outputs, inits, feeds = [], [], [], [], {}
    for i, (xs, co, kernel, attrs) in enumerate(LAYERS):
        group = attrs.get("group", 1)
        w = rng.normal(0, 0.5, (xs[1], co // group, *kernel)).astype(np.float32)
        b = rng.normal(0, 0.5, co).astype(np.float32)
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        inputs.append(helper.make_tensor_value_info(f"x{i}", TensorProto.FLOAT, list(xs)))
        outputs.append(helper.make_tensor_value_info(f"y{i}", TensorProto.FLOAT, None))
        nodes.append(helper.make_node("ConvTranspose", [f"x{i}", f"w{i}", f"b{i}" if i % 2 == 0 else ""],
                                      [f"y{i}"], name=f"ct{i}", **attrs))
        feeds[f"x{i}"] = rng.uniform(-2, 2, xs).astype(np.float32)
    model = helper.make_model(helper.make_graph(nodes, "ct", inputs, outputs, inits),
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return with_output_shapes(model), feeds


def _build(model: onnx.ModelProto, tmp: str):
    path = Path(tmp) / "m.onnx"
    onnx.save(model, path)
    return pipeline.build(path, pipeline.Options(dtype="float32", name="model"))


def test_conv_transpose_matches_onnxruntime_in_c_and_reference():
    need_tool("cc")
    ort = pytest.importorskip("onnxruntime")
    model, feeds = _model()
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


def test_conv_transpose_3d_is_unsupported_error():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 3, 3, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    w = numpy_helper.from_array(np.ones((2, 1, 2, 2, 2), np.float32), "w")
    model = helper.make_model(helper.make_graph([helper.make_node("ConvTranspose", ["x", "w"], ["y"])], "g",
                                                [x], [y], [w]), opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    model = with_output_shapes(model)
    with tempfile.TemporaryDirectory() as tmp, pytest.raises(UnsupportedOp, match="3-D input"):
        _build(model, tmp)
