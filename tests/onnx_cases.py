"""One-node ONNX models for every op the frontend lowers, each with seeded inputs.

Shared by the frontend tests (float vs onnx.reference) and the host tests (int8 C vs reference).
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(7)


def w(*shape, scale=0.5):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


# outputs that hold int64 indices, by (op, output position)
INDEX_OUTPUTS = {("ArgMax", 0): TensorProto.INT64, ("ArgMin", 0): TensorProto.INT64, ("TopK", 1): TensorProto.INT64}


def one_node_model(op: str, inputs: list[tuple[str, tuple | np.ndarray]], attrs: dict | None = None,
                   opset: int = 13, n_outputs: int = 1, extra_nodes: list | None = None,
                   node_name: str = "node", output_names: list[str] | None = None) -> onnx.ModelProto:
    """inputs: (name, shape) become graph inputs, (name, ndarray) initializers, ("", None) absent."""
    graph_inputs, inits, names = [], [], []
    for name, spec in inputs:
        names.append(name)
        if not name:
            continue
        if isinstance(spec, np.ndarray):
            inits.append(numpy_helper.from_array(spec, name))
        else:
            graph_inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(spec)))
    outs = output_names or [f"y{i}" for i in range(n_outputs)]
    node = helper.make_node(op, names, outs, name=node_name, **(attrs or {}))
    graph = helper.make_graph([node] + (extra_nodes or []), "case", graph_inputs,
                              [helper.make_tensor_value_info(o, INDEX_OUTPUTS.get((op, k), TensorProto.FLOAT), None)
                               for k, o in enumerate(outs) if o],
                              inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return with_output_shapes(model)


def with_output_shapes(model: onnx.ModelProto) -> onnx.ModelProto:
    """Declare the graph outputs with the types ONNX's own shape inference gives them."""
    inferred = onnx.shape_inference.infer_shapes(model)
    types = {vi.name: vi for vi in list(inferred.graph.value_info) + list(inferred.graph.output)}
    for out in model.graph.output:
        if out.name in types and types[out.name].type.tensor_type.HasField("shape"):
            out.CopyFrom(types[out.name])
    return model


def i64(*values):
    return np.array(values, np.int64)


# name -> (op, inputs, attrs, opset, n_outputs)
CASES = {
    "conv2d_bias_relu_pads": ("Conv", [("x", (1, 3, 9, 8)), ("w", w(5, 3, 3, 3)), ("b", w(5))],
                              {"pads": [1, 0, 2, 1], "strides": [2, 1]}, 13, 1),
    "conv2d_same_upper": ("Conv", [("x", (1, 4, 10, 7)), ("w", w(3, 4, 3, 3))], {"auto_pad": "SAME_UPPER",
                                                                             "strides": [2, 2]}, 13, 1),
    "conv2d_dilated": ("Conv", [("x", (1, 4, 10, 7)), ("w", w(3, 4, 3, 3))],
                       {"pads": [2, 1, 2, 1], "dilations": [2, 1]}, 13, 1),
    "conv2d_groups": ("Conv", [("x", (1, 6, 7, 7)), ("w", w(4, 3, 3, 3)), ("b", w(4))], {"group": 2}, 13, 1),
    "conv2d_depthwise_multiplier": ("Conv", [("x", (1, 3, 8, 8)), ("w", w(6, 1, 3, 3)), ("b", w(6))],
                                    {"group": 3, "pads": [0, 0, 1, 1], "strides": [2, 2]}, 13, 1),
    "conv1d": ("Conv", [("x", (1, 3, 20)), ("w", w(5, 3, 4)), ("b", w(5))],
               {"pads": [2, 1], "strides": [2]}, 13, 1),
    "gemm_transb_alpha_beta": ("Gemm", [("x", (1, 7)), ("w", w(5, 7)), ("c", w(5))],
                               {"transB": 1, "alpha": 0.5, "beta": 2.0}, 13, 1),
    "gemm_plain": ("Gemm", [("x", (1, 6)), ("w", w(6, 3)), ("c", w(1, 3))], {}, 13, 1),
    "matmul_const": ("MatMul", [("x", (1, 9)), ("w", w(9, 4))], {}, 13, 1),
    "matmul_activations": ("MatMul", [("a", (1, 3, 5)), ("b", (1, 5, 4))], {}, 13, 1),
    "add_broadcast_channel": ("Add", [("x", (1, 3, 4, 5)), ("c", w(3, 1, 1))], {}, 13, 1),
    "add_two_inputs": ("Add", [("a", (1, 3, 4, 5)), ("b", (1, 3, 4, 5))], {}, 13, 1),
    "sub_broadcast": ("Sub", [("a", (1, 4, 6)), ("b", (6,))], {}, 13, 1),
    "mul_scalar_const": ("Mul", [("x", (1, 5, 3)), ("c", np.array(1.5, np.float32))], {}, 13, 1),
    "relu": ("Relu", [("x", (1, 10))], {}, 13, 1),
    "clip_inputs": ("Clip", [("x", (1, 12)), ("lo", np.array(-0.5, np.float32)),
                             ("hi", np.array(0.75, np.float32))], {}, 13, 1),
    "leaky_relu": ("LeakyRelu", [("x", (1, 3, 4))], {"alpha": 0.2}, 13, 1),
    "prelu_channel": ("PRelu", [("x", (1, 3, 2, 2)), ("s", np.array([[[0.1]], [[0.3]], [[-0.2]]], np.float32))],
                      {}, 13, 1),
    "sigmoid": ("Sigmoid", [("x", (1, 20))], {}, 13, 1),
    "tanh": ("Tanh", [("x", (1, 20))], {}, 13, 1),
    "hard_sigmoid": ("HardSigmoid", [("x", (1, 20))], {"alpha": 0.25, "beta": 0.4}, 13, 1),
    "hard_swish": ("HardSwish", [("x", (1, 20))], {}, 14, 1),
    "softmax_last": ("Softmax", [("x", (1, 10))], {}, 13, 1),
    "softmax_axis1_opset13": ("Softmax", [("x", (1, 4, 3))], {"axis": 1}, 13, 1),
    "softmax_opset11_coerced": ("Softmax", [("x", (1, 2, 5))], {"axis": 1}, 11, 1),
    "maxpool_pads": ("MaxPool", [("x", (1, 3, 9, 9))], {"kernel_shape": [3, 3], "strides": [2, 2],
                                                          "pads": [1, 1, 0, 0]}, 13, 1),
    "maxpool_ceil": ("MaxPool", [("x", (1, 2, 8, 8))], {"kernel_shape": [3, 3], "strides": [2, 2],
                                                         "ceil_mode": 1}, 13, 1),
    "avgpool_pads": ("AveragePool", [("x", (1, 3, 7, 7))], {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}, 13, 1),
    "avgpool_include_pad": ("AveragePool", [("x", (1, 3, 7, 7))],
                            {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "count_include_pad": 1}, 13, 1),
    "avgpool_1d": ("AveragePool", [("x", (1, 3, 12))], {"kernel_shape": [3], "strides": [3]}, 13, 1),
    "global_avgpool": ("GlobalAveragePool", [("x", (1, 5, 4, 3))], {}, 13, 1),
    "global_maxpool_1d": ("GlobalMaxPool", [("x", (1, 5, 9))], {}, 13, 1),
    "batchnorm": ("BatchNormalization", [("x", (1, 3, 4, 4)), ("s", w(3)), ("bb", w(3)), ("m", w(3)),
                                         ("v", np.abs(w(3)) + 0.5)], {}, 13, 1),
    "reshape": ("Reshape", [("x", (1, 2, 3, 4)), ("s", i64(1, -1, 4))], {}, 13, 1),
    "flatten": ("Flatten", [("x", (1, 2, 3, 4))], {"axis": 1}, 13, 1),
    "squeeze": ("Squeeze", [("x", (1, 3, 1, 4)), ("a", i64(2))], {}, 13, 1),
    "unsqueeze": ("Unsqueeze", [("x", (1, 3, 4)), ("a", i64(2))], {}, 13, 1),
    "transpose": ("Transpose", [("x", (1, 2, 3, 4))], {"perm": [0, 3, 1, 2]}, 13, 1),
    "concat": ("Concat", [("a", (1, 2, 3)), ("b", (1, 4, 3))], {"axis": 1}, 13, 1),
    "pad_reflect": ("Pad", [("x", (1, 2, 4, 5)), ("p", i64(0, 0, 2, 1, 0, 0, 1, 3))], {"mode": "reflect"}, 18, 1),
    "pad_edge": ("Pad", [("x", (1, 2, 4, 5)), ("p", i64(0, 1, 0, 2, 0, 0, 3, 0))], {"mode": "edge"}, 18, 1),
    "pad_wrap": ("Pad", [("x", (1, 2, 4, 5)), ("p", i64(0, 0, 1, 2, 0, 0, 2, 1))], {"mode": "wrap"}, 19, 1),
    "pad_crop": ("Pad", [("x", (1, 2, 4, 5)), ("p", i64(0, 0, -1, 0, 0, 0, -2, -1))], {}, 18, 1),
    "pad": ("Pad", [("x", (1, 2, 3, 3)), ("p", i64(0, 0, 1, 2, 0, 0, 2, 0)), ("v", np.array(0.5, np.float32))],
            {}, 13, 1),
    "identity": ("Identity", [("x", (1, 5))], {}, 13, 1),
    "slice_neg_steps": ("Slice", [("x", (1, 4, 7, 6)), ("s", i64(-1, 1, 5)), ("e", i64(0, 6, -100)),
                                  ("a", i64(1, 2, 3)), ("st", i64(-2, 2, -1))], {}, 13, 1),
    "split_uneven": ("Split", [("x", (1, 7, 3))], {"axis": 1, "num_outputs": 3}, 18, 3),
    "gather_irregular": ("Gather", [("x", (1, 5, 4)), ("i", i64(3, -1, 0, 3))], {"axis": 1}, 13, 1),
    "gather_scalar": ("Gather", [("x", (1, 5, 4)), ("i", np.array(-2, np.int64))], {"axis": 2}, 13, 1),
    "expand": ("Expand", [("x", (3, 1)), ("s", i64(2, 3, 4))], {}, 13, 1),
    "tile": ("Tile", [("x", (1, 2, 3)), ("r", i64(2, 1, 3))], {}, 13, 1),
    "depth_to_space_crd": ("DepthToSpace", [("x", (1, 8, 2, 3))], {"blocksize": 2, "mode": "CRD"}, 13, 1),
    "space_to_depth": ("SpaceToDepth", [("x", (1, 2, 4, 6))], {"blocksize": 2}, 13, 1),
    "argmax_axis1_keepdims": ("ArgMax", [("x", (1, 6, 5))], {"axis": 1}, 13, 1),
    "argmin_last_index": ("ArgMin", [("x", (2, 5, 3))], {"axis": -1, "keepdims": 0, "select_last_index": 1}, 13, 1),
    "topk_input_k": ("TopK", [("x", (1, 4, 7)), ("k", i64(3))], {"axis": -1}, 11, 2),
    "topk_smallest_axis1": ("TopK", [("x", (2, 6, 3)), ("k", i64(4))], {"axis": 1, "largest": 0}, 11, 2),
    "resize_nearest_scales": ("Resize", [("x", (1, 2, 3, 5)), ("", None),
                                         ("sc", np.array([1, 1, 2, 1.5], np.float32))],
                              {"mode": "nearest", "coordinate_transformation_mode": "asymmetric",
                               "nearest_mode": "floor"}, 13, 1),
    "resize_nearest_sizes": ("Resize", [("x", (1, 2, 6, 5)), ("", None), ("", None), ("sz", i64(1, 2, 4, 8))],
                             {"mode": "nearest"}, 13, 1),
    "dropout": ("Dropout", [("x", (1, 5))], {}, 13, 1),
    "lstm": ("LSTM", [("x", (6, 1, 5)), ("W", w(1, 16, 5)), ("R", w(1, 16, 4)), ("B", w(1, 32))],
             {"hidden_size": 4}, 13, 2),
    "gru": ("GRU", [("x", (6, 1, 5)), ("W", w(1, 12, 5)), ("R", w(1, 12, 4)), ("B", w(1, 24))],
            {"hidden_size": 4}, 13, 2),
    "gru_linear_before_reset": ("GRU", [("x", (5, 1, 3)), ("W", w(1, 9, 3)), ("R", w(1, 9, 3)),
                                        ("B", w(1, 18))], {"hidden_size": 3, "linear_before_reset": 1}, 13, 2),
}


def case_model(name: str) -> onnx.ModelProto:
    op, inputs, attrs, opset, n_out = CASES[name]
    return one_node_model(op, inputs, attrs, opset, n_out)


def case_inputs(model: onnx.ModelProto, count: int = 1, seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded float inputs with a leading sample axis for every graph input."""
    rng = np.random.default_rng(seed)
    result = {}
    for vi in model.graph.input:
        shape = [d.dim_value for d in vi.type.tensor_type.shape.dim]
        result[vi.name] = rng.uniform(-2, 2, (count, *shape)).astype(np.float32)
    return result
