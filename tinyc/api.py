"""The Python API: what the `tinyc` command does, as functions returning Python values.

    import tinyc
    doc = tinyc.compile("model.onnx", "out", calib="samples.npz", board="nucleo-l4r5zi")
    y = tinyc.run("model.onnx", "samples.npz", target="host", calib="samples.npz")

Options are the command line's (CONTRACT.md), as keyword arguments with `-` written `_`. Data
arguments take a file (.npz/.npy, as on the command line) or arrays already in memory.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tinyc import io, pipeline, report, runners
from tinyc.accuracy import load_labelled
from tinyc.budget import parse_bytes, parse_count
from tinyc.compress import Compression
from tinyc.errors import BadInput
from tinyc.ir import Graph
from tinyc.passes.calibration import DEFAULT as DEFAULT_CALIBRATION
from tinyc.progress import Progress, silent

Samples = str | Path | np.ndarray | dict[str, np.ndarray]


def _arrays(data: Samples, g: Graph) -> dict[str, np.ndarray]:
    """A samples file, one array (a one-input model) or {input name: array}, with a leading sample axis."""
    if isinstance(data, (str, Path)):
        return io.load_samples(data, g).arrays
    if isinstance(data, np.ndarray):
        if len(g.inputs) != 1:
            raise BadInput(f"one array given but the model has {len(g.inputs)} inputs; give {{name: array}}")
        data = {g.inputs[0]: data}
    return io.samples_from_arrays(data, g).arrays


def build(model: str | Path, *, dtype: str = "int8", calib: Samples | None = None,
          calibration: str = DEFAULT_CALIBRATION, board: str | None = None,
          name: str | None = None, seed: int = 0, prune: float | None = None, sparsity: str | None = None,
          prune_channels: float | None = None, kronecker: str | None = None, doped: bool | None = None,
          max_drop: float | None = None, flash_budget: int | str | None = None,
          ram_budget: int | str | None = None, latency_budget: int | str | None = None, eval: str | Path | None = None,  # noqa: A002
          selftest: Samples | None = None, float_layers: str | list[str] | None = None,
          finetune: Samples | None = None, epochs: int = pipeline.DEFAULT_EPOCHS, lr: float = pipeline.DEFAULT_LR,
          progress: Progress = silent) -> pipeline.Compiled:
    """Every pass of the compiler on an ONNX file; nothing is written. progress: tinyc.progress.terminal
    shows a bar for long work (sensitivity sweeps, budget searches, accuracy). selftest: samples the
    board firmware embeds and checks at start-up. float_layers: layers kept in float32 inside the int8 model
    (names, or "auto": the fewest that bring int8 within max_drop of float). calibration: minmax,
    percentile or mse (tinyc.passes.calibration). finetune: training inputs (a file may hold `labels`) to
    fine-tune the compressed model on for `epochs` at learning rate `lr` (needs tinyc[train]: PyTorch).
    latency_budget: instructions per inference on the board, as the cost model predicts them (README: Latency
    budget)."""
    if float_layers is not None and not isinstance(float_layers, str):
        float_layers = ",".join(float_layers)
    opts = pipeline.Options(dtype=dtype, calibration=calibration, name=name, seed=seed, board=board, progress=progress,
                            float_layers=float_layers, epochs=epochs, lr=lr,
                            compression=Compression(prune=prune, sparsity=sparsity, prune_channels=prune_channels,
                                                    kronecker=kronecker, doped=doped, max_drop=max_drop))
    if flash_budget is not None:
        opts.flash_budget = parse_bytes(str(flash_budget), "--flash-budget")
    if ram_budget is not None:
        opts.ram_budget = parse_bytes(str(ram_budget), "--ram-budget")
    if latency_budget is not None:
        opts.latency_budget = parse_count(str(latency_budget), "--latency-budget")
    if calib is not None or eval is not None or selftest is not None or finetune is not None:
        float_graph = pipeline.frontend(model)
        if finetune is not None:
            data = _arrays(finetune, float_graph)
            labels = io.load_labels(finetune, len(next(iter(data.values())))) \
                if isinstance(finetune, (str, Path)) else None
            opts.finetune = (data, labels)
        if selftest is not None:
            opts.selftest = _arrays(selftest, float_graph)
        if calib is not None:
            opts.calib = _arrays(calib, float_graph)
            if isinstance(calib, (str, Path)):
                opts.calib_labels = io.load_labels(calib, len(next(iter(opts.calib.values()))))
        if eval is not None:
            opts.labelled = load_labelled(eval, float_graph)
    return pipeline.build(model, opts)


def compile(model: str | Path, out: str | Path | None = None, *, arduino: bool = False,  # noqa: A001
            **options) -> dict:
    """Compile `model`; write the C folder to `out` when given (as an Arduino library with arduino=True).
    Returns report.json as a dict."""
    compiled = build(model, **options)
    if out is None:
        return pipeline.report_of(compiled)
    return pipeline.write(compiled, out, arduino=arduino)


def run(model: str | Path, inputs: Samples, *, target: str = "ref", **options) -> dict[str, np.ndarray]:
    """Outputs of `target` (ref, host, or the QEMU board given as board=...) for the samples, by output
    name, exactly as the generated code produces them (int8 or float32), with a leading sample axis."""
    compiled = build(model, **options)
    feeds = runners.feeds_for(compiled.graph, _arrays(inputs, compiled.float_graph))
    if compiled.board is not None and target == compiled.board.name:
        return runners.run_board(compiled, feeds, progress=options.get("progress", silent))[0]
    return runners.run(compiled, feeds, target)


def measure(model: str | Path, inputs: Samples, *, board: str, **options) -> dict:
    """report.json with `measured` filled: the firmware built for `board` and run under QEMU."""
    compiled = build(model, board=board, **options)
    feeds = runners.feeds_for(compiled.graph, _arrays(inputs, compiled.float_graph))
    _, measured = runners.run_board(compiled, feeds, progress=options.get("progress", silent))
    return report.measured(pipeline.report_of(compiled, code=measured["code"]), measured, measured["instructions"])
