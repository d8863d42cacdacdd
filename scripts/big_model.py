"""A synthetic float model of large Gemm/MatMul layers, for measuring compile time and peak memory.

    .venv/bin/python scripts/big_model.py OUT.onnx [--params 50000000] [--external]
    /usr/bin/time -v tinyc compile OUT.onnx --dtype float32 -o OUT_DIR
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def big_model(params: int, layers: int = 3, seed: int = 0) -> onnx.ModelProto:
    """`layers` square layers (Gemm with bias, MatMul, Gemm ...) of about params/layers weights each."""
    width = max(int(math.sqrt(params / layers)), 1)
    rng = np.random.default_rng(seed)
    nodes, inits, x = [], [], "x"
    for i in range(layers):
        w = (rng.standard_normal((width, width), np.float32) / np.float32(math.sqrt(width)))
        inits.append(numpy_helper.from_array(w, f"w{i}"))
        y = f"h{i}"
        if i % 2 == 0:
            inits.append(numpy_helper.from_array(np.zeros(width, np.float32), f"b{i}"))
            nodes.append(helper.make_node("Gemm", [x, f"w{i}", f"b{i}"], [y], name=f"gemm{i}"))
        else:
            nodes.append(helper.make_node("MatMul", [x, f"w{i}"], [y], name=f"matmul{i}"))
        x = y
        if i < layers - 1:
            nodes.append(helper.make_node("Relu", [x], [x + "_relu"], name=f"relu{i}"))
            x = x + "_relu"
    graph = helper.make_graph(nodes, "big", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, width])],
                              [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, width])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--params", type=float, default=50e6)
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--external", action="store_true", help="weights in OUT.onnx.data beside the model")
    args = p.parse_args()
    model = big_model(int(args.params), args.layers)
    onnx.save(model, args.out, save_as_external_data=args.external, location=args.out.split("/")[-1] + ".data")


if __name__ == "__main__":
    main()
