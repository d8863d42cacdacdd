"""The firmware for a board itself (`make firmware`, main_firmware.c): no debugger, no host files.

Under QEMU its UART is QEMU's -serial: the self-test must print `ok` for every embedded sample and a
cycle line, never fault, and print the same with semihosting switched on (it must not depend on it);
`tinyc verify --port` must agree bit for bit over that UART. Expected outputs come from the reference
interpreter, which the rest of the suite checks against onnxruntime and TFLM.
"""

from __future__ import annotations

import re
import socket
import subprocess
import struct
import zlib
from functools import lru_cache

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.models import MODELS, model_path, sample_inputs
from tinyc import cli, pipeline
from tinyc.board import gcc_flags, known_boards, load_board
from tinyc.selftest import fingerprint
from tinyc.toolchain import arm, qemu

SELFTEST_SAMPLES = 4  # per model: real samples where the model has them, then seeded random ones
EMULATED = ("mps2-an386", "mps3-an547")


@pytest.fixture(autouse=True)
def _tools():
    need_tool("arm-none-eabi-gcc")
    need_tool("qemu-system-arm")


def _samples(name: str, g) -> dict[str, np.ndarray]:
    real = sample_inputs(name, g.inputs[0], g.tensors[g.inputs[0]].shape)[g.inputs[0]][:SELFTEST_SAMPLES - 1]
    noise = np.random.default_rng(5).standard_normal((SELFTEST_SAMPLES - len(real), *real.shape[1:]))
    noise = noise.astype(np.float32)
    return {g.inputs[0]: np.concatenate([real, noise])}


@lru_cache(maxsize=None)
def compiled(name: str, board: str, dtype: str = "int8") -> pipeline.Compiled:
    g = pipeline.frontend(model_path(name))
    calib = sample_inputs(name, g.inputs[0], g.tensors[g.inputs[0]].shape)
    return pipeline.build(model_path(name), pipeline.Options(dtype=dtype, calib=calib, board=board,
                                                             selftest=_samples(name, g)))


def firmware(c: pipeline.Compiled, tmp_path) -> object:
    out = tmp_path / "out"
    pipeline.write(c, out)
    return arm.build(out, c.name, gcc_flags(c.board), tmp_path / f"{c.name}.elf", main=arm.FIRMWARE_MAIN,
                     uf2_family=c.board.uf2_family)


def _check_selftest(console: str, count: int) -> None:
    assert "tinyc: fault" not in console, console[-400:]
    assert len(re.findall(r"^tinyc: sample \d+ ok", console, re.M)) == count, console[-800:]
    assert "MISMATCH" not in console
    assert f"tinyc: self-test {count} of {count} ok" in console
    assert re.search(r"^tinyc: cycles [1-9]\d* per inference \((DWT|SysTick)\), [\d.]+ us at \d+ MHz$", console, re.M)
    assert re.search(r"^tinyc: stack [1-9]\d* bytes used$", console, re.M)


@pytest.mark.parametrize("name,board", [(m, b) for b in EMULATED for m in MODELS])
def test_selftest_firmware_of_every_shared_model_prints_ok_over_the_uart(name, board, tmp_path):
    c = compiled(name, board)
    elf = firmware(c, tmp_path)
    console = qemu.console(elf, load_board(board).qemu_machine)  # semihosting off: bkpt would stop QEMU
    _check_selftest(console, SELFTEST_SAMPLES)
    assert console.startswith(f"tinyc: {c.name} on {board}, {SELFTEST_SAMPLES} embedded sample(s)\n")
    # with semihosting on and no debugger flag (DHCSR.C_DEBUGEN reads 0) nothing changes
    assert qemu.console(elf, load_board(board).qemu_machine, semihosting=True) == console


def test_float32_selftest_compares_within_tolerance(tmp_path):
    c = compiled("kws_dscnn", "mps2-an386", "float32")
    _check_selftest(qemu.console(firmware(c, tmp_path), "mps2-an386"), SELFTEST_SAMPLES)


def test_a_wrong_expected_output_is_a_mismatch_with_its_class(tmp_path):
    """The comparison can fail: corrupt one expected value of sample 1 and the firmware must say so."""
    c = compiled("kws_dscnn", "mps2-an386")
    expected = dict(c.selftest.expected)
    out = c.graph.outputs[0]
    bad = expected[out].copy()
    bad[1].flat[3] = bad[1].flat[3] + 1 if bad[1].flat[3] < 127 else 126
    expected[out] = bad
    broken = pipeline.Compiled(**{**c.__dict__, "selftest": type(c.selftest)(c.selftest.feeds, expected)})
    console = qemu.console(firmware(broken, tmp_path), "mps2-an386")
    assert re.search(r"^tinyc: sample 1 MISMATCH class \d+ \(expected \d+\) at output element 3$", console, re.M)
    assert f"tinyc: self-test {SELFTEST_SAMPLES - 1} of {SELFTEST_SAMPLES} samples ok: FAILED" in console


def test_firmware_without_samples_times_one_inference(tmp_path):
    g = pipeline.frontend(model_path("ad_fc_autoencoder"))
    c = pipeline.build(model_path("ad_fc_autoencoder"), pipeline.Options(
        calib=sample_inputs("ad_fc_autoencoder", g.inputs[0], g.tensors[g.inputs[0]].shape), board="mps2-an386"))
    console = qemu.console(firmware(c, tmp_path), "mps2-an386")
    assert console.startswith("tinyc: ad_fc_autoencoder on mps2-an386, 0 embedded sample(s)\n")
    assert re.search(r"^tinyc: cycles [1-9]\d* per inference", console, re.M) and "fault" not in console


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_verify_over_the_serial_port_agrees_bit_for_bit(dtype, tmp_path, capsys):
    """`tinyc verify --port` against QEMU's UART on a TCP socket: 32 seeded samples, bit for bit in int8."""
    model = model_path("kws_dscnn")
    calib = tmp_path / "calib.npz"
    g = pipeline.frontend(model)
    np.savez(calib, **sample_inputs("kws_dscnn", g.inputs[0], g.tensors[g.inputs[0]].shape))
    out = tmp_path / "out"
    common = [str(model), "--board", "mps2-an386", "--calib", str(calib), "--dtype", dtype]
    assert cli.main(["compile", *common, "-o", str(out)]) == 0
    elf = arm.build(out, "kws_dscnn", gcc_flags(load_board("mps2-an386")), tmp_path / "fw.elf", main=arm.FIRMWARE_MAIN)
    capsys.readouterr()
    with qemu.serial_server(elf, "mps2-an386") as url:
        assert cli.main(["verify", *common, "--port", url]) == 0
    said = capsys.readouterr().out
    exact = "agree bit for bit" if dtype == "int8" else "agree within"
    assert f"OK: ref = host = {url} {exact}" in said and "on 32 sample(s)" in said
    assert re.search(r"cycles per inference", said)


def _answer(sock: socket.socket) -> tuple[int, int]:
    data = b""
    while b"TCRS" not in data or len(data) < data.index(b"TCRS") + 8:
        data += sock.recv(4096)
    start = data.index(b"TCRS")
    (length,) = struct.unpack("<I", data[start + 4:start + 8])
    while len(data) < start + 12 + length:
        data += sock.recv(4096)
    payload = data[start + 8:start + 8 + length]
    assert struct.unpack("<I", data[start + 8 + length:start + 12 + length])[0] == zlib.crc32(payload)
    return struct.unpack("<II", payload[:8])


def test_link_rejects_damaged_and_wrong_size_requests_and_goes_on(tmp_path):
    """The protocol from outside: raw frames over a socket, checked with zlib's CRC-32 (independent of
    tinyc's own C CRC). A damaged request gets status 2, a wrong size 1, and a good one after them 0."""
    c = compiled("ad_fc_autoencoder", "mps2-an386")
    elf = firmware(c, tmp_path)
    size = sum(c.graph.tensors[n].size for n in c.graph.inputs)  # int8: a byte each
    payload = bytes(i % 251 for i in range(size))
    with qemu.serial_server(elf, "mps2-an386") as url:
        host, port = url.removeprefix("socket://").split(":")
        with socket.create_connection((host, int(port)), timeout=60) as sock:
            frame = b"TCRQ" + struct.pack("<I", len(payload)) + payload
            sock.sendall(b"noise" + frame + struct.pack("<I", zlib.crc32(payload) ^ 1))
            assert _answer(sock) == (2, fingerprint(c.graph))
            sock.sendall(b"TCRQ" + struct.pack("<I", 3) + b"abc" + struct.pack("<I", zlib.crc32(b"abc")))
            assert _answer(sock) == (1, fingerprint(c.graph))
            sock.sendall(b"abc" + frame + struct.pack("<I", zlib.crc32(payload)))  # the stray bytes resync
            assert _answer(sock) == (0, fingerprint(c.graph))


def test_verify_names_a_firmware_of_another_model(tmp_path, capsys):
    c = compiled("ad_fc_autoencoder", "mps2-an386")
    elf = firmware(c, tmp_path)
    with qemu.serial_server(elf, "mps2-an386") as url:
        status = cli.main(["verify", str(model_path("kws_arm_dnn_s")), "--board", "mps2-an386", "--port", url])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1 and err[-1].startswith("error:")
    assert "runs another model" in err[-1] and "make -C OUT flash" in err[-1]


@pytest.mark.parametrize("board", sorted(b for b in known_boards() if load_board(b).qemu_machine is None))
def test_every_real_board_builds_the_selftest_firmware_for_kws(board, tmp_path):
    from tests.qemu.test_rpi_pico import crc32_rp2040_bootrom, flash_image

    c = compiled("kws_dscnn", board)
    elf = firmware(c, tmp_path)
    assert elf.is_file()
    if c.board.boot2:  # the Pico: its UF2 starts with a boot2 the boot ROM accepts
        image = flash_image(elf.with_suffix(".uf2"))
        assert struct.unpack("<I", image[252:256])[0] == crc32_rp2040_bootrom(image[:252])


def test_uart_firmware_holds_no_semihosting_call(tmp_path):
    """Reset on a board without a debugger, a `bkpt` would fault: the firmware of a UART board has none."""
    need_tool("arm-none-eabi-objdump")
    elf = firmware(compiled("ad_fc_autoencoder", "mps2-an386"), tmp_path)
    text = subprocess.run(["arm-none-eabi-objdump", "-d", str(elf)], capture_output=True, text=True, check=True).stdout
    assert "tinyc_console_write" in text and not re.search(r"\tbkpt\b", text)


def test_semihosting_console_stays_silent_without_a_debugger(tmp_path):
    """A board whose console is semihosting: QEMU has semihosting on but sets no DHCSR.C_DEBUGEN, so the
    firmware must neither print through it nor fault; it reaches its serve loop and waits."""
    text = (known_boards()["mps2-an386"]).read_text()
    board_file = tmp_path / "quiet.toml"
    board_file.write_text(text.split("[console]")[0].replace('name = "mps2-an386"', 'name = "quiet"')
                          + '[console]\nkind = "semihosting"\n')
    g = pipeline.frontend(model_path("ad_fc_autoencoder"))
    c = pipeline.build(model_path("ad_fc_autoencoder"), pipeline.Options(
        calib=sample_inputs("ad_fc_autoencoder", g.inputs[0], g.tensors[g.inputs[0]].shape), board=str(board_file)))
    elf = firmware(c, tmp_path)
    assert qemu.console(elf, "mps2-an386", semihosting=True, timeout=5) == ""
