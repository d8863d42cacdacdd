"""Run a compiled model on a target: `ref` (the numpy interpreter) or `host` (the generated C).

Every target gets the same feeds: float32 samples quantized once, here, for an int8 model.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from tinyc import interpreter, quant
from tinyc.errors import BadInput
from tinyc.ir import NP_DTYPE, Graph
from tinyc.pipeline import Compiled, write
from tinyc.toolchain import host

TARGETS = ("ref", "host")


def feeds_for(g: Graph, samples: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Float samples in the model's own units -> what the generated code takes (int8 or float32)."""
    feeds = {}
    for name in g.inputs:
        t = g.tensors[name]
        x = samples[name]
        feeds[name] = quant.quantize_array(x, t.q) if t.dtype == "int8" else x.astype(NP_DTYPE[t.dtype])
    return feeds


def run_host(compiled: Compiled, feeds: dict[str, np.ndarray], sanitize: bool = False) -> dict[str, np.ndarray]:
    g = compiled.graph
    with tempfile.TemporaryDirectory(prefix="tinyc-run-") as tmp:
        out = Path(tmp) / "out"
        write(compiled, out)
        shapes = [(g.tensors[n].shape, np.dtype(NP_DTYPE[g.tensors[n].dtype])) for n in g.outputs]
        results = host.run_folder(out, [feeds[n] for n in g.inputs], shapes, sanitize=sanitize)
    return dict(zip(g.outputs, results))


def run(compiled: Compiled, feeds: dict[str, np.ndarray], target: str) -> dict[str, np.ndarray]:
    if target == "ref":
        return interpreter.run_samples(compiled.graph, feeds)
    if target == "host":
        return run_host(compiled, feeds)
    raise BadInput(f"--target {target!r}: choose one of {', '.join(TARGETS)}")
