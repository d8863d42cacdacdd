"""Test helpers: one-node graphs, quantization, and running a graph as reference or host C."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from tests.models import MODELS_DIR
from tinyc import interpreter, ops, quant
from tinyc.codegen.emit import emit
from tinyc.ir import NP_DTYPE, Graph, Node, Tensor, verify
from tinyc.passes.plan import plan_memory
from tinyc.passes.quantize import quantize
from tinyc.toolchain import host

SHARED_MODELS = MODELS_DIR


def graph_of(op: str, inputs: list[tuple[str, tuple | np.ndarray]], attrs: dict | None = None,
             n_outputs: int = 1) -> Graph:
    """A one-node float32 graph; ndarray inputs become constants, shapes become graph inputs."""
    tensors: dict[str, Tensor] = {}
    graph_inputs, names = [], []
    for name, spec in inputs:
        names.append(name)
        if not name:
            continue
        if isinstance(spec, np.ndarray):
            tensors[name] = Tensor(name, tuple(spec.shape), "float32", spec.astype(np.float32))
        else:
            tensors[name] = Tensor(name, tuple(spec), "float32")
            graph_inputs.append(name)
    outputs = [f"y{i}" for i in range(n_outputs)]
    node = Node("node", op, names, outputs, dict(attrs or {}))
    shapes = ops.get(op).infer_shape(node, [tensors[n].shape if n else None for n in names])
    for o, s in zip(outputs, shapes):
        tensors[o] = Tensor(o, tuple(s), "float32")
    g = Graph("test", tensors, [node], graph_inputs, outputs)
    verify(g)
    return g


def random_samples(g: Graph, count: int, seed: int = 0, lo: float = -1.0, hi: float = 1.0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {n: rng.uniform(lo, hi, (count, *g.tensors[n].shape)).astype(np.float32) for n in g.inputs}


def quantize_graph(g: Graph, calib: dict[str, np.ndarray]) -> Graph:
    h = quantize(g, calib)
    verify(h)
    return h


def _as_model_dtype(g: Graph, samples: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Float samples given to an int8 graph are quantized with its input parameters."""
    result = {}
    for name in g.inputs:
        t, x = g.tensors[name], samples[name]
        if t.dtype == "int8" and x.dtype != np.int8:
            x = quant.quantize_array(x, t.q)
        result[name] = np.asarray(x, NP_DTYPE[t.dtype])
    return result


def run_ref(g: Graph, samples: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return interpreter.run_samples(g, _as_model_dtype(g, samples))


def emit_folder(g: Graph, out_dir: Path, name: str = "model") -> Path:
    planned, plan = plan_memory(g)
    emit(planned, plan, Path(out_dir), name)
    return Path(out_dir)


def run_c_host(g: Graph, samples: dict[str, np.ndarray], sanitize: bool = False) -> dict[str, np.ndarray]:
    """Emit g, build it with the host compiler (warnings are errors), run every sample."""
    feeds = _as_model_dtype(g, samples)
    with tempfile.TemporaryDirectory(prefix="tinyc-test-") as tmp:
        out = emit_folder(g, Path(tmp) / "out")
        outs = [(g.tensors[n].shape, np.dtype(NP_DTYPE[g.tensors[n].dtype])) for n in g.outputs]
        results = host.run_folder(out, [feeds[n] for n in g.inputs], outs, sanitize=sanitize)
    return dict(zip(g.outputs, results))
