"""Small ONNX models for mixed precision (--float-layers), built with onnx.helper.

`outlier_mlp`: x [1, 16] -> Gemm fc1 (32) + Relu -> Gemm fc2 (10) -> Gemm fc3 (10). fc1's last output
channel is always 0 (zero weights, bias -1, then Relu), and every row of fc2's weights holds a weight of
1000 on that channel: it never changes fc2's result, but per-channel int8 gives each row the scale
1000/127, which rounds fc2's real weights (about 0.3) to 0. int8 destroys fc2; fc2 alone in float32
fixes it. log_softmax=True: the same with LogSoftmax at the end; tests that want an op without an int8
form take its away (`without_int8_form`), since every op has one now.
`max_mlp`: fc1 -> Max(h, c) -> fc3: Max kept in float32 is exact (no rounding), so
the model's C equals the reference bit for bit: what is left to differ is only the boundary ops.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tinyc import ops
from tinyc.ops import Op

OUTLIER = 1000.0


def _gemm(name: str, x: str, w: np.ndarray, b: np.ndarray, out: str) -> tuple[onnx.NodeProto, list]:
    inits = [numpy_helper.from_array(w, f"{name}.weight"), numpy_helper.from_array(b, f"{name}.bias")]
    return helper.make_node("Gemm", [x, f"{name}.weight", f"{name}.bias"], [out], name=f"/{name}/Gemm",
                            transB=1), inits


def outlier_mlp(seed: int = 0, log_softmax: bool = False) -> onnx.ModelProto:
    rng = np.random.default_rng(seed)
    w1 = (rng.standard_normal((32, 16)) * 0.4).astype(np.float32)
    b1 = (rng.standard_normal(32) * 0.1).astype(np.float32)
    w1[31], b1[31] = 0.0, -1.0  # a dead channel: Relu makes it 0 on every input
    w2 = (rng.standard_normal((10, 32)) * 0.3).astype(np.float32)
    w2[:, 31] = OUTLIER
    b2 = (rng.standard_normal(10) * 0.1).astype(np.float32)
    w3 = (rng.standard_normal((10, 10)) * 0.5).astype(np.float32)
    b3 = np.zeros(10, np.float32)
    nodes, inits = [], []
    for node_inits in (_gemm("fc1", "x", w1, b1, "h1"), _gemm("fc2", "r1", w2, b2, "h2"),
                       _gemm("fc3", "h2", w3, b3, "logits")):
        nodes.append(node_inits[0])
        inits += node_inits[1]
    nodes.insert(1, helper.make_node("Relu", ["h1"], ["r1"], name="/relu1/Relu"))
    out = "logits"
    if log_softmax:
        nodes.append(helper.make_node("LogSoftmax", ["logits"], ["y"], name="/head/LogSoftmax", axis=-1))
        out = "y"
    graph = helper.make_graph(nodes, "outlier_mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])],
                              [helper.make_tensor_value_info(out, TensorProto.FLOAT, [1, 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model


def without_int8_form(monkeypatch, op: str) -> None:
    """Make `op` an op without an int8 form for one test (it then runs in float32 in an int8 model)."""
    monkeypatch.setattr(type(ops.get(op)), "quantize", Op.quantize)


def samples(count: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((count, 1, 16)).astype(np.float32)


def max_mlp(seed: int = 0) -> onnx.ModelProto:
    rng = np.random.default_rng(seed)
    fc1 = _gemm("fc1", "x", (rng.standard_normal((24, 16)) * 0.4).astype(np.float32), np.zeros(24, np.float32), "h1")
    fc3 = _gemm("fc3", "m", (rng.standard_normal((10, 24)) * 0.4).astype(np.float32), np.zeros(10, np.float32), "y")
    floor = numpy_helper.from_array((rng.standard_normal(24) * 0.5).astype(np.float32), "floor")
    nodes = [fc1[0], helper.make_node("Max", ["h1", "floor"], ["m"], name="/floor/Max"), fc3[0]]
    graph = helper.make_graph(nodes, "max_mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
                              fc1[1] + fc3[1] + [floor])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model
