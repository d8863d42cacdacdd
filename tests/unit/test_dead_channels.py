"""A channel whose requantization multiplier rounds to 0 (weights near 1e-30, as vww_mobilenetv1.onnx's
trained-away channels) keeps int8 weights and bias of 0: its output is output_zp whatever its sums, so
zeros change no output and let the layer be stored sparse."""

from __future__ import annotations

import numpy as np

from tinyc import interpreter, ops
from tinyc.ir import Graph, Node, Tensor
from tinyc.passes.quantize import quantize


def conv_graph(w: np.ndarray, b: np.ndarray) -> Graph:
    node = Node("layer", "conv2d", ["x", "w", "b"], ["y"],
                {"strides": (1, 1), "pads": (0, 0, 0, 0), "dilations": (1, 1), "group": 1, "act": None})
    tensors = {"x": Tensor("x", (1, 4, 3, 3)), "w": Tensor("w", w.shape, "float32", w),
               "b": Tensor("b", b.shape, "float32", b), "y": Tensor("y", (1, 3, 3, 3))}
    return Graph("dead", tensors, [node], ["x"], ["y"])


def test_a_dead_channel_quantizes_to_zero_weights_and_bias_and_outputs_the_zero_point():
    rng = np.random.default_rng(0)
    w = rng.normal(0, 0.5, (3, 4, 1, 1)).astype(np.float32)
    w[1] = rng.normal(0, 1e-30, (4, 1, 1)).astype(np.float32)  # channel 1: trained away, not exactly 0
    b = np.array([0.1, 1e-31, -0.2], np.float32)
    x = rng.uniform(-1, 1, (8, 1, 4, 3, 3)).astype(np.float32)
    q = quantize(conv_graph(w, b), {"x": x[:, 0]})
    node = q.nodes[0]
    wq, bq = q.tensors[node.inputs[1]].data, q.tensors[node.inputs[2]].data
    assert node.attrs["int8"]["multiplier"][1] == 0
    assert not np.any(wq[1]) and bq[1] == 0
    assert np.all(wq[0] != 0) or np.count_nonzero(wq[0]) >= 3  # live channels keep their weights
    feeds = interpreter.feeds_for(q, {"x": x[:, 0]})
    y = interpreter.run_samples(q, feeds)["y"]
    assert np.all(y[:, 0, 1] == node.attrs["int8"]["output_zp"])
    assert ops.get("conv2d").kernel(node, q).params["weight_sums"][1] == 0
