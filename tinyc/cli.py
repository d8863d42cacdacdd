"""The `tinyc` command (CONTRACT.md): compile, run, verify, report, boards.

User errors print one line `error: ...` and exit 1; --debug shows the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from tinyc import api, io, pipeline, progress, report, runners
from tinyc.board import known_boards, load_board, summary
from tinyc.errors import BadInput, TinycError
from tinyc.passes.calibration import DEFAULT as DEFAULT_CALIBRATION
from tinyc.selftest import FLOAT_TOLERANCE, MIXED_STEPS

VERIFY_SAMPLES = 32


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own two-line usage error -> one line
        raise BadInput(f"{self.prog}: {message}")


def _model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="the ONNX file")
    p.add_argument("--dtype", default="int8", help="int8 (default) or float32")
    p.add_argument("--calib", help="calibration inputs (.npz/.npy, same layout as --input)")
    p.add_argument("--calibration", default=DEFAULT_CALIBRATION, metavar="minmax|percentile|mse",
                   help=f"how int8 activation ranges are chosen from the calibration inputs (default: "
                        f"{DEFAULT_CALIBRATION}; README: Calibration)")
    p.add_argument("--board", help="a board from `tinyc boards`, or a board .toml file")
    p.add_argument("--name", help="C prefix of the generated API (default: the model file's stem)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of random calibration/verification inputs and of fine-tuning")
    z = p.add_argument_group("compression")
    z.add_argument("--prune", type=float, metavar="RATIO",
                   help="zero this share of the weights, per-layer ratios from the sensitivity analysis")
    z.add_argument("--sparsity", metavar="N:M", help="keep N of every M weights along the reduction axis")
    z.add_argument("--prune-channels", type=float, metavar="RATIO", help="remove this share of filters (L1 norm)")
    z.add_argument("--kronecker", metavar="auto|LAYER,...", help="Kronecker-factorise dense layers and GRUs (W, R)")
    z.add_argument("--doped", action="store_true", default=None,
                   help="with --kronecker: keep the largest residual entries as a sparse correction (doped KP)")
    z.add_argument("--max-drop", type=float, metavar="LOSS",
                   help="prune each layer as far as its loss stays within LOSS (accuracy points with --eval)")
    z.add_argument("--flash-budget", metavar="BYTES", help="compress until flash fits (K and M suffixes)")
    z.add_argument("--ram-budget", metavar="BYTES", help="prune channels until RAM fits (K and M suffixes)")
    z.add_argument("--latency-budget", metavar="N",
                   help="with --board: compress until the predicted instructions per inference are at most N "
                        "(k and M suffixes; README: Latency budget)")
    z.add_argument("--eval", metavar="FILE.npz", help="labelled data: report float, int8 and compressed accuracy")
    z.add_argument("--finetune", metavar="FILE.npz",
                   help="fine-tune the compressed model on these inputs (with `labels` if present): distillation from "
                        "the float model, masks kept, quantization-aware in int8; needs pip install 'tinyc[train]'")
    z.add_argument("--epochs", type=int, default=pipeline.DEFAULT_EPOCHS,
                   help=f"fine-tuning epochs (default {pipeline.DEFAULT_EPOCHS})")
    z.add_argument("--lr", type=float, default=pipeline.DEFAULT_LR,
                   help=f"fine-tuning learning rate, Adam (default {pipeline.DEFAULT_LR:g})")
    p.add_argument("--float-layers", metavar="auto|NAME,...",
                   help="keep these layers in float32 inside the int8 model (names or report labels); auto: the "
                        "fewest that bring int8 within --max-drop of float (needs --calib)")


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="tinyc", description="ONNX to C99 for Cortex-M microcontrollers")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    c = sub.add_parser("compile", help="generate the C folder and OUT/report.json")
    _model_options(c)
    c.add_argument("-o", "--output", dest="out", required=True, help="output folder")
    c.add_argument("--selftest", metavar="IN.npz",
                   help="with --board: embed these samples and the outputs they must give in the board firmware, "
                        "which checks them at start-up and prints ok or MISMATCH per sample")
    c.add_argument("--arduino", action="store_true",
                   help="lay the folder out as an Arduino library (src/, library.properties, an example sketch)")
    r = sub.add_parser("run", help="run inputs through the model on a target")
    _model_options(r)
    r.add_argument("--target", required=True,
                   help="ref (numpy reference), host (generated C) or a board QEMU emulates (firmware)")
    r.add_argument("--input", required=True, help="IN: .npy or .npz samples")
    r.add_argument("--output", help="RESULT: .npy or .npz")
    r.add_argument("--report", help="write the report JSON here")
    v = sub.add_parser("verify", help="check ref, host (and --board under QEMU) agree bit for bit")
    _model_options(v)
    v.add_argument("--input", help="IN (default: 32 seeded random samples)")
    v.add_argument("--port", metavar="DEVICE",
                   help="with --board: verify on the board itself: send the samples to its firmware (this compile's "
                        "`make firmware`, flashed) over this serial port (/dev/ttyACM0, COM3, socket://host:port)")
    rp = sub.add_parser("report", help="print OUT/report.json as a table")
    rp.add_argument("out", help="a folder made by `tinyc compile`")
    sub.add_parser("boards", help="list the boards and their limits")
    return p


def _build(args, board: str | None = None) -> pipeline.Compiled:
    compiled = api.build(args.model, dtype=args.dtype, calib=args.calib, calibration=args.calibration,
                         board=board or args.board, name=args.name,
                         seed=args.seed, prune=args.prune, sparsity=args.sparsity, prune_channels=args.prune_channels,
                         kronecker=args.kronecker, doped=args.doped, max_drop=args.max_drop,
                         flash_budget=args.flash_budget, ram_budget=args.ram_budget,
                         latency_budget=args.latency_budget, eval=args.eval,
                         selftest=getattr(args, "selftest", None), float_layers=args.float_layers,
                         finetune=args.finetune, epochs=args.epochs, lr=args.lr,
                         progress=progress.for_stream())
    for w in compiled.warnings:
        print(f"warning: {w}", file=sys.stderr)
    return compiled


def cmd_compile(args) -> int:
    compiled = _build(args)
    doc = pipeline.write(compiled, args.out, arduino=args.arduino)
    print(report.format_table(doc, compiled.board))
    if args.arduino:
        print(f"wrote {args.out}/ as an Arduino library (src/{compiled.name}.h, library.properties, "
              f"examples/{compiled.name}/{compiled.name}.ino)")
    else:
        print(f"wrote {args.out}/ ({compiled.name}.h, {compiled.name}.c, {compiled.name}_weights.c, tinyc/, Makefile)")
    return 0


def _board_target(args) -> str | None:
    """`run --target BOARD` names the board to build for; it must agree with --board if both are given."""
    if args.target in runners.TARGETS:
        return None
    if args.target not in known_boards() and not args.target.endswith(".toml"):
        raise BadInput(f"--target {args.target!r}: choose ref, host or a board ({', '.join(known_boards())})")
    if args.board and args.board != args.target:
        raise BadInput(f"--target {args.target!r} and --board {args.board!r} disagree")
    return args.target


def cmd_run(args) -> int:
    board = _board_target(args)
    compiled = _build(args, board)
    samples = io.load_samples(args.input, compiled.float_graph)
    feeds = runners.feeds_for(compiled.graph, samples.arrays)
    measured = None
    if board:
        results, measured = runners.run_board(compiled, feeds, progress=progress.for_stream())
    else:
        results = runners.run(compiled, feeds, args.target)
    if args.output:
        io.save_results(args.output, compiled.graph, results, samples.batch_as_sample)
    doc = pipeline.report_of(compiled, code=measured["code"] if measured else None)
    if measured:
        doc = report.measured(doc, measured, measured["instructions"])
        print(report.format_table(doc, compiled.board))
    if args.report:  # R.json, and R.html beside it: the page with planned against measured
        Path(args.report).write_text(json.dumps(doc, indent=2) + "\n")
        Path(args.report).with_suffix(".html").write_text(pipeline.html_page(compiled, doc))
    for name, y in results.items():
        flat = y.reshape(len(y), -1)
        print(f"{name}: {len(y)} sample(s) of {list(y.shape[1:])} {y.dtype}; argmax per sample: "
              f"{flat.argmax(axis=1).tolist()[:16]}")
    return 0


def cmd_verify(args) -> int:
    compiled = _build(args)
    if args.input:
        samples = io.load_samples(args.input, compiled.float_graph).arrays
    else:
        samples = pipeline.random_inputs(compiled.float_graph, VERIFY_SAMPLES, args.seed)
    feeds = runners.feeds_for(compiled.graph, samples)
    results = {t: runners.run(compiled, feeds, t) for t in runners.TARGETS}
    if args.port:
        results[args.port], cycles = runners.run_port(compiled, feeds, args.port, progress=progress.for_stream())
        print(f"{compiled.board.name} on {args.port}: {int(np.median(cycles)):,} cycles per inference "
              "(median, as the firmware counted them)")
    elif compiled.board is not None:
        results[compiled.board.name], measured = runners.run_board(compiled, feeds, progress=progress.for_stream())
        print(f"{compiled.board.name}: {measured['instructions']:,} instructions per inference "
              "(QEMU -icount: an instruction count, not cycles)")
    g = compiled.graph
    mixed = g.is_mixed  # float32 layers inside int8: int8 outputs within MIXED_STEPS, not bit for bit
    exact = g.is_int8 and not mixed
    ok = True
    for target, got_all in results.items():
        for name in g.outputs:
            ref, got = results["ref"][name], got_all[name]
            steps = mixed and g.tensors[name].dtype == "int8"
            diff = np.abs(ref.astype(np.float64) - got.astype(np.float64))
            bad = (diff > MIXED_STEPS if steps else ref != got if exact or ref.dtype.kind in "iub"
                   else diff > FLOAT_TOLERANCE * max(1.0, float(np.abs(ref).max())))
            if np.any(bad):
                ok = False
                where = tuple(np.argwhere(bad)[0])
                print(f"MISMATCH {name} on {target}: sample {where[0]}, index {where[1:]}: "
                      f"ref {ref[where]}, {target} {got[where]}")
            elif steps and target != "ref":
                print(f"{target}: {name} within {int(diff.max()) if diff.size else 0} quantization step(s) of ref")
            elif not exact and target != "ref":
                print(f"{target}: {name} within {float(diff.max()) if diff.size else 0.0:.3g} of ref")
    count = len(next(iter(feeds.values())))
    agree = ("agree bit for bit" if exact else f"agree within {MIXED_STEPS} quantization steps" if mixed
             else f"agree within {FLOAT_TOLERANCE:g} x max(1, max|output|)")
    kind = "int8 with float32 layers" if mixed else "int8" if exact else "float32"
    print(f"{'OK' if ok else 'FAILED'}: {' = '.join(results)} {agree if ok else 'differ'} on {count} sample(s) "
          f"({kind})")
    return 0 if ok else 1


def cmd_report(args) -> int:
    path = Path(args.out) / "report.json"
    if not path.is_file():
        raise BadInput(f"{path}: no such file; run `tinyc compile MODEL -o {args.out}` first")
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise BadInput(f"{path}: not valid JSON ({e.msg})") from None
    board = load_board(doc["board"]) if doc.get("board") in known_boards() else None
    print(report.format_table(doc, board))
    return 0


def cmd_boards(args) -> int:
    for name in known_boards():
        print(summary(load_board(name)))
    return 0


COMMANDS = {"compile": cmd_compile, "run": cmd_run, "verify": cmd_verify, "report": cmd_report,
            "boards": cmd_boards}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    try:
        args = parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except TinycError as e:
        if debug:
            raise
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `tinyc ... | head`: the reader left; stop quietly, as other tools do
        sys.stdout = open(os.devnull, "w")
        return 141


if __name__ == "__main__":
    sys.exit(main())
