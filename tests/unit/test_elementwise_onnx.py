"""The elementwise ONNX ops through the importer and the reference interpreter, against onnxruntime
(seeded inputs, broadcasting shapes of ranks 0-4), and their error paths."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper

from tests.elementwise_models import (BROADCASTS, assert_close, binary_model, model_of,
                                      onnxruntime_outputs, prelu_model, tinyc_outputs, unary_model,
                                      variadic_model, where_model)
from tests.helpers import graph_of, quantize_graph, run_ref
from tinyc import ops
from tinyc.errors import UnsupportedOp

REF_TOL = 2e-6  # the reference computes in float64 and rounds once


def test_unary_functions_match_onnxruntime():
    model, feeds = unary_model(1)
    assert_close(tinyc_outputs(model, feeds, "ref"), onnxruntime_outputs(model, feeds), REF_TOL)


@pytest.mark.parametrize("a_shape,b_shape", BROADCASTS, ids=[f"{a}-{b}" for a, b in BROADCASTS])
def test_binary_ops_broadcast_like_onnxruntime(a_shape, b_shape):
    model, feeds = binary_model(a_shape, b_shape, 2)
    assert_close(tinyc_outputs(model, feeds, "ref"), onnxruntime_outputs(model, feeds), REF_TOL)


def test_variadic_ops_and_constant_exponents_match_onnxruntime():
    model, feeds = variadic_model(3)
    assert_close(tinyc_outputs(model, feeds, "ref"), onnxruntime_outputs(model, feeds), REF_TOL)


def test_where_with_constant_condition_matches_onnxruntime():
    model, feeds = where_model(4)
    assert_close(tinyc_outputs(model, feeds, "ref"), onnxruntime_outputs(model, feeds), 0.0)


def test_prelu_slope_broadcast_along_several_axes_matches_onnxruntime():
    model, feeds = prelu_model(5)
    assert_close(tinyc_outputs(model, feeds, "ref"), onnxruntime_outputs(model, feeds), 0.0)


def test_swish_opset24_is_x_sigmoid_alpha_x():
    x = np.linspace(-9, 9, 37, dtype=np.float32)
    model = model_of([helper.make_node("Swish", ["x"], ["y"], alpha=0.7)], {"x": x.shape}, ["y"], opset=24)
    expected = x.astype(np.float64) / (1 + np.exp(-0.7 * x.astype(np.float64)))
    assert_close(tinyc_outputs(model, {"x": x}, "ref"), {"y": expected.astype(np.float32)}, REF_TOL)


def test_erf_gelu_pattern_compiles_through_div_erf_add_mul():
    x = np.linspace(-4, 4, 24, dtype=np.float32).reshape(1, 24)
    consts = {"sqrt2": np.array(np.sqrt(2), np.float32), "one": np.array(1, np.float32),
              "half": np.array(0.5, np.float32)}
    nodes = [helper.make_node("Div", ["x", "sqrt2"], ["d"]), helper.make_node("Erf", ["d"], ["e"]),
             helper.make_node("Add", ["e", "one"], ["a"]), helper.make_node("Mul", ["x", "a"], ["m"]),
             helper.make_node("Mul", ["m", "half"], ["y"])]
    model = model_of(nodes, {"x": x.shape}, ["y"], consts, opset=13)
    assert_close(tinyc_outputs(model, {"x": x}, "ref"), onnxruntime_outputs(model, {"x": x}), REF_TOL)


def test_prelu_opset6_slope_per_channel_is_along_axis_1():
    x = np.random.default_rng(6).normal(size=(2, 3, 4)).astype(np.float32)
    slope = np.array([0.1, -0.5, 2.0], np.float32)
    model = model_of([helper.make_node("PRelu", ["x", "s"], ["y"])], {"x": x.shape}, ["y"], {"s": slope}, opset=6)
    expected = np.where(x >= 0, x, slope[:, None] * x)
    assert_close(tinyc_outputs(model, {"x": x}, "ref"), {"y": expected}, 0.0)


def test_prelu_opset6_slope_of_another_shape_is_unsupported_in_one_line():
    x = np.zeros((2, 3, 4), np.float32)
    model = model_of([helper.make_node("PRelu", ["x", "s"], ["y"])], {"x": x.shape}, ["y"],
                     {"s": np.ones(4, np.float32)}, opset=6)
    with pytest.raises(UnsupportedOp, match=r"slope \[4\] on X \[2, 3, 4\] \(opset 6\)"):
        tinyc_outputs(model, {"x": x}, "ref")


def test_prelu_slope_that_does_not_broadcast_to_x_is_unsupported():
    with pytest.raises(UnsupportedOp, match="does not broadcast to X"):
        graph_of("prelu", [("x", (1, 3, 4)), ("s", np.ones((2, 3, 4), np.float32))], {})


def test_where_with_computed_condition_is_unsupported_in_one_line():
    nodes = [helper.make_node("Greater", ["x", "z"], ["c"]), helper.make_node("Where", ["c", "x", "z"], ["y"])]
    model = model_of(nodes, {"x": (3,), "z": (3,)}, ["y"], opset=16)
    with pytest.raises(UnsupportedOp) as e:
        tinyc_outputs(model, {"x": np.zeros(3, np.float32), "z": np.ones(3, np.float32)}, "ref")
    assert "\n" not in str(e.value)


def test_div_by_a_constant_is_an_int8_mul_by_its_reciprocal():
    g = graph_of("div", [("a", (1, 3, 5)), ("b", np.array([2.0, -0.5, 1.4142135], np.float32).reshape(3, 1))],
                 {"act": None})
    samples = {"a": np.random.default_rng(8).uniform(-3, 3, (6, 1, 3, 5)).astype(np.float32)}
    h = quantize_graph(g, samples)
    assert [n.op for n in h.nodes] == ["mul"]
    q = h.tensors["y0"].q
    got = (run_ref(h, samples)["y0"].astype(np.float64) - q.zero_point[0]) * q.scale[0]
    assert np.max(np.abs(got - run_ref(g, samples)["y0"])) <= 2.5 * q.scale[0]


def test_pow_of_two_activations_has_no_int8_form():
    # div, max and min of two activations have int8 forms: tests/unit/test_int8_ops.py
    g = graph_of("pow", [("a", (1, 3)), ("b", (1, 3))], {"act": None})
    with pytest.raises(UnsupportedOp, match="one side a constant scalar"):
        quantize_graph(g, {"a": np.ones((2, 1, 3), np.float32), "b": np.ones((2, 1, 3), np.float32)})


INT8_DOMAIN = {"log": (0.05, 6), "sqrt": (0, 6), "reciprocal": (0.2, 4)}


@pytest.mark.parametrize("fn", sorted({f for f in ops.unary.FUNCTIONS if f != "clip"}))
def test_unary_int8_table_is_the_float_function_rounded(fn):
    g = graph_of("unary", [("x", (1, 3, 5))], {"fn": fn})
    lo, hi = INT8_DOMAIN.get(fn, (-6, 4))
    h = quantize_graph(g, {"x": np.random.default_rng(2).uniform(lo, hi, (4, 1, 3, 5)).astype(np.float32)})
    qi, qo = h.tensors["x"].q, h.tensors["y0"].q
    x = (np.arange(-128, 128) - qi.zero_point[0]) * qi.scale[0]
    y = ops.get("unary").ref_int8(h.nodes[0], [np.arange(-128, 128, dtype=np.int8)])[0]
    with np.errstate(all="ignore"):
        expected = ops.get("unary").ref_float(g.nodes[0], [x.astype(np.float32)])[0].astype(np.float64)
    ok = np.isfinite(expected)
    expected = np.clip(expected, (-128 - qo.zero_point[0]) * qo.scale[0], (127 - qo.zero_point[0]) * qo.scale[0])
    error = np.abs((y.astype(np.float64) - qo.zero_point[0]) * qo.scale[0] - expected)[ok]
    assert np.max(error) <= 0.5 * qo.scale[0] + 1e-6


def test_unary_names_match_the_c_enum():
    from tinyc.resources import runtime_dir

    header = (runtime_dir() / "tinyc_elementwise.h").read_text()
    enum = header[header.index("enum tinyc_unary_fn"):].split("};")[0]
    names = [w.strip().split()[0].rstrip(",").removeprefix("TINYC_UNARY_").lower()
             for w in enum.splitlines()[1:] if w.strip().startswith("TINYC_UNARY_")]
    assert tuple(names) == ops.unary.FUNCTIONS


def test_fused_clamp_with_min_above_max_gives_max_everywhere_as_onnx_clip():
    from tinyc import quant
    from tinyc.ir import Node, QParams
    from tinyc.ops.common import act_clamp_f32

    assert act_clamp_f32(Node("n", "add", [], [], {"act": (2.0, 1.0)})) == {"min": 1.0, "max": 1.0}
    q = QParams.per_tensor(0.05, -10)
    lo, hi = quant.act_bounds(q, 2.0, 1.0)
    assert lo == hi == int(quant.quantize_array(np.array([1.0]), q)[0])
