"""The elementwise ONNX ops compiled to float32 C on the host (ASan and UBSan on) against onnxruntime:
every function of one input, Div/Pow/Max/Min/Sum/Mean on broadcasting shapes, Where, PRelu (opset 6
per-channel slopes included, from the onnx package's pytorch-converted cases)."""

from __future__ import annotations

import glob
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from tests.conftest import need_tool
from tests.elementwise_models import (BROADCASTS, assert_close, binary_model, model_of, onnxruntime_outputs,
                                      prelu_model, tinyc_outputs, unary_model, variadic_model, where_model)

pytestmark = pytest.mark.host


@pytest.fixture(autouse=True)
def _cc():
    need_tool("cc")


def test_unary_functions_c_matches_onnxruntime():
    model, feeds = unary_model(11)
    assert_close(tinyc_outputs(model, feeds, "host"), onnxruntime_outputs(model, feeds))


@pytest.mark.parametrize("a_shape,b_shape", BROADCASTS[1::2], ids=[f"{a}-{b}" for a, b in BROADCASTS[1::2]])
def test_binary_ops_c_broadcast_like_onnxruntime(a_shape, b_shape):
    model, feeds = binary_model(a_shape, b_shape, 12)
    assert_close(tinyc_outputs(model, feeds, "host"), onnxruntime_outputs(model, feeds))


@pytest.mark.parametrize("make", [variadic_model, where_model, prelu_model])
def test_variadic_where_prelu_c_match_onnxruntime(make):
    model, feeds = make(13)
    assert_close(tinyc_outputs(model, feeds, "host"), onnxruntime_outputs(model, feeds))


def test_nan_and_inf_follow_numpy():
    x = np.array([-1.0, 0.0, -0.0, np.inf, -np.inf, np.nan, 2.5, -2.5], np.float32)
    ops = ["Log", "Sqrt", "Reciprocal", "Exp", "Sign", "Abs", "Round", "Softplus", "Erf", "Elu"]
    model = model_of([helper.make_node(op, ["x"], [op]) for op in ops]
                     + [helper.make_node("Max", ["x", "x2"], ["max"]), helper.make_node("Min", ["x", "x2"], ["min"]),
                        helper.make_node("Div", ["x", "x2"], ["div"])], {"x": x.shape, "x2": x.shape},
                     ops + ["max", "min", "div"], opset=13)
    feeds = {"x": x, "x2": np.roll(x, 3)}
    assert_close(tinyc_outputs(model, feeds, "host"), onnxruntime_outputs(model, feeds))


PRELU_OPSET6 = sorted(glob.glob(str(Path(onnx.__file__).parent / "backend/test/data/pytorch-converted/test_PReLU_*")))


@pytest.mark.parametrize("case", PRELU_OPSET6, ids=[Path(c).name for c in PRELU_OPSET6])
def test_pytorch_converted_prelu_opset6_cases(case):
    model = onnx.load(f"{case}/model.onnx")
    files = sorted(glob.glob(f"{case}/test_data_set_0/input_*.pb"))
    inputs = [numpy_helper.to_array(onnx.load_tensor(f)) for f in files]
    expected = numpy_helper.to_array(onnx.load_tensor(f"{case}/test_data_set_0/output_0.pb"))
    inits = {i.name for i in model.graph.initializer}
    feeds = {vi.name: a for vi, a in zip(model.graph.input, inputs) if vi.name not in inits}
    assert_close(tinyc_outputs(model, feeds, "host"), {model.graph.output[0].name: expected})
