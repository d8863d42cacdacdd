"""Seeded mutants of the valid example models, and the check every mutant must pass: the compiler
either rejects it with a TinycError or compiles it (int8 and float32); anything else is a bug.

Used by tests/unit/test_fuzz.py (a few hundred mutants) and scripts/fuzz.py (a long campaign).
"""

from __future__ import annotations

import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

from tinyc import pipeline
from tinyc.errors import TinycError
from tinyc.ir import NP_DTYPE

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
MODELS = ("kws_dscnn", "digits_cnn", "digits_mlp")
OP_TYPES = ("Conv", "Relu", "Gemm", "MatMul", "Add", "Mul", "Reshape", "Flatten", "AveragePool", "MaxPool",
            "Softmax", "Transpose", "Concat", "BatchNormalization", "Clip", "Sigmoid", "Identity", "Squeeze",
            "GlobalAveragePool", "PRelu", "Sub", "Div", "Pad", "LSTM", "NoSuchOp", "QuantizeLinear")
INPUT_TYPES = (TensorProto.INT64, TensorProto.UINT8, TensorProto.FLOAT16, TensorProto.DOUBLE, TensorProto.STRING,
               TensorProto.BOOL)

_SOURCES: dict[str, bytes] = {}


def source(model: str) -> bytes:
    if model not in _SOURCES:
        _SOURCES[model] = (EXAMPLES / f"{model}.onnx").read_bytes()
    return _SOURCES[model]


def _int(rng, v: int) -> int:
    return int(rng.choice([v + 1, v - 1, 0, -v, -1, 2 * v + 1, 1 << 20, 1 << 40, -(1 << 31)]))


def _float(rng, v: float) -> float:
    return float(rng.choice([0.0, -v, v * 1e6, np.nan, np.inf, -np.inf, 1e-30, 2.0]))


def _list(rng, values: list) -> list:
    values = list(values)
    how = rng.integers(4)
    if how == 0 and values:
        values.pop(int(rng.integers(len(values))))
    elif how == 1:
        values.insert(int(rng.integers(len(values) + 1)), values[0] if values else 1)
    elif values:
        i = int(rng.integers(len(values)))
        values[i] = _int(rng, int(values[i])) if isinstance(values[i], int) else _float(rng, float(values[i]))
    return values


def _attr(m: onnx.ModelProto, rng) -> str:
    nodes = [n for n in m.graph.node if n.attribute]
    if not nodes:
        return "no attribute"
    node = nodes[int(rng.integers(len(nodes)))]
    a = node.attribute[int(rng.integers(len(node.attribute)))]
    A = onnx.AttributeProto
    if a.type == A.INT:
        a.i = _int(rng, a.i)
    elif a.type == A.FLOAT:
        a.f = _float(rng, a.f)
    elif a.type == A.INTS:
        new = _list(rng, list(a.ints))
        del a.ints[:]
        a.ints.extend(max(min(v, 2**62), -2**62) for v in new)
    elif a.type == A.FLOATS:
        new = _list(rng, [float(v) for v in a.floats])
        del a.floats[:]
        a.floats.extend(new)
    elif a.type == A.STRING:
        a.s = rng.choice([b"SAME_UPPER", b"VALID", b"NOTSET", b"SAME_LOWER", b"bogus", b""])
    elif a.type == A.TENSOR:
        _tensor_data(a.t, rng)
    return f"attribute {a.name} of {node.op_type}"


def _graph_inputs(m: onnx.ModelProto) -> list:
    inits = {i.name for i in m.graph.initializer}
    return [i for i in m.graph.input if i.name not in inits]


def _dim(m: onnx.ModelProto, rng) -> str:
    vis = _graph_inputs(m) + list(m.graph.output) if rng.random() < 0.8 else list(m.graph.value_info)
    vis = [v for v in vis if v.type.tensor_type.shape.dim]
    if not vis:
        return "no dims"
    vi = vis[int(rng.integers(len(vis)))]
    dims = vi.type.tensor_type.shape.dim
    how = rng.integers(6)
    if how == 0:
        dims.add().dim_value = 1
    elif how == 1 and len(dims) > 1:
        del dims[int(rng.integers(len(dims)))]
    elif how == 2:
        dims[int(rng.integers(len(dims)))].dim_param = "N"
    else:
        d = dims[int(rng.integers(len(dims)))]
        d.dim_value = int(rng.choice([0, -1, -5, d.dim_value + 1, d.dim_value * 3, 1 << 16, 1 << 33]))
    return f"dims of {vi.name}"


def _tensor_data(t: onnx.TensorProto, rng) -> None:
    """Change an initializer's shape or data (NaN, Inf, truncated raw bytes)."""
    how = rng.integers(5)
    if how == 0 and t.dims:  # new dims, old bytes
        i = int(rng.integers(len(t.dims)))
        t.dims[i] = int(rng.choice([0, -1, t.dims[i] + 1, t.dims[i] - 1, 1 << 30]))
    elif how == 1 and t.dims:  # new dims and matching data
        arr = numpy_helper.to_array(t)
        shape = list(arr.shape)
        i = int(rng.integers(len(shape)))
        shape[i] = int(rng.choice([0, 1, max(shape[i] - 1, 0), shape[i] + 1]))
        if rng.random() < 0.3:
            shape.pop(int(rng.integers(len(shape))))
        new = numpy_helper.from_array(rng.standard_normal(shape).astype(arr.dtype) if arr.dtype.kind == "f"
                                      else np.ones(shape, arr.dtype), t.name)
        t.CopyFrom(new)
    elif how == 2 and t.raw_data:
        t.raw_data = t.raw_data[:int(rng.integers(len(t.raw_data)))]
    else:
        arr = numpy_helper.to_array(t).copy()
        if arr.dtype.kind == "f" and arr.size:
            arr.flat[int(rng.integers(arr.size))] = rng.choice([np.nan, np.inf, -np.inf, 3e38])
        elif arr.size:
            arr.flat[int(rng.integers(arr.size))] = rng.choice([0, -1, 2**31 - 1, -(2**31)]).astype(arr.dtype) \
                if arr.dtype.itemsize >= 4 else 0
        t.CopyFrom(numpy_helper.from_array(arr, t.name))


def _initializer(m: onnx.ModelProto, rng) -> str:
    inits = list(m.graph.initializer)
    if not inits:
        return "no initializer"
    t = inits[int(rng.integers(len(inits)))]
    _tensor_data(t, rng)
    return f"initializer {t.name}"


def _drop_input(m: onnx.ModelProto, rng) -> str:
    nodes = [n for n in m.graph.node if n.input]
    node = nodes[int(rng.integers(len(nodes)))]
    i = int(rng.integers(len(node.input)))
    if rng.random() < 0.5:
        del node.input[i]
    else:
        node.input[i] = ""
    return f"input {i} of {node.op_type}"


def _swap(m: onnx.ModelProto, rng) -> str:
    n = len(m.graph.node)
    i, j = (int(v) for v in rng.choice(n, 2, replace=n < 2))
    a, b = onnx.NodeProto(), onnx.NodeProto()
    a.CopyFrom(m.graph.node[i])
    b.CopyFrom(m.graph.node[j])
    m.graph.node[i].CopyFrom(b)
    m.graph.node[j].CopyFrom(a)
    return f"nodes {i} and {j} swapped"


def _op_type(m: onnx.ModelProto, rng) -> str:
    node = m.graph.node[int(rng.integers(len(m.graph.node)))]
    node.op_type = str(rng.choice(OP_TYPES))
    if rng.random() < 0.1:
        node.domain = "com.microsoft"
    return f"op type {node.op_type}"


def _names(m: onnx.ModelProto, rng) -> str:
    """Duplicate names, outputs that are inputs, unknown domains and opsets, non-float inputs."""
    g = m.graph
    how = rng.integers(6)
    names = [o for n in g.node for o in n.output] + [i.name for i in g.input]
    if how == 0:
        node = g.node[int(rng.integers(len(g.node)))]
        node.output[0] = str(rng.choice(names))
        return "duplicate output name"
    if how == 1:
        g.output[0].name = _graph_inputs(m)[0].name
        return "graph output is a graph input"
    if how == 2:
        node = g.node[int(rng.integers(len(g.node)))]
        node.domain = str(rng.choice(["com.microsoft", "ai.onnx.ml", "custom"]))
        return f"domain {node.domain}"
    if how == 3:
        m.opset_import[0].version = int(rng.choice([1, 6, 7, 11, 25, 99]))
        return f"opset {m.opset_import[0].version}"
    if how == 4:
        _graph_inputs(m)[0].type.tensor_type.elem_type = int(rng.choice(INPUT_TYPES))
        return "input type"
    if g.initializer:
        dup = onnx.TensorProto()
        dup.CopyFrom(g.initializer[int(rng.integers(len(g.initializer)))])
        g.initializer.append(dup)
    return "duplicate initializer"


MUTATORS = (_attr, _attr, _dim, _initializer, _initializer, _drop_input, _swap, _op_type, _names)


def mutant(seed: int) -> tuple[bytes, str]:
    """The serialized mutant of seed, and a one-line description of what was changed."""
    rng = np.random.default_rng(seed)
    model = MODELS[int(rng.choice(len(MODELS), p=[0.5, 0.3, 0.2]))]
    data = source(model)
    if rng.random() < 0.15:  # bytes of the file
        if rng.random() < 0.5:
            cut = int(rng.integers(len(data)))
            return data[:cut], f"{model}: truncated at {cut}"
        raw = bytearray(data)
        for _ in range(int(rng.integers(1, 8))):
            raw[int(rng.integers(len(raw)))] ^= 1 << int(rng.integers(8))
        return bytes(raw), f"{model}: flipped bytes"
    m = onnx.ModelProto()
    m.ParseFromString(data)
    what = []
    for _ in range(1 + int(rng.random() < 0.3)):
        mutate = MUTATORS[int(rng.integers(len(MUTATORS)))]
        try:
            what.append(mutate(m, rng))
        except (ValueError, IndexError):  # a mutation of a mutant (data that no longer fits its dims): skip it
            what.append(f"{mutate.__name__} skipped")
    return m.SerializeToString(), f"{model}: {'; '.join(what)}"


@dataclass
class Built:
    folder: Path
    inputs: list[tuple[tuple[int, ...], np.dtype]]  # shape and dtype of each input, in order
    outputs: list[tuple[tuple[int, ...], np.dtype]]


@dataclass
class Outcome:
    seed: int
    what: str
    rejected: str | None = None  # the one-line error of the frontend
    compiled: list[Built] = field(default_factory=list)  # folders written (int8, float32)
    errors: list[str] = field(default_factory=list)  # one-line errors of a dtype's build
    failure: str | None = None  # a traceback: a bug


def check(seed: int, workdir: Path) -> Outcome:
    """Compile mutant `seed` in workdir: every exception must be a TinycError."""
    data, what = mutant(seed)
    out = Outcome(seed, what)
    path = Path(workdir) / f"m{seed}.onnx"
    path.write_bytes(data)
    try:
        try:
            pipeline.frontend(path)
        except TinycError as e:
            out.rejected = _one_line(e)
            return out
        for dtype in ("int8", "float32"):
            try:
                compiled = pipeline.build(path, pipeline.Options(dtype=dtype))
                folder = Path(workdir) / f"m{seed}_{dtype}"
                pipeline.write(compiled, folder)
                g = compiled.graph
                specs = [[(g.tensors[n].shape, np.dtype(NP_DTYPE[g.tensors[n].dtype])) for n in names]
                         for names in (g.inputs, g.outputs)]
                out.compiled.append(Built(folder, *specs))
            except TinycError as e:
                out.errors.append(f"{dtype}: {_one_line(e)}")
    except Exception:
        out.failure = traceback.format_exc()
    return out


def _one_line(e: Exception) -> str:
    text = str(e)
    assert text and "\n" not in text, f"{type(e).__name__} is not one line: {text!r}"
    return text


def run_many(seeds, workdir: Path | None = None) -> list[Outcome]:
    with tempfile.TemporaryDirectory(prefix="tinyc-fuzz-") as tmp:
        return [check(s, Path(workdir or tmp)) for s in seeds]
