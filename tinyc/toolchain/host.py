"""Build a generated folder with the host's C compiler and run samples through it."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from tinyc.errors import BadInput

WARNINGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer", "-g"]


def compiler() -> str:
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise BadInput("no host C compiler found: install gcc (apt-get install gcc) or set CC")
    return cc


def sources(out_dir: Path) -> list[Path]:
    out_dir = Path(out_dir)
    model = [p for p in sorted(out_dir.glob("*.c")) if p.name not in ("main_board.c", "main_firmware.c")]
    return model + sorted((out_dir / "tinyc").glob("*.c"))


def build(out_dir: Path, exe: Path, sanitize: bool = False, opt: str = "-O2") -> Path:
    """Compile the folder (with main_host.c) into exe; compiler errors become BadInput."""
    cmd = [compiler(), *WARNINGS, opt, *(SANITIZE if sanitize else []), "-I", str(out_dir),
           "-I", str(Path(out_dir) / "tinyc"), "-o", str(exe), *map(str, sources(out_dir)), "-lm"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise BadInput(f"host build of {out_dir} failed: {done.stderr.strip().splitlines()[0] if done.stderr else ''}")
    return exe


def sample_stream(inputs: list[np.ndarray]) -> bytes:
    """Raw little-endian bytes of every sample's inputs, in order (arrays with a sample axis)."""
    return b"".join(np.ascontiguousarray(x[i]).tobytes() for i in range(len(inputs[0])) for x in inputs)


def split_outputs(data: bytes, outputs: list[tuple[tuple[int, ...], np.dtype]], count: int,
                  who: str) -> list[np.ndarray]:
    """The inverse of sample_stream for the outputs a program wrote."""
    sizes = [int(np.prod(shape)) * np.dtype(dt).itemsize for shape, dt in outputs]
    per_sample = sum(sizes)
    if len(data) != per_sample * count:
        raise BadInput(f"{who} wrote {len(data)} bytes of outputs, expected {per_sample * count}")
    results, offset = [], 0
    for (shape, dt), size in zip(outputs, sizes):
        rows = [np.frombuffer(data, dt, int(np.prod(shape)), offset + i * per_sample).reshape(shape)
                for i in range(count)]
        results.append(np.stack(rows))
        offset += size
    return results


def run_exe(exe: Path, inputs: list[np.ndarray], outputs: list[tuple[tuple[int, ...], np.dtype]],
            env: dict | None = None) -> list[np.ndarray]:
    """Feed every sample (arrays with a leading sample axis, in input order) and parse the outputs."""
    done = subprocess.run([str(exe)], input=sample_stream(inputs), capture_output=True, env=env)
    if done.returncode != 0:
        raise BadInput(f"{exe.name} exited with status {done.returncode}: "
                       f"{done.stderr.decode(errors='replace').strip()[:300]}")
    return split_outputs(done.stdout, outputs, len(inputs[0]), exe.name)


def run_folder(out_dir: Path, inputs: list[np.ndarray], outputs: list[tuple[tuple[int, ...], np.dtype]],
               sanitize: bool = False) -> list[np.ndarray]:
    """Build out_dir in a temporary directory and run the samples through it."""
    with tempfile.TemporaryDirectory(prefix="tinyc-host-") as tmp:
        exe = build(Path(out_dir), Path(tmp) / "model_host", sanitize=sanitize)
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0", UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")
        return run_exe(exe, inputs, outputs, env)
