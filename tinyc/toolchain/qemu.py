"""Run a test firmware under QEMU: samples in through semihosting files, outputs and SysTick
ticks back. With -icount shift=0 a guest instruction is one nanosecond, so the counts are exact
and repeatable instruction counts (not cycles).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tinyc.errors import BadInput
from tinyc.progress import Progress, silent

QEMU = "qemu-system-arm"
NS_PER_SECOND = 1_000_000_000
# SysTick runs on the processor clock each QEMU machine models; checked with a loop of 8,000,000
# instructions: 200,000 ticks on mps2 (25 MHz), 256,000 on mps3-an547 (32 MHz).
SYSTICK_HZ = {"mps2-an385": 25_000_000, "mps2-an386": 25_000_000, "mps2-an500": 25_000_000,
              "mps3-an547": 32_000_000}


@dataclass
class Run:
    output: bytes  # every sample's outputs, in order
    instructions: list[int]  # per inference
    stack_used: int  # bytes, high-water mark since reset
    console: str


def qemu() -> str:
    path = shutil.which(QEMU)
    if path is None:
        raise BadInput(f"{QEMU} not found: install QEMU (apt-get install qemu-system-arm)")
    return path


def run(elf: Path, machine: str, input_bytes: bytes, timeout: float = 600.0,
        samples: int | None = None, progress: Progress = silent) -> Run:
    """Boot elf on `machine` with input.bin in a scratch folder; fail on a non-zero exit.
    The console is read as QEMU writes it, so `progress` advances once per inference (of `samples`)."""
    if machine not in SYSTICK_HZ:
        raise BadInput(f"QEMU machine {machine!r} is not supported (supported: {', '.join(SYSTICK_HZ)})")
    with tempfile.TemporaryDirectory(prefix="tinyc-qemu-") as tmp:
        (Path(tmp) / "input.bin").write_bytes(input_bytes)
        cmd = [qemu(), "-M", machine, "-nographic", "-monitor", "none", "-serial", "none",
               "-semihosting-config", "enable=on,target=native", "-icount", "shift=0", "-kernel", str(elf)]
        lines: list[str] = []
        with subprocess.Popen(cmd, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              stdin=subprocess.DEVNULL) as proc:
            expired = threading.Event()
            timer = threading.Timer(timeout, lambda: (expired.set(), proc.kill()))
            timer.start()
            try:
                for _ in progress(_inferences(proc, lines), f"{elf.stem} on {machine}", samples):
                    pass
                status = proc.wait()
            finally:
                timer.cancel()
        if expired.is_set():
            raise BadInput(f"{elf.name} on {machine} did not finish within {timeout:.0f} s")
        console = "".join(lines)
        if status != 0:
            said = console.strip().splitlines()
            raise BadInput(f"{elf.name} on {machine} exited with status {status}: "
                           f"{said[-1] if said else 'no output'}")
        written = Path(tmp) / "output.bin"
        output = written.read_bytes() if written.exists() else b""
    ticks = [int(t) for t in re.findall(r"^tinyc: ticks (\d+)$", console, re.M)]
    stack = re.search(r"^tinyc: stack (\d+)$", console, re.M)
    hz = SYSTICK_HZ[machine]  # mps3-an547: 31.25 instructions a tick
    instructions = [(t * NS_PER_SECOND + hz // 2) // hz for t in ticks]
    return Run(output, instructions, int(stack.group(1)) if stack else 0, console)


def _inferences(proc: subprocess.Popen, lines: list[str]) -> Iterator[str]:
    """Every console line into `lines`; yields at each inference's "ticks" line."""
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("tinyc: ticks "):
            yield line
