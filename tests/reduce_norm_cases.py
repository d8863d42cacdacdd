"""Seeded one-node ONNX models of the reductions, softmax variants and normalizations, on shapes of
rank 2-4 with odd sizes, with onnxruntime's outputs as expected values (tests/conformance.Case, so
run_case compiles and compares them like the onnx package's node cases).

Shared by tests/unit/test_reduce_norm_ops.py (reference interpreter) and
tests/host/test_reduce_norm_kernels.py (host C).
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from tests.conformance import Case

# (id, op, opset, x shape, attributes, constant inputs after x ("" for absent), outputs)
SPECS = [
    ("sum_axes_input", "ReduceSum", 13, (5, 7), {}, [np.array([0])], 1),
    ("sum_no_keepdims", "ReduceSum", 13, (3, 5, 7), {"keepdims": 0}, [np.array([0, 2])], 1),
    ("sum_all", "ReduceSum", 13, (7, 3), {}, [], 1),
    ("mean_all_to_scalar", "ReduceMean", 18, (3, 5), {"keepdims": 0}, [], 1),
    ("sum_noop", "ReduceSum", 13, (3, 5), {"noop_with_empty_axes": 1}, [], 1),
    ("sum_opset11", "ReduceSum", 11, (2, 3, 5, 7), {"axes": [1, 3]}, [], 1),
    ("sum_long_row", "ReduceSum", 13, (3, 4099), {}, [np.array([-1])], 1),
    ("mean_attr", "ReduceMean", 11, (3, 1, 5, 7), {"axes": [-1, -3]}, [], 1),
    ("mean_input", "ReduceMean", 18, (2, 3, 5, 7), {"keepdims": 0}, [np.array([2, 3])], 1),
    ("max", "ReduceMax", 18, (3, 5, 7), {}, [np.array([1])], 1),
    ("max_opset13", "ReduceMax", 13, (2, 3, 5, 7), {"axes": [0, 2], "keepdims": 0}, [], 1),
    ("min", "ReduceMin", 18, (5, 3, 7), {}, [np.array([-1, 0])], 1),
    ("min_opset11", "ReduceMin", 11, (7, 5), {}, [], 1),
    ("l2", "ReduceL2", 18, (3, 5, 7), {"keepdims": 0}, [np.array([1])], 1),
    ("l2_opset13", "ReduceL2", 13, (2, 3, 5, 7), {"axes": [1, 2, 3]}, [], 1),
    ("sum_square", "ReduceSumSquare", 18, (2, 3, 5, 7), {}, [np.array([0, 3])], 1),
    ("sum_square_opset11", "ReduceSumSquare", 11, (5, 7), {"axes": [1]}, [], 1),
    ("softmax_axis1", "Softmax", 13, (3, 5, 7), {"axis": 1}, [], 1),
    ("softmax_opset11_flatten", "Softmax", 11, (2, 3, 5), {"axis": 1}, [], 1),
    ("log_softmax_axis0", "LogSoftmax", 13, (3, 5, 7, 2), {"axis": 0}, [], 1),
    ("log_softmax_last", "LogSoftmax", 13, (5, 7), {}, [], 1),
    ("log_softmax_opset11_flatten", "LogSoftmax", 11, (3, 5, 7), {}, [], 1),
    ("layer_norm_last", "LayerNormalization", 17, (3, 5, 7), {}, [(7,), (7,)], 3),
    ("layer_norm_axis1_no_bias", "LayerNormalization", 17, (2, 3, 5, 7), {"axis": 1, "epsilon": 1e-3},
     [(3, 5, 7)], 1),
    ("layer_norm_long_row", "LayerNormalization", 17, (2, 3001), {}, [(3001,), (3001,)], 1),
    ("rms_norm", "RMSNormalization", 23, (3, 5, 7), {"axis": -2}, [(5, 7)], 1),
    ("group_norm_opset21", "GroupNormalization", 21, (2, 6, 5, 3), {"num_groups": 3}, [(6,), (6,)], 1),
    ("group_norm_opset18", "GroupNormalization", 18, (2, 6, 7), {"num_groups": 2, "epsilon": 1e-2},
     [(2,), (2,)], 1),
    ("instance_norm", "InstanceNormalization", 22, (2, 5, 7, 3), {}, [(5,), (5,)], 1),
    ("instance_norm_rank3", "InstanceNormalization", 22, (3, 5, 9), {"epsilon": 1e-2}, [(5,), (5,)], 1),
    ("lp_norm_l1", "LpNormalization", 22, (5, 7), {"axis": 0, "p": 1}, [], 1),
    ("lp_norm_l2", "LpNormalization", 22, (3, 5, 7), {"axis": 1}, [], 1),
    ("mvn_default", "MeanVarianceNormalization", 13, (2, 3, 5, 7), {}, [], 1),
    ("mvn_axes", "MeanVarianceNormalization", 13, (3, 5, 7), {"axes": [2]}, [], 1),
    ("lrn", "LRN", 13, (2, 5, 7, 3), {"size": 3}, [], 1),
    ("lrn_even_size", "LRN", 13, (5, 5, 3, 2), {"size": 4, "alpha": 1e-3, "beta": 0.5, "bias": 2.0}, [], 1),
    ("cumsum_exclusive", "CumSum", 14, (3, 5, 7), {"exclusive": 1}, [np.array(1)], 1),
    ("cumsum_reverse", "CumSum", 14, (2, 3, 5, 7), {"reverse": 1}, [np.array(-1)], 1),
]
IDS = [s[0] for s in SPECS]


def case(name: str, seed: int = 0) -> Case:
    """The model of SPECS entry `name`: x random normal, shape entries of the constants random
    (scale around 1), arrays as given; expected outputs from onnxruntime."""
    import onnxruntime

    _, op, opset, shape, attrs, consts, n_out = SPECS[IDS.index(name)]
    rng = np.random.default_rng(seed)
    x = rng.normal(0.5, 1.0, shape).astype(np.float32)
    inputs, inits = ["x"], []
    for k, c in enumerate(consts):
        if isinstance(c, tuple):
            c = (rng.normal(1.0 if k == 0 else 0.0, 0.5, c)).astype(np.float32)
        inits.append(numpy_helper.from_array(np.asarray(c), f"c{k}"))
        inputs.append(f"c{k}")
    outputs = ["y", "mean", "inv_std"][:n_out]
    node = helper.make_node(op, inputs, outputs, **attrs)
    graph = helper.make_graph([node], name, [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info(o, onnx.TensorProto.FLOAT, None) for o in outputs],
                              inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 10
    try:
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 4  # the refusal below is expected, not worth a log line
        session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        expected = session.run(None, {"x": x})
    except onnxruntime.capi.onnxruntime_pybind11_state.Fail:  # LRN of even size: onnxruntime refuses it;
        # onnx.reference loops its channels over the batch size, so that case has N = C
        from onnx.reference import ReferenceEvaluator
        expected = ReferenceEvaluator(model).run(None, {"x": x})
    del graph.output[:]  # onnx cannot infer the shapes of some function ops (GroupNormalization): give them
    graph.output.extend(helper.make_tensor_value_info(o, onnx.TensorProto.FLOAT, e.shape)
                        for o, e in zip(outputs, expected))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 10
    return Case(name, op, model, [{"x": x}], [[np.asarray(e) for e in expected]])
