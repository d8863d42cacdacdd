"""The compiler pipeline, in one place: every pass in order, one line each.

The CLI and the Python API both call this. Passes are Graph -> Graph functions; only this
module and the CLI touch files.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from tinyc import accuracy, budget, compress as compression, cost_model, fit, ir, report, report_html, selftest
from tinyc.board import Board, has_helium, load_board
from tinyc.ir import C_TYPE
from tinyc.codegen.c_literals import c_ident
from tinyc.codegen.arduino import as_arduino_library
from tinyc.codegen.emit import emit
from tinyc.compress import Compression
from tinyc.errors import BadInput, DoesNotFit
from tinyc.frontend.onnx_import import import_model
from tinyc.passes.formats import choose_formats
from tinyc.passes.plan import MemoryPlan, plan_memory
from tinyc.passes import mixed, sensitivity
from tinyc.passes.calibration import DEFAULT as DEFAULT_CALIBRATION, check_method
from tinyc.passes.quantize import quantize
from tinyc.passes.sensitivity import Sensitivity
from tinyc.progress import Progress, silent
from tinyc.passes.simplify import fold_affine, fuse_activation
from tinyc.selftest import Selftest

CALIB_SAMPLES = 16
DEFAULT_EPOCHS = 20  # --finetune: enough for the digits models to recover from --prune 0.9 (README: Fine-tuning)
DEFAULT_LR = 1e-3


@dataclass
class Options:
    dtype: str = "int8"  # arithmetic of the generated code: int8 | float32
    calib: dict[str, np.ndarray] | None = None  # float32 inputs with a leading sample axis
    calibration: str = DEFAULT_CALIBRATION  # how activation ranges are chosen: minmax | percentile | mse
    name: str | None = None  # C prefix of the API
    seed: int = 0  # for the random calibration inputs used when calib is None
    board: str | None = None  # a board name from boards/ or a board .toml file
    compression: Compression = field(default_factory=Compression)
    flash_budget: int | None = None  # bytes of flash for weights and code
    ram_budget: int | None = None  # bytes of RAM for the arena and the stack
    latency_budget: int | None = None  # instructions per inference on the board (cost model's prediction)
    labelled: tuple[dict[str, np.ndarray], np.ndarray] | None = None  # --eval: inputs and labels
    calib_labels: np.ndarray | None = None  # labels in the --calib file: sensitivity by accuracy
    progress: Progress = silent  # how long work shows its progress (the CLI: a bar on a terminal)
    selftest: dict[str, np.ndarray] | None = None  # --selftest: float32 samples the board firmware embeds
    float_layers: str | None = None  # --float-layers: "NAME,..." or "auto" (within compression.max_drop)
    finetune: tuple[dict[str, np.ndarray], np.ndarray | None] | None = None  # --finetune: inputs, labels or None
    epochs: int = DEFAULT_EPOCHS  # fine-tuning length
    lr: float = DEFAULT_LR  # fine-tuning learning rate (Adam)


@dataclass
class Compiled:
    name: str
    float_graph: ir.Graph
    graph: ir.Graph  # what the C runs: float_graph, or its (compressed) int8 form
    plan: MemoryPlan
    warnings: list[str] = field(default_factory=list)
    board: Board | None = None
    sensitivity: Sensitivity | None = None
    accuracy: dict | None = None  # {"float", "int8", "compressed"} in percent, with --eval
    selftest: Selftest | None = None  # the samples and expected outputs the board firmware embeds
    mixed: mixed.MixedChoice | None = None  # what --float-layers auto measured and chose
    finetune: dict | None = None  # what --finetune did (report.json "finetune")
    latency: dict | None = None  # --latency-budget: the compression chosen and its predicted instructions


def frontend(model: str | Path) -> ir.Graph:
    """ONNX file -> simplified float32 IR."""
    g = import_model(model)
    g = fold_affine(g)  # bias adds and BatchNorm into conv/dense
    g = fuse_activation(g)  # Relu/Clip into the op before them
    ir.verify(g)
    return g


def random_inputs(g: ir.Graph, count: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    # an int64 input holds indices: small ones (negative ones count from the end; kernels clamp the rest)
    return {n: rng.integers(-2, 3, (count, *g.tensors[n].shape)) if g.tensors[n].dtype == "int64"
            else rng.standard_normal((count, *g.tensors[n].shape)).astype(np.float32) for n in g.inputs}


def lower(g: ir.Graph, dtype: str, calib: dict[str, np.ndarray], float_layers: list[str] = (),
          warnings: list[str] | None = None, *, method: str = DEFAULT_CALIBRATION,
          fastest_on: str | None = None) -> tuple[ir.Graph, MemoryPlan]:
    """Float graph -> the graph the C runs, and its memory plan. float_layers stay float32 in int8;
    method: the calibration's; fastest_on: a board whose predicted fastest format each layer takes."""
    if dtype == "int8":
        g = quantize(g, calib, float_layers, [] if warnings is None else warnings,  # int8, float32 where asked
                     calibration=method)
        g = choose_formats(g, fastest_on=fastest_on)  # dense, CSR or N:M per layer: smallest (or fastest)
        ir.verify(g)
    return plan_memory(g)  # one arena, offsets and lower bound


def build(model: str | Path, opts: Options) -> Compiled:
    """Run every pass; nothing is written."""
    if opts.dtype not in ("int8", "float32"):
        raise BadInput(f"--dtype {opts.dtype!r}: choose int8 or float32")
    check_method(opts.calibration)
    name = c_ident(opts.name or Path(model).stem)
    board = load_board(opts.board) if opts.board else None  # an unknown board fails before any work
    if opts.latency_budget is not None:
        _check_latency_options(opts, board)
    g = frontend(model)
    g.helium = has_helium(board)  # before lowering: the memory plan takes the kernels' scratch
    c = opts.compression
    if opts.float_layers == "auto":  # --max-drop bounds the int8 loss, not the pruning
        c = replace(c, max_drop=None)
    compression.validate(c, g)
    if opts.finetune is not None:
        _check_finetune(opts)  # before any work
        c = replace(c, trained=True)  # Kronecker shapes for the ratio: training, not the nearest KP, fits them
    if board is not None and not c.any and opts.flash_budget is None:
        _check_weights_fit(g, opts.dtype, board)  # before any quantization work
    warnings = []
    calib = opts.calib
    if calib is None and any(t.q is None for t in g.tensors.values() if not t.is_const):
        warnings.append(f"no --calib data: calibrating on {CALIB_SAMPLES} seeded random inputs; "
                        "pass real samples for real accuracy")
    if calib is None:
        calib = random_inputs(g, CALIB_SAMPLES, opts.seed)
    sens = None
    if c.needs_sensitivity or opts.flash_budget or opts.latency_budget:
        sens = sensitivity.analyse(g, *compression.sensitivity_samples(calib, opts.calib_labels),
                                   progress=opts.progress)
    small, notes = compression.compress(g, c, sens, calib=calib)  # pruning and Kronecker, as asked
    untuned, tuned = small, None
    if opts.finetune is not None:
        small, tuned = _finetune(g, small, opts, calib)  # trained float weights, the structure kept
    float_layers, choice = _float_layers(small, opts, calib)
    q, plan = lower(small, opts.dtype, calib, float_layers, notes, method=opts.calibration)
    if choice is not None:
        notes.append(choice.summary())
    if opts.flash_budget is not None:
        small, q, plan = _fit_flash(g, c, sens, opts, calib, name, board, (small, q, plan), float_layers)
    if opts.ram_budget is not None:
        small, q, plan = _fit_ram(g, c, sens, opts, calib, (small, q, plan), float_layers)
    latency_choice = None
    if opts.latency_budget is not None:
        small, q, plan, latency_choice = _fit_latency(g, c, sens, opts, calib, board, (small, q, plan), float_layers)
    accuracy = None
    compressed = bool(c.any or opts.flash_budget or opts.ram_budget or latency_choice and latency_choice["compressed"]
                      or tuned is not None)
    if opts.labelled is not None:
        accuracy = _accuracy(g, q, opts, calib, compressed=compressed)
        if tuned is not None:  # what fine-tuning changed: the same compression, compiled without it
            before = lower(untuned, opts.dtype, calib, float_layers, method=opts.calibration)[0]
            accuracy["before_finetune"] = accuracy_of(before, opts)
    damage = _damage_warning(g, q, opts, calib, accuracy, compressed, tuned is not None)
    if damage:
        notes.append(damage)
    tests = None
    if opts.selftest is not None:
        if board is None:
            raise BadInput("--selftest: give --board too: the samples go into that board's firmware")
        tests = selftest.prepare(q, opts.selftest)
    return Compiled(name, g, q, plan, warnings + notes, board, sens, accuracy, tests, choice, tuned,
                    latency_choice)


def _check_finetune(opts: Options) -> None:
    if opts.epochs < 1:
        raise BadInput(f"--epochs {opts.epochs}: at least 1")
    if not opts.lr > 0:
        raise BadInput(f"--lr {opts.lr:g}: must be above 0")
    if opts.flash_budget is not None or opts.ram_budget is not None or opts.latency_budget is not None:
        raise BadInput("--finetune with --flash-budget, --ram-budget or --latency-budget: not supported yet; give "
                       "the compression (--prune, --sparsity, --prune-channels) instead")
    from tinyc import train  # noqa: F401  (no PyTorch: its one-line error now, not after the compression)


def _finetune(g: ir.Graph, small: ir.Graph, opts: Options, calib) -> tuple[ir.Graph, dict]:
    """Fine-tune the compressed float graph `small` on opts.finetune, distilled from g (tinyc.train: torch
    is imported here only); quantization-aware when the code is int8."""
    from tinyc import train

    data, labels = opts.finetune
    result = train.finetune(g, small, data, labels, epochs=opts.epochs, lr=opts.lr, seed=opts.seed,
                            qat=opts.dtype == "int8", calib=calib, calibration=opts.calibration,
                            schedule=_gradual(g, small, opts.compression), progress=opts.progress)
    ir.verify(result.graph)
    return result.graph, {**result.as_dict(), "samples": len(next(iter(data.values()))),
                          "labels": labels is not None}


def _gradual(g: ir.Graph, small: ir.Graph, c: Compression):
    """The gradual pruning schedule when the compression prunes weights (unstructured or N:M): from the dense
    weights (channel pruning applied) to the per-layer ratios compress() chose; None otherwise."""
    if not (c.prune or c.sparsity or c.max_drop is not None) or c.kronecker:
        return None
    from tinyc.passes.prune import prunable_layers
    from tinyc.sparse import weight_matrix
    from tinyc.train import GradualPruning

    start, _ = compression.compress(g, Compression(prune_channels=c.prune_channels), None)
    n, m = (int(v) for v in c.sparsity.split(":")) if c.sparsity else (0, 0)
    ratios, nm = {}, {}
    for node in prunable_layers(small):
        w = small.tensors[node.inputs[1]].data
        zeros = float(np.mean(w == 0))
        if m and weight_matrix(w).shape[1] % m == 0:
            nm[node.name] = (n, m)
            if zeros > 1.0 - n / m + 1e-3:
                ratios[node.name] = zeros
        elif zeros > 0:
            ratios[node.name] = zeros
    return GradualPruning(start, ratios, nm)


def _float_layers(g: ir.Graph, opts: Options, calib) -> tuple[list[str], mixed.MixedChoice | None]:
    """The layers --float-layers keeps in float32 (names of g's nodes), and what `auto` measured."""
    spec = opts.float_layers
    if not spec:
        return [], None
    if opts.dtype != "int8":
        raise BadInput("--float-layers keeps layers of an int8 model in float32: it needs --dtype int8")
    if spec != "auto":
        return mixed.resolve(g, spec), None
    max_drop = opts.compression.max_drop
    if opts.calib is None or max_drop is None:
        raise BadInput("--float-layers auto needs --calib (real samples) and --max-drop LOSS (accuracy points "
                       "with --eval, else % output error)")
    choice = mixed.choose(g, calib, max_drop, opts.labelled, opts.progress, method=opts.calibration)
    return choice.chosen, choice


def _check_weights_fit(g: ir.Graph, dtype: str, board: Board) -> None:
    """DoesNotFit when the weights alone, at their smallest (1 byte each in int8), exceed the board's flash."""
    per_weight = 4 if dtype == "float32" else 1
    need = sum(t.size for t in g.tensors.values() if t.is_const) * per_weight
    if need > board.flash_limit:
        raise DoesNotFit(f"the weights alone need {need:,} B ({dtype}, {per_weight} B a weight) but {board.name} "
                         f"has {board.flash_limit:,} B of flash: compress (--prune, --kronecker, --flash-budget) or "
                         "choose a larger board")


def _flash_bytes(q: ir.Graph, plan: MemoryPlan, name: str, board: Board | None) -> int:
    doc = report.build_report(q, plan, name, board=board)
    return doc["flash"]["weights"] + (fit.estimated_code_bytes(doc, board) if board else 0)


def _fit_flash(g, c, sens, opts, calib, name, board, current, float_layers):
    """The least pruning, in sensitivity order, that brings planned flash within the budget."""
    if _flash_bytes(current[1], current[2], name, board) <= opts.flash_budget:
        return current
    smallest = None
    for target in opts.progress(budget.FLASH_TARGETS, "flash budget search"):
        if c.prune and target <= c.prune:
            continue
        small, _ = compression.compress(g, c, sens, prune=target, calib=calib)
        q, plan = lower(small, opts.dtype, calib, float_layers, method=opts.calibration)
        size = _flash_bytes(q, plan, name, board)
        smallest = size if smallest is None else min(smallest, size)
        if size <= opts.flash_budget:
            return small, q, plan
    what = "weights and estimated code" if board else "weights"
    raise DoesNotFit(f"--flash-budget {opts.flash_budget:,} B cannot be met: the smallest size reached is "
                     f"{smallest:,} B of {what}, with {budget.FLASH_TARGETS[-1]:.0%} of the weights pruned")


def _fit_ram(g, c, sens, opts, calib, current, float_layers):
    """The least channel pruning that brings the arena and stack within the RAM budget."""
    need = current[2].arena + fit.STACK_BYTES
    if need <= opts.ram_budget:
        return current
    smallest = need
    for ratio in opts.progress(budget.RAM_CHANNEL_RATIOS, "RAM budget search"):
        if c.prune_channels and ratio <= c.prune_channels:
            continue
        small, _ = compression.compress(g, replace(c, prune_channels=ratio), sens, calib=calib)
        q, plan = lower(small, opts.dtype, calib, [f for f in float_layers if f in {n.name for n in small.nodes}],
                        method=opts.calibration)
        smallest = min(smallest, plan.arena + fit.STACK_BYTES)
        if plan.arena + fit.STACK_BYTES <= opts.ram_budget:
            return small, q, plan
    raise DoesNotFit(f"--ram-budget {opts.ram_budget:,} B cannot be met: the smallest RAM reached is {smallest:,} B "
                     f"(arena + {fit.STACK_BYTES:,} B stack) with {budget.RAM_CHANNEL_RATIOS[-1]:.0%} of the "
                     "channels pruned where the graph allows")


def accuracy_of(q: ir.Graph, opts: Options) -> float:
    samples, labels = opts.labelled
    return accuracy.accuracy(q, samples, labels, opts.progress)


def _check_latency_options(opts: Options, board: Board | None) -> None:
    if board is None:
        raise BadInput("--latency-budget counts instructions on a board: give --board too")
    if opts.dtype != "int8":
        raise BadInput("--latency-budget: the cost model covers the int8 kernels; use --dtype int8")
    if opts.latency_budget <= 0:
        raise BadInput(f"--latency-budget {opts.latency_budget}: give instructions per inference, more than 0")
    cost_model.check_board(board.name)


def _fit_latency(g, c, sens, opts, calib, board, current, float_layers):
    """The least-loss compression whose predicted instructions are budget.LATENCY_MARGIN under the budget.
    For each channel-pruning step, the least unstructured pruning (sensitivity order; each layer in its
    fastest format) that fits, found by bisection (more pruning never predicts slower); the steps stop
    once one fits unpruned or loses more than the best so far. Among those candidates, the one whose
    float loss on the calibration samples is least."""
    small, q, plan = current
    aim = int(opts.latency_budget * (1.0 - budget.LATENCY_MARGIN))  # predictions err by a percent or two
    q, plan = lower(small, "int8", calib, float_layers, method=opts.calibration, fastest_on=board.name)
    start = cost_model.total(q, board.name)
    if start <= aim:
        return small, q, plan, {"prune_channels": c.prune_channels, "prune": c.prune, "predicted": start,
                                "compressed": False}
    loss_of, metric = sensitivity.loss_function(g, *compression.sensitivity_samples(calib, opts.calib_labels))
    targets = [p for p in budget.LATENCY_PRUNE_TARGETS if p >= (c.prune or 0)]
    tried: dict = {}

    def attempt(ch, target):
        if (ch, target) not in tried:
            cand, _ = compression.compress(g, replace(c, prune_channels=ch or c.prune_channels), sens,
                                           prune=target or None, calib=calib)
            layers = [f for f in float_layers if f in {n.name for n in cand.nodes}]
            cq, cplan = lower(cand, "int8", calib, layers, method=opts.calibration, fastest_on=board.name)
            tried[(ch, target)] = (cost_model.total(cq, board.name), cand, cq, cplan)
        return tried[(ch, target)]

    fitting = []
    levels = [ch for ch in budget.LATENCY_CHANNEL_RATIOS if (ch or 0) >= (c.prune_channels or 0)]
    for ch in opts.progress(levels, "latency budget search"):
        if attempt(ch, targets[-1])[0] > aim:
            continue  # even the most pruning misses at this channel ratio
        lo, hi = 0, len(targets) - 1  # targets[hi] fits; find the least that does
        while lo < hi:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if attempt(ch, targets[mid])[0] <= aim else (mid + 1, hi)
        predicted, cand, cq, cplan = attempt(ch, targets[hi])
        loss = loss_of(cand)
        if fitting and loss > min(f[0] for f in fitting):
            break  # removing more channels now loses more than the pruning it spares
        fitting.append((loss, ch, targets[hi], predicted, cand, cq, cplan))
        if hi == 0:
            break  # fits with no unstructured pruning: removing more channels only loses more
    if not fitting:
        smallest = min(v[0] for v in tried.values())
        raise DoesNotFit(f"--latency-budget {opts.latency_budget:,} instructions cannot be met on {board.name}: the "
                         f"fewest predicted are {smallest:,} (aiming {budget.LATENCY_MARGIN:.0%} under), with "
                         f"{budget.LATENCY_CHANNEL_RATIOS[-1]:.0%} of the "
                         f"channels and {budget.LATENCY_PRUNE_TARGETS[-1]:.0%} of the weights pruned")
    loss, ch, target, predicted, cand, cq, cplan = min(fitting, key=lambda f: (f[0], f[3]))
    return cand, cq, cplan, {"prune_channels": ch, "prune": target, "predicted": predicted, "loss": round(loss, 4),
                             "loss_metric": metric, "compressed": True, "dense_predicted": start}


DEFAULT_MAX_DROP = 2.0  # accuracy points below float before compile warns (without --max-drop)
MIN_AGREEMENT = 95.0  # % agreement with float (no labels) below which compile warns


def _damage_warning(g, q, opts, calib, acc: dict | None, compressed: bool, tuned: bool = False) -> str | None:
    """One line when what is compiled lost too much against float: the --eval accuracy more than --max-drop
    (default 2 points) below float, or without labels, after compression, agreement with float on the
    calibration samples below 95 % (top class, or 100 - relative RMS error % for non-classifiers)."""
    hint = ("fine-tune longer (--epochs) or on more data, or compress less" if tuned
            else "fine-tune with --finetune DATA.npz, or compress less")
    if acc is not None:
        got = next((acc[k] for k in ("compressed", "mixed", "int8") if acc.get(k) is not None), None)
        limit = opts.compression.max_drop if opts.compression.max_drop is not None else DEFAULT_MAX_DROP
        if got is not None and acc["float"] - got > limit:
            what = "compressed" if acc.get("compressed") is not None else "int8"
            return (f"{what} accuracy {got:.2f} % is {acc['float'] - got:.2f} points below float {acc['float']:.2f} % "
                    f"on --eval (more than --max-drop {limit:g}): {hint}")
        return None
    if not compressed or q is g:
        return None
    samples, _ = compression.sensitivity_samples(calib, None)
    kind, value = accuracy.agreement(g, q, samples, opts.progress)
    if value >= MIN_AGREEMENT:
        return None
    count = len(next(iter(samples.values())))
    what = ("same top class as float on" if kind == "top class"
            else "agreement with float (100 % - relative RMS error of the output) on")
    return (f"compressed model: {what} {value:.1f} % of {count} calibration samples, below {MIN_AGREEMENT:g} % "
            f"(no --eval labels): {hint}" if kind == "top class" else
            f"compressed model: {what} {count} calibration samples is {value:.1f} %, below {MIN_AGREEMENT:g} % "
            f"(no --eval labels): {hint}")


def _accuracy(g, q, opts, calib, compressed) -> dict:
    """Top-1 accuracy (%) of the float model, the plain int8 model and what is compiled."""
    samples, labels = opts.labelled
    result = {"float": accuracy.accuracy(g, samples, labels, opts.progress), "int8": None, "compressed": None}
    if opts.dtype == "int8":
        plain = q if not (compressed or q.is_mixed) else lower(g, "int8", calib, method=opts.calibration)[0]
        result["int8"] = accuracy.accuracy(plain, samples, labels, opts.progress)
    if q.is_mixed and not compressed:  # with float32 layers: the all-int8 figure above, and this
        result["mixed"] = accuracy.accuracy(q, samples, labels, opts.progress)
    if compressed:
        result["compressed"] = accuracy.accuracy(q, samples, labels, opts.progress)
    return result


def report_of(compiled: Compiled, code: int | None = None) -> dict:
    """report.json of a compiled model; code: bytes measured in a built firmware, if any."""
    doc = report.build_report(compiled.graph, compiled.plan, compiled.name, board=compiled.board,
                              dtype="int8" if compiled.graph.is_int8 else "float32", code=code)
    doc["accuracy"] = compiled.accuracy
    if compiled.mixed is not None:
        doc["float_layers_auto"] = compiled.mixed.as_dict()
    if compiled.finetune is not None:
        doc["finetune"] = compiled.finetune
    if compiled.board is not None and compiled.graph.is_int8 and compiled.board.name in cost_model.boards():
        doc = report.with_predicted(doc, cost_model.predict(compiled.graph, compiled.board.name))
    if compiled.latency is not None:
        doc["latency_budget"] = {k: v for k, v in compiled.latency.items() if k != "compressed"}
    return doc


def _check_selftest_fits(compiled: Compiled, doc: dict) -> None:
    tests, board = compiled.selftest, compiled.board
    if tests is None:
        return
    planned = fit.plan(doc, board)
    if planned.flash + tests.bytes > planned.flash_limit:
        raise DoesNotFit(f"--selftest: {tests.count} sample(s) and their expected outputs take {tests.bytes:,} B, "
                         f"and {board.name} has {planned.flash_limit - planned.flash:,} B of flash left beside the "
                         "model: embed fewer samples")


def html_page(compiled: Compiled, doc: dict, sensitivity_svg: str | None = None) -> str:
    """report.html for a compiled model and its report dict (with `measured` once a board has run)."""
    plan = compiled.plan
    return report_html.render(doc, plan.buffers, plan.offsets, compiled.board, sensitivity_svg)


def write(compiled: Compiled, out_dir: str | Path, arduino: bool = False) -> dict:
    """Emit the folder and report.json; the folder appears only once complete. arduino: lay it out as an
    Arduino library (src/, library.properties, an example sketch)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise BadInput(f"-o {out_dir}: exists and is not a folder")
    doc = report_of(compiled)
    if compiled.board is not None:
        fit.check_fit(doc, compiled.board)  # DoesNotFit before anything is written
        _check_selftest_fits(compiled, doc)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        emit(compiled.graph, compiled.plan, tmp, compiled.name, compiled.board, compiled.selftest)
        (tmp / "report.json").write_text(json.dumps(doc, indent=2) + "\n")
        sens_svg = None
        if compiled.sensitivity is not None:  # the sweep behind the per-layer ratios
            sens = compiled.sensitivity
            sens_svg = sensitivity.plot_svg(sens)
            (tmp / "sensitivity.md").write_text(sens.table())
            (tmp / "sensitivity.json").write_text(json.dumps(
                {"metric": sens.metric, "ratios": list(sens.ratios), "loss": sens.loss, "weights": sens.weights,
                 "baseline": sens.baseline, "chosen": sens.chosen}, indent=2) + "\n")
            (tmp / "sensitivity.svg").write_text(sens_svg)
        (tmp / "report.html").write_text(html_page(compiled, doc, sens_svg))
        if arduino:
            g = compiled.graph
            dtype = C_TYPE[g.tensors[g.inputs[0]].dtype]
            as_arduino_library(tmp, compiled.name, dtype, C_TYPE[g.tensors[g.outputs[0]].dtype] == dtype)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return doc
