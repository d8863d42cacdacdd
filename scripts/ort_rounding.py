"""Print how tinyc's int8 arithmetic differs from onnxruntime's, one QOperator node at a time: seeded random
int8 inputs over the whole range, random scales, the same integers into both; the share of output elements
that differ and the largest difference in output steps (docs/onnxruntime_quantization.md).
Usage: .venv/bin/python scripts/ort_rounding.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tinyc import interpreter, pipeline  # noqa: E402

SAMPLES = 64
MS = "com.microsoft"


def _node_model(op: str, shapes: list[tuple], out_shape: tuple, rng, **attrs) -> tuple[onnx.ModelProto, dict]:
    """x_i float -> QuantizeLinear -> op -> DequantizeLinear -> y; constants (weights, bias) seeded."""
    inits, nodes, ins = {}, [], []
    for i, shape in enumerate(shapes):
        inits[f"s{i}"], inits[f"z{i}"] = np.float32(rng.uniform(0.01, 0.1)), np.int8(rng.integers(-20, 20))
        nodes.append(helper.make_node("QuantizeLinear", [f"x{i}", f"s{i}", f"z{i}"], [f"q{i}"]))
        ins += [f"q{i}", f"s{i}", f"z{i}"]
    inits["so"], inits["zo"] = np.float32(rng.uniform(0.02, 0.2)), np.int8(rng.integers(-20, 20))
    domain = MS if op not in ("QLinearConv", "QLinearMatMul") else ""
    if op == "QLinearConv":
        c_out, c_in = out_shape[1], shapes[0][1]
        inits["w"] = rng.integers(-127, 128, (c_out, c_in, 3, 3)).astype(np.int8)
        inits["ws"] = rng.uniform(0.001, 0.01, c_out).astype(np.float32)
        inits["wz"] = np.zeros(c_out, np.int8)
        inits["b"] = rng.integers(-5000, 5000, c_out).astype(np.int32)
        inputs = ins + ["w", "ws", "wz", "so", "zo", "b"]
    elif op in ("QLinearMatMul", "QGemm"):
        k, n = shapes[0][1], out_shape[1]
        inits["w"] = rng.integers(-127, 128, (k, n) if op == "QLinearMatMul" else (n, k)).astype(np.int8)
        inits["ws"], inits["wz"] = np.float32(rng.uniform(0.001, 0.01)), np.int8(0)
        inputs = ins + ["w", "ws", "wz"] + (["so", "zo"] if op == "QLinearMatMul" else ["b", "so", "zo"])
        if op == "QGemm":
            inits["b"] = rng.integers(-5000, 5000, n).astype(np.int32)
    elif op == "QLinearConcat":
        inputs = ["so", "zo"] + ins
    else:
        inputs = ins + ["so", "zo"]
    nodes.append(helper.make_node(op, inputs, ["yq"], domain=domain, **attrs))
    nodes.append(helper.make_node("DequantizeLinear", ["yq", "so", "zo"], ["y"]))
    graph = helper.make_graph(nodes, op, [helper.make_tensor_value_info(f"x{i}", TensorProto.FLOAT, list(s))
                                          for i, s in enumerate(shapes)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(out_shape))],
                              [numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid(MS, 1)])
    model.ir_version = 8
    return model, inits


CASES = [
    ("QLinearConv", [(1, 8, 8, 8)], (1, 8, 8, 8), {"pads": [1, 1, 1, 1]}),
    ("QLinearMatMul", [(1, 64)], (1, 32), {}),
    ("QGemm", [(1, 64)], (1, 32), {"transB": 1}),
    ("QLinearAdd", [(1, 8, 8, 8), (1, 8, 8, 8)], (1, 8, 8, 8), {}),
    ("QLinearMul", [(1, 8, 8, 8), (1, 8, 8, 8)], (1, 8, 8, 8), {}),
    ("QLinearGlobalAveragePool", [(1, 8, 5, 5)], (1, 8, 1, 1), {}),
    ("QLinearAveragePool", [(1, 8, 8, 8)], (1, 8, 8, 8), {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}),
    ("QLinearSigmoid", [(1, 8, 8, 8)], (1, 8, 8, 8), {}),
    ("QLinearLeakyRelu", [(1, 8, 8, 8)], (1, 8, 8, 8), {"alpha": 0.1}),
    ("QLinearConcat", [(1, 4, 8, 8), (1, 4, 8, 8)], (1, 8, 8, 8), {"axis": 1}),
    ("QLinearSoftmax", [(1, 64)], (1, 64), {"axis": -1, "opset": 13}),
]


def compare(op, shapes, out_shape, attrs, seed: int, tmp: Path) -> np.ndarray:
    """|tinyc - onnxruntime| in output steps over SAMPLES random inputs of one node."""
    import onnxruntime as ort

    rng = np.random.default_rng(seed)
    model, inits = _node_model(op, shapes, out_shape, rng, **attrs)
    if op == "QLinearSoftmax":
        inits["so"], inits["zo"] = np.float32(1 / 256), np.int8(-128)  # the parameters onnxruntime writes
        model.graph.ClearField("initializer")
        model.graph.initializer.extend([numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    path = tmp / f"{op}.onnx"
    onnx.save(model, path)
    ints = {f"x{i}": rng.integers(-128, 128, (SAMPLES, *s)) for i, s in enumerate(shapes)}
    x = {k: ((v - int(inits[f"z{k[1:]}"])) * inits[f"s{k[1:]}"]).astype(np.float32) for k, v in ints.items()}
    g = pipeline.build(path, pipeline.Options(dtype="int8", calib=x)).graph
    ours = interpreter.run_samples(g, interpreter.feeds_for(g, x))["y"].astype(np.int64)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    theirs = np.stack([sess.run(None, {k: v[i] for k, v in x.items()})[0] for i in range(SAMPLES)])
    theirs = np.round(theirs / inits["so"]).astype(np.int64) + int(inits["zo"])
    return np.abs(ours - theirs).reshape(-1)


def main() -> None:
    print("| op | elements | % differing | max difference (steps) |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for op, shapes, out_shape, attrs in CASES:
            d = np.concatenate([compare(op, shapes, out_shape, attrs, seed, Path(tmp)) for seed in range(4)])
            print(f"| {op} | {d.size} | {100 * np.mean(d > 0):.2f} | {d.max()} |", flush=True)


if __name__ == "__main__":
    main()
