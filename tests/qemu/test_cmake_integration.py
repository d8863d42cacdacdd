"""The generated folder as a CMake library: built with the host compiler (alone, and added to a parent
project with add_subdirectory) and with arm-none-eabi-gcc through its toolchain file into the firmware
that then runs under QEMU; every build's outputs equal the reference interpreter bit for bit."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import need_tool
from tinyc import interpreter, io, pipeline, runners
from tinyc.toolchain import host, qemu

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(autouse=True)
def _cmake():
    need_tool("cmake")


def _compiled(board: str | None) -> tuple[pipeline.Compiled, dict, dict]:
    model = EXAMPLES / "digits_cnn.onnx"
    calib = io.load_samples(EXAMPLES / "digits_calib_cnn.npz", pipeline.frontend(model)).arrays
    compiled = pipeline.build(model, pipeline.Options(calib=calib, board=board))
    g = compiled.graph
    samples = {n: calib[n][:8] for n in g.inputs}
    feeds = runners.feeds_for(g, samples)
    return compiled, feeds, interpreter.run_samples(g, feeds)


def _cmake_build(source: Path, build: Path, *extra: str) -> None:
    for cmd in (["cmake", "-S", str(source), "-B", str(build), *extra], ["cmake", "--build", str(build)]):
        done = subprocess.run(cmd, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def _outputs(compiled, data: bytes, count: int) -> dict:
    g = compiled.graph
    specs = [(g.tensors[n].shape, np.dtype(np.int8)) for n in g.outputs]
    return dict(zip(g.outputs, host.split_outputs(data, specs, count, "build")))


def test_host_cmake_build_alone_and_as_a_subdirectory(tmp_path):
    need_tool("cc")
    compiled, feeds, ref = _compiled(None)
    out = tmp_path / "digits_cnn"
    pipeline.write(compiled, out)
    _cmake_build(out, tmp_path / "alone")
    parent = tmp_path / "app"
    parent.mkdir()
    (parent / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.13)\nproject(app LANGUAGES C)\n"
        f"add_subdirectory({out.as_posix()} model)\nadd_executable(app {out.as_posix()}/main_host.c)\n"
        "target_link_libraries(app PRIVATE digits_cnn)\n")
    _cmake_build(parent, tmp_path / "app_build")
    stream = host.sample_stream([feeds[n] for n in compiled.graph.inputs])
    for exe in (tmp_path / "alone" / "digits_cnn_host", tmp_path / "app_build" / "app"):
        done = subprocess.run([str(exe)], input=stream, capture_output=True, check=True)
        got = _outputs(compiled, done.stdout, 8)
        assert all(np.array_equal(got[n], ref[n]) for n in ref)


def test_arm_cmake_firmware_runs_under_qemu_bit_exact(tmp_path):
    need_tool("arm-none-eabi-gcc")
    need_tool("qemu-system-arm")
    compiled, feeds, ref = _compiled("mps2-an386")
    out = tmp_path / "digits_cnn"
    pipeline.write(compiled, out)
    _cmake_build(out, tmp_path / "fw", f"-DCMAKE_TOOLCHAIN_FILE={out / 'arm-none-eabi.cmake'}")
    assert (tmp_path / "fw" / "digits_cnn_firmware.elf").is_file()  # the board firmware, beside the harness
    elf = tmp_path / "fw" / "digits_cnn_harness.elf"
    run = qemu.run(elf, "mps2-an386", host.sample_stream([feeds[n] for n in compiled.graph.inputs]))
    got = _outputs(compiled, run.output, 8)
    assert all(np.array_equal(got[n], ref[n]) for n in ref)
