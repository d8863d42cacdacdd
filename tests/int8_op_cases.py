"""One-node models for the int8 forms of max, min, where, div, pow and softmax on any axis,
each with seeded inputs over a stated range and the number of output quantization steps its int8 output
may differ from onnxruntime's float output on the int8 inputs' real values.

Shared by tests/unit/test_int8_ops.py (reference vs onnxruntime), tests/host/test_int8_ops_c.py
(C vs reference) and tests/qemu/test_int8_ops_qemu.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from tests.onnx_cases import one_node_model, w
from tinyc import interpreter, pipeline, quant, runners

COND = np.array([[1, 0, 1, 1, 0]], bool)

# name -> (op, inputs, attrs, opset, input ranges (lo, hi) per graph input, steps allowed)
# max, min, where: requantizing is monotonic, so int8 is the quantized float result: 0.5 step (+ float noise);
# a Max of three is two nodes, two roundings.
# div, pow: one rounding of the quotient (2^-20) or of the table: 0.5 step plus that.
# softmax: tinyc's exp table (2^-20): 1 step.
CASES = {
    "max_same_shape": ("Max", [("a", (1, 3, 4, 5)), ("b", (1, 3, 4, 5))], {}, 13, [(-2, 2), (-1, 3)], 0.51),
    "max_broadcast": ("Max", [("a", (1, 4, 6)), ("b", (6,))], {}, 13, [(-2, 2), (-0.5, 0.5)], 0.51),
    "max_const": ("Max", [("a", (2, 7)), ("c", w(7))], {}, 13, [(-1, 1)], 0.51),
    "max_three": ("Max", [("a", (3, 5)), ("b", (3, 5)), ("c", (3, 5))], {}, 13, [(-2, 2), (-3, 1), (0, 4)], 1.0),
    "min_same_shape": ("Min", [("a", (1, 3, 4, 5)), ("b", (1, 3, 4, 5))], {}, 13, [(-2, 2), (-1, 3)], 0.51),
    "min_broadcast": ("Min", [("a", (2, 1, 6)), ("b", (1, 3, 1))], {}, 13, [(-2, 2), (-4, 1)], 0.51),
    "where_two": ("Where", [("c", np.broadcast_to(COND, (3, 5)).copy()), ("a", (3, 5)), ("b", (3, 5))], {}, 13,
                  [(-2, 2), (-5, 1)], 0.51),
    "where_const_branch": ("Where", [("c", COND), ("a", (4, 5)), ("k", np.array(-0.75, np.float32))], {}, 13,
                           [(-1, 3)], 0.51),
    "div_two": ("Div", [("a", (1, 4, 6)), ("b", (1, 4, 6))], {}, 13, [(-2, 2), (0.5, 2)], 0.51),
    "div_broadcast_negative": ("Div", [("a", (2, 3, 4)), ("b", (3, 1))], {}, 13, [(-1, 3), (-2, -0.4)], 0.51),
    "pow_square": ("Pow", [("x", (2, 9)), ("e", np.array(2.0, np.float32))], {}, 13, [(-2, 2)], 0.51),
    "pow_sqrt": ("Pow", [("x", (2, 9)), ("e", np.array(0.5, np.float32))], {}, 13, [(0, 4)], 0.51),
    "pow_const_base": ("Pow", [("b", np.array([2.0], np.float32)), ("x", (3, 4))], {}, 13, [(-3, 2)], 0.51),
    "softmax_axis0": ("Softmax", [("x", (6, 4))], {"axis": 0}, 13, [(-3, 3)], 1.0),
    "softmax_middle": ("Softmax", [("x", (2, 5, 3))], {"axis": 1}, 13, [(-2, 2)], 1.0),
}


def case_model(name: str) -> onnx.ModelProto:
    op, inputs, attrs, opset, _, _ = CASES[name]
    return one_node_model(op, inputs, attrs, opset)


def case_inputs(model: onnx.ModelProto, name: str, count: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded uniform float inputs over each input's stated range, with a leading sample axis."""
    rng = np.random.default_rng(seed)
    ranges = CASES[name][4]
    result = {}
    for vi, (lo, hi) in zip(model.graph.input, ranges):
        shape = [d.dim_value for d in vi.type.tensor_type.shape.dim]
        result[vi.name] = rng.uniform(lo, hi, (count, *shape)).astype(np.float32)
    return result


def compile_int8(name: str, tmp: Path) -> tuple[pipeline.Compiled, onnx.ModelProto, dict]:
    """The int8 build of case `name`, calibrated on 16 of its samples; (compiled, model, samples)."""
    model = case_model(name)
    path = tmp / f"{name}.onnx"
    onnx.save(model, path)
    x = case_inputs(model, name, 16)
    return pipeline.build(path, pipeline.Options(dtype="int8", calib=x)), model, x


def error_in_steps(compiled: pipeline.Compiled, model: onnx.ModelProto, x: dict) -> float:
    """The largest |int8 output - float output| in output quantization steps, the float output computed by
    onnxruntime on the int8 inputs' real values (dequantized), so only the op's own int8 error counts."""
    g = compiled.graph
    feeds = runners.feeds_for(g, x)
    got = interpreter.run_samples(g, feeds)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    worst = 0.0
    for i in range(len(next(iter(feeds.values())))):
        real = {n: quant.dequantize_array(feeds[n][i], g.tensors[n].q).astype(np.float32) for n in g.inputs}
        expected = session.run(None, real)
        for out, exp in zip(g.outputs, expected):
            q = g.tensors[out].q
            deq = quant.dequantize_array(got[out][i], q)
            lo, hi = quant.dequantize_array(np.array([-128, 127]), q)
            exp = np.clip(exp, lo, hi)  # beyond the calibrated range int8 saturates, as it should
            worst = max(worst, float(np.max(np.abs(deq - exp)) / float(q.scale[0])))
    return worst
