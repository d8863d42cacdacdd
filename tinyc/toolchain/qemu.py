"""Run firmware under QEMU. The test harness (`run`): samples in through semihosting files, outputs and
SysTick ticks back; with -icount shift=0 a guest instruction is one nanosecond, so the counts are exact
and repeatable instruction counts (not cycles). A board firmware (`console`, `serial_server`): its UART
on QEMU's -serial, as on the board.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


def console(elf: Path, machine: str, until: str = "tinyc: ready", timeout: float = 600.0,
            semihosting: bool = False) -> str:
    """What a board firmware prints on its UART (QEMU's -serial on stdout) up to the line starting
    with `until`; then QEMU is stopped, since a board firmware never exits. semihosting: let the
    firmware use semihosting (it must behave the same: it only uses it under a debugger)."""
    cmd = [qemu(), "-M", machine, "-nographic", "-monitor", "none", "-serial", "stdio", "-icount", "shift=0",
           *(["-semihosting-config", "enable=on,target=native"] if semihosting else []), "-kernel", str(elf)]
    lines: list[str] = []
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                          text=True, errors="replace") as proc:
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            for line in proc.stdout:
                lines.append(line)
                if line.startswith(until) or line.startswith("tinyc: fault"):
                    break
        finally:
            timer.cancel()
            proc.kill()
    return "".join(lines)


@contextmanager
def serial_server(elf: Path, machine: str, timeout: float = 600.0) -> Iterator[str]:
    """Run a board firmware with its UART on a local TCP port; yields the pyserial URL to it
    (socket://127.0.0.1:PORT) for `tinyc verify --port`. QEMU stops when the block ends."""
    with socket.socket() as probe:  # a free port (QEMU's own choice of port is not reported)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cmd = [qemu(), "-M", machine, "-nographic", "-monitor", "none", "-icount", "shift=0",
           "-serial", f"tcp:127.0.0.1:{port},server=on,wait=off", "-kernel", str(elf)]
    with subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL) as proc:
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            for _ in range(200):  # until QEMU listens
                if proc.poll() is not None:
                    raise BadInput(f"{QEMU} did not start: {proc.stderr.read().decode(errors='replace').strip()}")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
                    break
                except OSError:
                    time.sleep(0.05)
            yield f"socket://127.0.0.1:{port}"
        finally:
            timer.cancel()
            proc.kill()
