"""The onnx package's own node test cases (onnx.backend.test.case.node), made into what tinyc
compiles: float32 activations stay graph inputs, everything else becomes an initializer (on a
microcontroller, shapes, axes, indices, pads, scales and weights are compile-time constants).

Shared by tests/host/test_conformance.py and scripts/operators_table.py (docs/operators.md).
"""

from __future__ import annotations

import functools
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

# The op set of the coverage issue; each must pass at least one case.
OPS = tuple("""Abs Add AveragePool BatchNormalization Ceil Celu Clip Concat Conv ConvTranspose Cos CumSum
DepthToSpace Div Dropout Elu Erf Exp Expand Flatten Floor GRU Gather Gelu Gemm GlobalAveragePool GlobalMaxPool
GroupNormalization HardSigmoid HardSwish Identity InstanceNormalization LRN LSTM LayerNormalization LeakyRelu Log
LogSoftmax LpNormalization MatMul Max MaxPool Mean MeanVarianceNormalization Min Mish Mul Neg PRelu Pad Pow
RMSNormalization RNN Reciprocal ReduceL2 ReduceMax ReduceMean ReduceMin ReduceSum ReduceSumSquare Relu Reshape
Resize Round Selu Shrink Sigmoid Sign Sin Slice Softmax Softplus Softsign SpaceToDepth Split Sqrt Squeeze Sub Sum
Swish Tanh ThresholdedRelu Tile Transpose Unsqueeze Upsample Where""".split())

# Ops beyond the issue's set whose cases run too: index results (int64 graph outputs).
EXTRA_OPS = ("ArgMax", "ArgMin", "TopK")

# Ops whose inputs after the first may be activations too (the rest become initializers).
MULTI_ACTIVATION = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Mean", "Sum", "MatMul", "Concat", "Where"}

# |got - expected| <= TOLERANCE * max(1, max |expected|)
TOLERANCE = 1e-4


@dataclass
class Case:
    name: str
    op: str
    model: onnx.ModelProto  # activations as graph inputs, the rest as initializers
    inputs: list[dict[str, np.ndarray]]  # one feed per data set
    expected: list[list[np.ndarray]]  # graph outputs per data set
    skip: str = ""  # why the case is outside the float32 conformance set, "" when inside


def _is_3d_spatial(case) -> bool:
    node = case.model.graph.node[0]
    if node.op_type not in ("Conv", "ConvTranspose", "AveragePool", "MaxPool", "GlobalAveragePool",
                            "GlobalMaxPool", "LpPool"):
        return False
    return np.asarray(case.data_sets[0][0][0]).ndim == 5


def _as_float32(a: np.ndarray) -> np.ndarray:
    return a.astype(np.float32) if a.dtype == np.float64 else a


def _convert(tc) -> Case:
    node = tc.model.graph.node[0]
    datasets = [([np.asarray(a) for a in ins], [np.asarray(a) for a in outs]) for ins, outs in tc.data_sets]
    first_in, first_out = datasets[0]
    dtypes = {a.dtype for a in first_in if a.dtype.kind == "f"} | {a.dtype for a in first_out if a.dtype.kind == "f"}
    if dtypes == {np.dtype(np.float64)}:  # a float64 case (CumSum's) is run as the same model in float32
        datasets = [([_as_float32(a) for a in ins], [_as_float32(a) for a in outs]) for ins, outs in datasets]
        first_in, first_out = datasets[0]
        dtypes = {np.dtype(np.float32)}
    skip = ""
    if dtypes - {np.dtype(np.float32)}:
        skip = "data in " + ", ".join(sorted(str(d) for d in dtypes - {np.dtype(np.float32)})) + ", not float32"
    elif node.op_type == "Where" and first_in[1].dtype != np.float32:
        skip = f"x is {first_in[1].dtype}, not float32"
    elif first_in and first_in[0].dtype != np.float32 and node.op_type != "Where":
        skip = f"first input is {first_in[0].dtype}, not a float32 activation"
    elif _is_3d_spatial(tc):
        skip = "3-D convolution or pooling"
    model = onnx.ModelProto()
    model.CopyFrom(tc.model)
    g = model.graph
    for vi in list(g.input) + list(g.output):
        if vi.type.tensor_type.elem_type == onnx.TensorProto.DOUBLE:
            vi.type.tensor_type.elem_type = onnx.TensorProto.FLOAT
    names = [vi.name for vi in g.input]
    # Where's bool condition is a constant too: x and y stay activations.
    keep = [(i == 0 and node.op_type != "Where") or (a.dtype == np.float32 and node.op_type in MULTI_ACTIVATION)
            for i, a in enumerate(first_in)]
    for name, a, k in zip(names, first_in, keep):
        if not k:
            g.initializer.append(numpy_helper.from_array(a, name))
    kept = [vi for vi, k in zip(g.input, keep) if k]
    del g.input[:]
    g.input.extend(kept)
    for ins, _ in datasets[1:]:  # a constant must not change between data sets
        if any(not k and not np.array_equal(a, b) for a, b, k in zip(first_in, ins, keep)):
            skip = skip or "a constant input differs between data sets"
    inputs = [{n: a for n, a, k in zip(names, ins, keep) if k} for ins, _ in datasets]
    return Case(tc.name, node.op_type, model, inputs, [outs for _, outs in datasets], skip)


@functools.cache
def all_cases() -> dict[str, Case]:
    """Every single-node case of the op set, by name, from the installed onnx package."""
    from onnx.backend.test.case.node import collect_testcases

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the generators overflow casts on purpose
        collected = collect_testcases(None)
    cases = {}
    for tc in collected:
        if tc.kind == "node" and len(tc.model.graph.node) == 1 and tc.model.graph.node[0].op_type in OPS + EXTRA_OPS:
            cases[tc.name] = _convert(tc)
    return cases


def max_error(got: np.ndarray, expected: np.ndarray) -> float:
    """The largest |got - expected| over max(1, max |expected|); inf on a shape or NaN mismatch."""
    if got.shape != expected.shape:
        return float("inf")
    got, expected = got.astype(np.float64), expected.astype(np.float64)
    if not np.array_equal(np.isnan(got), np.isnan(expected)):
        return float("inf")
    finite = ~np.isnan(expected)
    if not np.array_equal(got[~finite | ~np.isfinite(expected)], expected[~finite | ~np.isfinite(expected)],
                          equal_nan=True):
        return float("inf")
    mask = np.isfinite(expected)
    if not mask.any():
        return 0.0
    scale = max(1.0, float(np.max(np.abs(expected[mask]))))
    return float(np.max(np.abs(got[mask] - expected[mask]))) / scale


def run_case(case: Case, target: str = "host") -> float:
    """Compile the case float32, run every data set on `target`; the largest relative error.
    A TinycError (unsupported op or attribute) propagates."""
    from tinyc import pipeline, runners

    with tempfile.TemporaryDirectory(prefix="tinyc-conf-") as tmp:
        path = Path(tmp) / f"{case.name}.onnx"
        onnx.save(case.model, path)
        compiled = pipeline.build(path, pipeline.Options(dtype="float32", name="model"))
        g = compiled.graph
        worst = 0.0
        for feeds, expected in zip(case.inputs, case.expected):
            samples = {n: np.asarray(feeds[n], np.float32)[None] for n in g.inputs}
            if target == "ref":
                got = runners.run(compiled, samples, "ref")
            else:
                got = runners.run_host(compiled, samples, sanitize=True)
            for out, exp in zip(g.outputs, expected):
                worst = max(worst, max_error(np.asarray(got[out][0]), exp))
    return worst


def run_case_int8(case: Case) -> tuple[float, bool, bool]:
    """Compile the case in int8, calibrated on its own inputs; run every data set on the reference and the
    host C (ASan/UBSan). Returns (the largest |output - expected| in output quantization steps, whether the
    host equals the reference bit for bit, whether the op ran in float32 inside the int8 model because it
    has no int8 form there). Index outputs (int64) count 0 steps when equal, inf when not."""
    from tinyc import pipeline, runners

    with tempfile.TemporaryDirectory(prefix="tinyc-conf8-") as tmp:
        path = Path(tmp) / f"{case.name}.onnx"
        onnx.save(case.model, path)
        float_graph = pipeline.frontend(path)
        shapes = {tuple(np.shape(feeds[n])) for feeds in case.inputs for n in float_graph.inputs}
        sets = case.inputs if len(shapes) <= len(float_graph.inputs) else case.inputs[:1]
        calib = {n: np.stack([np.asarray(f[n], np.float32) for f in sets]) for n in float_graph.inputs}
        compiled = pipeline.build(path, pipeline.Options(dtype="int8", name="model", calib=calib))
        g = compiled.graph
        worst, exact = 0.0, True
        for feeds, expected in zip(case.inputs, case.expected):
            samples = runners.feeds_for(g, {n: np.asarray(feeds[n], np.float32)[None] for n in g.inputs})
            ref = runners.run(compiled, samples, "ref")
            got = runners.run_host(compiled, samples, sanitize=True)
            for out, exp in zip(g.outputs, expected):
                exact = exact and np.array_equal(ref[out], got[out])
                worst = max(worst, _steps(got[out][0], np.asarray(exp), g.tensors[out]))
    return worst, exact, g.is_mixed


def _steps(got: np.ndarray, expected: np.ndarray, tensor) -> float:
    """|dequantized got - expected| in quantization steps of the output (exact match for non-int8 outputs)."""
    if got.shape != expected.shape:
        return float("inf")
    if tensor.dtype != "int8":
        return 0.0 if np.array_equal(got, expected) else float("inf")
    scale, zero = float(tensor.q.scale[0]), int(tensor.q.zero_point[0])
    finite = np.isfinite(expected)
    if not finite.any():
        return 0.0
    deq = (got.astype(np.float64) - zero) * scale
    return float(np.max(np.abs(deq[finite] - expected[finite].astype(np.float64)))) / scale


# int8 (run_case_int8): every case within INT8_STEPS output quantization steps of the expected output,
# except the ops and cases below, whose error is the int8 grid's, not tinyc's: a steep function
# amplifies the input's half step by its slope; a discontinuity turns one input step into a jump.
INT8_STEPS = 2.0
INT8_OP_STEPS = {"Exp": 3.0, "Log": 5.0, "Erf": 2.5}
INT8_CASE_STEPS = {
    "test_round": (43.0, "a discontinuity: x rounds the other way after one input step"),
    "test_thresholdedrelu_example": (233.0, "a discontinuity at alpha = 2: one input step across it is a jump of 2"),
    "test_softmax_large_number": (101.0, "inputs 10,000 apart share one int8 scale: small differences vanish"),
    "test_logsoftmax_large_number": (153.0, "inputs 10,000 apart share one int8 scale: small differences vanish"),
}


def int8_bound(case: Case) -> float:
    return INT8_CASE_STEPS.get(case.name, (INT8_OP_STEPS.get(case.op, INT8_STEPS), ""))[0]
