"""Progress bars: on a terminal the long steps show one (tqdm on stderr), piped or in tests nothing."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from tinyc import progress

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_a_pipe_is_silent_and_a_terminal_gets_the_bar():
    assert progress.for_stream(io.StringIO()) is progress.silent
    assert progress.for_stream(_Tty()) is progress.terminal
    assert list(progress.silent(range(3), "x")) == [0, 1, 2]
    assert list(progress.terminal(range(3), "x", 3)) == [0, 1, 2]


def _stderr_of(cmd: list[str], tty: bool) -> str:
    if not tty:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stderr
    master, slave = os.openpty()  # stderr a real terminal, as in a user's shell
    with subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=slave) as proc:
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # the terminal closes with the process
                break
            if not data:
                break
            chunks.append(data)
        proc.wait()
    os.close(master)
    assert proc.returncode == 0
    return b"".join(chunks).decode(errors="replace")


def test_compile_with_pruning_shows_the_sweep_only_on_a_terminal(tmp_path):
    cmd = [sys.executable, "-m", "tinyc.cli", "compile", str(EXAMPLES / "digits_mlp.onnx"), "-o", str(tmp_path / "o"),
           "--calib", str(EXAMPLES / "digits_calib_mlp.npz"), "--prune", "0.5"]
    assert "sensitivity sweep" in _stderr_of(cmd, tty=True)
    assert "sensitivity sweep" not in _stderr_of(cmd, tty=False)


def test_run_on_a_board_shows_one_step_per_inference_only_on_a_terminal(tmp_path):
    from tests.conftest import need_tool

    need_tool("qemu-system-arm")
    need_tool("arm-none-eabi-gcc")
    cmd = [sys.executable, "-m", "tinyc.cli", "run", str(EXAMPLES / "digits_mlp.onnx"), "--target", "mps2-an386",
           "--input", str(EXAMPLES / "digits_test_mlp.npz")]
    shown = _stderr_of(cmd, tty=True)
    assert "digits_mlp on mps2-an386" in shown
    count = len(np.load(EXAMPLES / "digits_test_mlp.npz")["input"])
    steps = [int(n) for n in re.findall(rf"(\d+)/{count} ", shown)]
    assert steps and 0 < max(steps) <= count  # counted from QEMU's console as the inferences ran
    assert "on mps2-an386" not in _stderr_of(cmd, tty=False)
