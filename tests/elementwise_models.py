"""ONNX models of the elementwise ops (functions of one input, Div/Pow/Max/Min/Sum/Mean, Where,
PRelu) with seeded inputs, and their onnxruntime outputs; shared by tests/unit and tests/host.

Each case is one small model with several outputs, so one host build checks many ops."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

# (ONNX op, attributes, input range): every function of one input and its non-default attributes.
UNARY = [
    ("Abs", {}, (-4, 4)), ("Neg", {}, (-4, 4)), ("Ceil", {}, (-4, 4)), ("Floor", {}, (-4, 4)),
    ("Round", {}, (-4, 4)), ("Sign", {}, (-4, 4)), ("Exp", {}, (-6, 6)), ("Log", {}, (0.01, 9)),
    ("Sqrt", {}, (0, 9)), ("Reciprocal", {}, (0.1, 5)), ("Sin", {}, (-7, 7)), ("Cos", {}, (-7, 7)),
    ("Erf", {}, (-3, 3)), ("Gelu", {}, (-5, 5)), ("Gelu", {"approximate": "tanh"}, (-5, 5)),
    ("Softplus", {}, (-20, 20)), ("Softsign", {}, (-5, 5)), ("Mish", {}, (-8, 8)),
    ("Elu", {}, (-4, 4)), ("Elu", {"alpha": 0.3}, (-4, 4)), ("Selu", {}, (-4, 4)),
    ("Selu", {"alpha": 2.0, "gamma": 0.5}, (-4, 4)), ("Celu", {}, (-4, 4)), ("Celu", {"alpha": 2.5}, (-4, 4)),
    ("ThresholdedRelu", {}, (-3, 3)), ("ThresholdedRelu", {"alpha": 0.4}, (-3, 3)),
    ("Shrink", {}, (-2, 2)), ("Shrink", {"lambd": 1.2, "bias": 0.3}, (-3, 3)),
    ("HardSigmoid", {}, (-5, 5)), ("HardSwish", {}, (-5, 5)), ("LeakyRelu", {"alpha": 0.2}, (-3, 3)),
]

# (a, b) shapes: ranks 1-4, size-1 dims, scalars, either side broadcast.
BROADCASTS = [((3, 4, 5), (3, 4, 5)), ((3, 4, 5), (5,)), ((2, 3), ()), ((), (2, 3)), ((1, 3, 1, 5), (2, 1, 4, 1)),
              ((4, 1), (1, 6)), ((7,), (1,)), ((2, 1, 3), (4, 1)), ((1, 1, 1, 1), (3, 1, 2, 5))]


def model_of(nodes: list, inputs: dict[str, tuple], outputs: list[str], consts: dict | None = None,
             opset: int = 20) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info(k, TensorProto.FLOAT, s) for k, s in inputs.items()],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs],
        initializer=[numpy_helper.from_array(v, k) for k, v in (consts or {}).items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 9  # what onnxruntime reads
    return onnx.shape_inference.infer_shapes(model)


def unary_model(seed: int = 0) -> tuple[onnx.ModelProto, dict]:
    """One output per UNARY entry, each from its own input drawn from its range."""
    rng = np.random.default_rng(seed)
    nodes, feeds, outs = [], {}, []
    for k, (op, attrs, (lo, hi)) in enumerate(UNARY):
        x = rng.uniform(lo, hi, (2, 3, 7)).astype(np.float32)
        if op in ("Round", "Ceil", "Floor"):
            x[0, 0, :4] = [0.5, 1.5, -2.5, -0.5]  # ties: half to even for Round
        feeds[f"x{k}"] = x
        nodes.append(helper.make_node(op, [f"x{k}"], [f"y{k}"], **attrs))
        outs.append(f"y{k}")
    return model_of(nodes, {k: v.shape for k, v in feeds.items()}, outs), feeds


def binary_model(a_shape: tuple, b_shape: tuple, seed: int = 0) -> tuple[onnx.ModelProto, dict]:
    """Div, Pow, Max, Min, Sum and Mean of two activations (and PRelu-free): one output each."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.2, 3.0, a_shape).astype(np.float32)  # Pow: a positive base for any exponent
    b = rng.uniform(-2.0, 2.0, b_shape).astype(np.float32)
    b = np.where(np.abs(b) < 0.1, np.float32(0.5), b).astype(np.float32)  # Div: keep away from 0
    ops = ["Div", "Pow", "Max", "Min", "Sum", "Mean"]
    nodes = [helper.make_node(op, ["a", "b"], [f"y_{op}"]) for op in ops]
    return model_of(nodes, {"a": a_shape, "b": b_shape}, [f"y_{op}" for op in ops], opset=13), {"a": a, "b": b}


def variadic_model(seed: int = 0) -> tuple[onnx.ModelProto, dict]:
    """Sum, Mean, Max, Min of one, two and four broadcasting inputs, and Pow by constants."""
    rng = np.random.default_rng(seed)
    shapes = {"p": (2, 3, 4), "q": (3, 1), "r": (4,), "s": ()}
    feeds = {k: rng.uniform(-3, 3, s).astype(np.float32) for k, s in shapes.items()}
    nodes, outs = [], []
    for op in ("Sum", "Mean", "Max", "Min"):
        for k, ins in enumerate((["p"], ["p", "q"], ["p", "q", "r", "s"])):
            nodes.append(helper.make_node(op, ins, [f"{op}{k}"]))
            outs.append(f"{op}{k}")
    consts = {"two": np.array(2.0, np.float32), "exps": np.array([1.0, 2.0, 3.0, -1.0], np.float32)}
    nodes += [helper.make_node("Pow", ["p", "two"], ["pow_sq"]), helper.make_node("Pow", ["p", "exps"], ["pow_v"])]
    outs += ["pow_sq", "pow_v"]
    return model_of(nodes, shapes, outs, consts, opset=13), feeds


def where_model(seed: int = 0) -> tuple[onnx.ModelProto, dict]:
    """Where with a constant condition: same shapes, broadcast condition, a constant branch."""
    rng = np.random.default_rng(seed)
    feeds = {"x": rng.normal(size=(2, 3, 4)).astype(np.float32), "y": rng.normal(size=(3, 1)).astype(np.float32)}
    consts = {"c_full": rng.random((2, 3, 4)) > 0.5, "c_row": np.array([True, False, True, True]),
              "neg_big": np.array(-1e30, np.float32)}
    nodes = [helper.make_node("Where", ["c_full", "x", "y"], ["w0"]),
             helper.make_node("Where", ["c_row", "x", "neg_big"], ["w1"]),
             helper.make_node("Where", ["c_row", "y", "x"], ["w2"])]
    return model_of(nodes, {k: v.shape for k, v in feeds.items()}, ["w0", "w1", "w2"], consts, opset=16), feeds


def prelu_model(seed: int = 0) -> tuple[onnx.ModelProto, dict]:
    """PRelu slopes broadcast along several axes (opset 16)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, 3, 4, 5)).astype(np.float32)
    slopes = {"s_full": (2, 3, 4, 5), "s_two": (3, 1, 5), "s_last": (5,), "s_one": (1,), "s_chan": (3, 1, 1)}
    consts = {k: rng.uniform(-1, 1, s).astype(np.float32) for k, s in slopes.items()}
    nodes = [helper.make_node("PRelu", ["x", k], [f"y_{k}"]) for k in slopes]
    return model_of(nodes, {"x": x.shape}, [f"y_{k}" for k in slopes], consts, opset=16), {"x": x}


def onnxruntime_outputs(model: onnx.ModelProto, feeds: dict) -> dict[str, np.ndarray]:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in model.graph.output]
    return dict(zip(names, session.run(names, feeds)))


def tinyc_outputs(model: onnx.ModelProto, feeds: dict, target: str) -> dict[str, np.ndarray]:
    """Compile float32 and run on `target` ("ref" or "host", the latter under the sanitizers)."""
    from tinyc import pipeline, runners

    with tempfile.TemporaryDirectory(prefix="tinyc-ew-") as tmp:
        path = Path(tmp) / "m.onnx"
        onnx.save(model, path)
        compiled = pipeline.build(path, pipeline.Options(dtype="float32", name="model"))
        samples = {n: np.asarray(feeds[n], np.float32)[None] for n in compiled.graph.inputs}
        if target == "ref":
            got = runners.run(compiled, samples, "ref")
        else:
            got = runners.run_host(compiled, samples, sanitize=True)
    return {k: np.asarray(v[0]) for k, v in got.items()}


def assert_close(got: dict, expected: dict, tol: float = 1e-4) -> None:
    """Each output within tol x max(1, max |expected|); inf and NaN in the same places."""
    for name, exp in expected.items():
        g = got[name].reshape(exp.shape).astype(np.float64)
        e = exp.astype(np.float64)
        assert np.array_equal(np.isnan(g), np.isnan(e)), name
        fin = np.isfinite(e)
        assert np.array_equal(g[~fin & ~np.isnan(e)], e[~fin & ~np.isnan(e)]), name
        scale = max(1.0, float(np.max(np.abs(e[fin]), initial=0.0)))
        err = float(np.max(np.abs(g[fin] - e[fin]), initial=0.0)) / scale
        assert err <= tol, f"{name}: relative error {err:.3g}"
