"""The compiler pipeline, in one place: every pass in order, one line each.

The CLI and the Python API both call this. Passes are Graph -> Graph functions; only this
module and the CLI touch files.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinyc import fit, ir, report
from tinyc.board import Board, load_board
from tinyc.codegen.c_literals import c_ident
from tinyc.codegen.emit import emit
from tinyc.errors import BadInput
from tinyc.frontend.onnx_import import import_model
from tinyc.passes.plan import MemoryPlan, plan_memory
from tinyc.passes.quantize import quantize
from tinyc.passes.simplify import fold_affine, fuse_activation

CALIB_SAMPLES = 16


@dataclass
class Options:
    dtype: str = "int8"  # arithmetic of the generated code: int8 | float32
    calib: dict[str, np.ndarray] | None = None  # float32 inputs with a leading sample axis
    name: str | None = None  # C prefix of the API
    seed: int = 0  # for the random calibration inputs used when calib is None
    board: str | None = None  # a board name from boards/ or a board .toml file


@dataclass
class Compiled:
    name: str
    float_graph: ir.Graph
    graph: ir.Graph  # what the C runs: float_graph, or its int8 form
    plan: MemoryPlan
    warnings: list[str] = field(default_factory=list)
    board: Board | None = None


def frontend(model: str | Path) -> ir.Graph:
    """ONNX file -> simplified float32 IR."""
    g = import_model(model)
    g = fold_affine(g)  # bias adds and BatchNorm into conv/dense
    g = fuse_activation(g)  # Relu/Clip into the op before them
    ir.verify(g)
    return g


def random_inputs(g: ir.Graph, count: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {n: rng.standard_normal((count, *g.tensors[n].shape)).astype(np.float32) for n in g.inputs}


def build(model: str | Path, opts: Options) -> Compiled:
    """Run every pass; nothing is written."""
    if opts.dtype not in ("int8", "float32"):
        raise BadInput(f"--dtype {opts.dtype!r}: choose int8 or float32")
    name = c_ident(opts.name or Path(model).stem)
    board = load_board(opts.board) if opts.board else None  # an unknown board fails before any work
    g = frontend(model)
    warnings = []
    q = g
    if opts.dtype == "int8":
        calib = opts.calib
        if calib is None:
            warnings.append(f"no --calib data: calibrating int8 ranges on {CALIB_SAMPLES} seeded random inputs; "
                            "pass real samples for real accuracy")
            calib = random_inputs(g, CALIB_SAMPLES, opts.seed)
        q = quantize(g, calib)  # int8 weights, calibrated activations, integer kernel parameters
        ir.verify(q)
    q, plan = plan_memory(q)  # one arena, offsets and lower bound
    return Compiled(name, g, q, plan, warnings, board)


def write(compiled: Compiled, out_dir: str | Path) -> dict:
    """Emit the folder and report.json; the folder appears only once complete."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise BadInput(f"-o {out_dir}: exists and is not a folder")
    doc = report.build_report(compiled.graph, compiled.plan, compiled.name, board=compiled.board,
                              dtype="int8" if compiled.graph.is_int8 else "float32")
    if compiled.board is not None:
        fit.check_fit(doc, compiled.board)  # DoesNotFit before anything is written
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        emit(compiled.graph, compiled.plan, tmp, compiled.name, compiled.board)
        (tmp / "report.json").write_text(json.dumps(doc, indent=2) + "\n")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return doc
