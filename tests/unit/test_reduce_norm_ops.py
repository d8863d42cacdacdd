"""The reductions, softmax variants and normalizations through the reference interpreter against
onnxruntime (tests/reduce_norm_cases.py: seeded shapes of rank 2-4 with odd sizes, every opset form),
and the errors of what stays unsupported."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from tests.conformance import TOLERANCE, Case, run_case
from tests.reduce_norm_cases import IDS, case
from tinyc.errors import BadInput, UnsupportedOp


@pytest.mark.parametrize("name", IDS)
def test_reference_matches_onnxruntime(name):
    assert run_case(case(name), "ref") <= TOLERANCE


def _one_node(op, shape, attrs, consts=(), opset=18, outputs=1, out_shape=None) -> Case:
    inits = [numpy_helper.from_array(np.asarray(c), f"c{k}") for k, c in enumerate(consts)]
    names = ["y", "mean", "inv_std"][:outputs]
    node = helper.make_node(op, ["x"] + [i.name for i in inits], names, **attrs)
    outs = [helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, out_shape or shape) for n in names]
    graph = helper.make_graph([node], "m", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, shape)],
                              outs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 10
    return Case("m", op, model, [{"x": np.zeros(shape, np.float32)}], [[np.zeros(out_shape or shape)]])


def test_a_reduction_of_an_empty_input_is_a_constant():
    # the sum over an empty axis is 0 everywhere: known at compile time, whatever is fed
    case = _one_node("ReduceSum", (2, 0, 4), {}, [np.array([1])], out_shape=(2, 1, 4))
    assert run_case(case, "ref") == 0.0


def test_lp_normalization_p3_is_unsupported():
    with pytest.raises(UnsupportedOp, match="p=3 unsupported; only 1 and 2"):
        run_case(_one_node("LpNormalization", (3, 5), {"p": 3}, opset=22), "ref")


def test_group_normalization_groups_must_divide_channels():
    with pytest.raises(UnsupportedOp, match="num_groups=2 does not divide the channels"):
        run_case(_one_node("GroupNormalization", (2, 5, 3), {"num_groups": 2},
                           [np.ones(5, np.float32), np.zeros(5, np.float32)], opset=21), "ref")


def test_layer_normalization_scale_that_does_not_broadcast_is_bad_input():
    with pytest.raises(BadInput, match=r"scale/bias of shape \[4\] and \[4\] do not fit the input \[3, 5\]"):
        run_case(_one_node("LayerNormalization", (3, 5), {},
                           [np.ones(4, np.float32), np.zeros(4, np.float32)], opset=17), "ref")

