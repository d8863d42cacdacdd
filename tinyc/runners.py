"""Run a compiled model on a target: `ref` (the numpy interpreter), `host` (the generated C), or
its board under QEMU (the generated C as bare-metal firmware).

Every target gets the same feeds: float32 samples quantized once, here, for an int8 model.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from tinyc import interpreter
from tinyc.interpreter import feeds_for  # noqa: F401 - runners.feeds_for is what callers know
from tinyc.errors import BadInput
from tinyc.ir import NP_DTYPE, Graph
from tinyc.pipeline import Compiled, write
from tinyc.progress import Progress, silent
from tinyc.toolchain import arm, elf, host, link, qemu

TARGETS = ("ref", "host")


def run_host(compiled: Compiled, feeds: dict[str, np.ndarray], sanitize: bool = False) -> dict[str, np.ndarray]:
    g = compiled.graph
    with tempfile.TemporaryDirectory(prefix="tinyc-run-") as tmp:
        out = Path(tmp) / "out"
        write(compiled, out)
        results = host.run_folder(out, [feeds[n] for n in g.inputs], _output_specs(g), sanitize=sanitize)
    return dict(zip(g.outputs, results))


def _output_specs(g: Graph) -> list[tuple[tuple[int, ...], np.dtype]]:
    return [(g.tensors[n].shape, np.dtype(NP_DTYPE[g.tensors[n].dtype])) for n in g.outputs]


def run_board(compiled: Compiled, feeds: dict[str, np.ndarray], extra_cflags: list[str] | None = None,
              progress: Progress = silent) -> tuple[dict[str, np.ndarray], dict]:
    """Build the firmware for compiled.board, run it under QEMU; return outputs and `measured`
    (ELF section sizes, RAM with the measured stack, median instructions per inference).
    extra_cflags: more compiler flags, e.g. -DTINYC_PORTABLE for the portable kernel paths;
    progress: advanced once per inference as QEMU runs them."""
    from tinyc.board import gcc_flags

    board, g = compiled.board, compiled.graph
    if board.qemu_machine is None:
        raise BadInput(f"board {board.name!r} has no emulator: build its firmware with "
                       f"`tinyc compile MODEL --board {board.name} -o OUT` and `make -C OUT flash`")
    with tempfile.TemporaryDirectory(prefix="tinyc-fw-") as tmp:
        out = Path(tmp) / "out"
        write(compiled, out)
        image = arm.build(out, compiled.name, gcc_flags(board), Path(tmp) / f"{compiled.name}.elf", extra_cflags)
        inputs = [feeds[n] for n in g.inputs]
        done = qemu.run(image, board.qemu_machine, host.sample_stream(inputs), samples=len(inputs[0]) if inputs else 1,
                        progress=progress)
        results = host.split_outputs(done.output, _output_specs(g), len(inputs[0]), image.name)
        sizes = elf.section_sizes(image)
        code = elf.code_bytes(image)
    measured = dict(sizes, flash=sizes["text"] + sizes["rodata"] + sizes["data"],
                    ram=sizes["data"] + sizes["bss"] + done.stack_used,
                    instructions=int(np.median(done.instructions)) if done.instructions else None,
                    stack=done.stack_used, code=code)
    return dict(zip(g.outputs, results)), measured


def run_port(compiled: Compiled, feeds: dict[str, np.ndarray], port: str,
             progress: Progress = silent) -> tuple[dict[str, np.ndarray], list[int]]:
    """Outputs of the board firmware of this compile (`make firmware`, flashed) over its serial port, and the
    cycles of each inference as the firmware counted them."""
    from tinyc.selftest import fingerprint

    g = compiled.graph
    if compiled.board is None:
        raise BadInput("--port: give --board too: the board whose firmware listens on that port")
    baud = dict(compiled.board.console).get("baud")
    if baud is None:
        raise BadInput(f"--port: {compiled.board.name}'s console is {compiled.board.console_kind}, which cannot "
                       "receive: verify on target needs a UART console in the board file")
    count = len(next(iter(feeds.values()))) if feeds else 1
    payloads = [b"".join(np.ascontiguousarray(feeds[n][i]).tobytes() for n in g.inputs) for i in range(count)]
    specs = _output_specs(g)
    output_bytes = sum(int(np.prod(shape, dtype=np.int64)) * dtype.itemsize for shape, dtype in specs)
    with link.open_port(port, baud) as serial_port:
        answers = link.exchange(serial_port, payloads, output_bytes, fingerprint(g), port, progress)
    return dict(zip(g.outputs, link.split(answers, specs))), [a.cycles for a in answers]


def run(compiled: Compiled, feeds: dict[str, np.ndarray], target: str,
        progress: Progress = silent) -> dict[str, np.ndarray]:
    """Outputs of `target`: ref, host, or the board the model was compiled for (QEMU)."""
    if target == "ref":
        return interpreter.run_samples(compiled.graph, feeds)
    if target == "host":
        return run_host(compiled, feeds)
    if compiled.board is not None and target == compiled.board.name:
        return run_board(compiled, feeds, progress=progress)[0]
    raise BadInput(f"--target {target!r}: choose ref, host or a board that QEMU emulates")
