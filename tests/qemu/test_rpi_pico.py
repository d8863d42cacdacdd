"""The Raspberry Pi Pico's firmware as its boot ROM sees it, without the board: boot2 at the start of
flash with the CRC the ROM checks, the vector table after it, the UF2 file that carries both; and
the UART0 console driver, compiled as the board builds it, with the baud divisor the datasheet gives.
Needs arm-none-eabi-gcc (no emulator: QEMU has no RP2040)."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from tests.conftest import need_tool
from tinyc import api
from tinyc.board import console_defines, gcc_flags, load_board
from tinyc.codegen.emit import template_env
from tinyc.resources import runtime_dir
from tinyc.toolchain import arm

MODEL = Path(__file__).resolve().parents[2] / "examples" / "digits_mlp.onnx"
XIP_BASE, XIP_SIZE = 0x10000000, 2 << 20  # the Pico's 2 MiB flash
SRAM_BASE, SRAM_END = 0x20000000, 0x20042000  # SRAM0-5 (RP2040 Datasheet 2.2)


@pytest.fixture(autouse=True)
def _gcc():
    need_tool("arm-none-eabi-gcc")


@pytest.fixture(scope="module")
def pico(tmp_path_factory) -> Path:
    """A folder compiled for rpi-pico, its firmware built the way the tests and runners build it."""
    need_tool("arm-none-eabi-gcc")
    out = tmp_path_factory.mktemp("pico")
    api.compile(MODEL, out / "out", board="rpi-pico")
    board = load_board("rpi-pico")
    arm.build(out / "out", "digits_mlp", gcc_flags(board), out / "fw.elf", main=arm.FIRMWARE_MAIN,
              uf2_family=board.uf2_family)
    return out


def crc32_rp2040_bootrom(data: bytes) -> int:
    """Bit by bit, as RP2040 Datasheet 2.8.1.3 states it: poly 0x04C11DB7, initial 0xFFFFFFFF, MSB
    first (no reflection), no final XOR."""
    crc = 0xFFFFFFFF
    for byte in data:
        for bit in range(7, -1, -1):
            top = ((crc >> 31) & 1) ^ ((byte >> bit) & 1)
            crc = (crc << 1) & 0xFFFFFFFF
            if top:
                crc ^= 0x04C11DB7
    return crc


def unpack_uf2(data: bytes) -> dict[int, bytes]:
    """address -> 256 payload bytes, checking every block's magics, flags and family (UF2 specification)."""
    assert data and len(data) % 512 == 0
    pages, count = {}, len(data) // 512
    for number in range(count):
        block = data[number * 512:(number + 1) * 512]
        magic0, magic1, flags, address, size, index, total, family = struct.unpack_from("<8I", block)
        assert (magic0, magic1, struct.unpack_from("<I", block, 508)[0]) == (0x0A324655, 0x9E5D5157, 0x0AB16F30)
        assert flags & 0x2000 and family == 0xE48BFF56  # family ID present: RP2040
        assert (size, index, total) == (256, number, count) and address % 256 == 0
        pages[address] = block[32:32 + size]
    return pages


def flash_image(uf2_file: Path) -> bytes:
    """The flash contents the UF2 file writes, from 0x10000000 on, with no gap."""
    pages = unpack_uf2(uf2_file.read_bytes())
    addresses = sorted(pages)
    assert addresses == list(range(XIP_BASE, XIP_BASE + 256 * len(pages), 256)), "pages not contiguous from XIP"
    return b"".join(pages[a] for a in addresses)


def test_uf2_starts_with_boot2_whose_crc_the_boot_rom_accepts(pico):
    image = flash_image(pico / "fw.uf2")
    boot2 = image[:256]
    assert struct.unpack("<I", boot2[252:])[0] == crc32_rp2040_bootrom(boot2[:252])
    assert boot2[:252] != bytes(252)


def test_vector_table_follows_boot2_with_a_stack_in_sram_and_a_thumb_reset_in_flash(pico):
    image = flash_image(pico / "fw.uf2")
    sp, reset = struct.unpack_from("<2I", image, 0x100)
    assert SRAM_BASE < sp <= SRAM_END and sp % 8 == 0
    assert reset & 1 and XIP_BASE + 0x100 < reset < XIP_BASE + len(image)


def test_uf2_holds_exactly_the_elf_load_image(pico):
    image = flash_image(pico / "fw.uf2")
    dump = pico / "fw.bin"  # objcopy -O binary: the load image from the lowest address, LMAs
    subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", str(pico / "fw.elf"), str(dump)], check=True)
    flat = dump.read_bytes()
    assert image[:len(flat)] == flat and image[len(flat):] == bytes(len(image) - len(flat))


def test_boot2_has_no_address_of_its_own_link_location(tmp_path):
    """It runs from SRAM at 0x20041f00 though linked at 0x10000000: a literal pointing into its own 256
    bytes would read the wrong place. Literals may only be peripherals, SRAM or the firmware's vectors."""
    need_tool("arm-none-eabi-objdump")
    obj = tmp_path / "boot2.o"  # its source, assembled as scripts/make_boot2.py does (the test above: same bytes)
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m0plus", "-mthumb", "-c",
                    str(runtime_dir() / "boot2" / "boot2_rp2040_w25q.S"), "-o", str(obj)], check=True)
    text = subprocess.run(["arm-none-eabi-objdump", "-d", "-j", ".boot2", str(obj)],
                          capture_output=True, text=True, check=True).stdout
    words = [int(w, 16) for w in re.findall(r"\.word\s+0x([0-9a-f]+)", text)]
    assert words, text
    for w in words:
        assert (w >= 0x18000000 or SRAM_BASE <= w < SRAM_END or w == XIP_BASE + 0x100
                or w < 0x10000000), f"boot2 literal {w:#x}"
    assert not re.search(r"\b(bl|blx)\s+1000", text), "a call into its own link address"


def test_make_firmware_writes_the_elf_and_the_uf2(pico, tmp_path):
    need_tool("make")
    folder = tmp_path / "out"
    shutil.copytree(pico / "out", folder)
    env = dict(os.environ, PATH="/usr/bin:/bin")  # no Python of tinyc needed: the folder holds its tools
    subprocess.run(["make", "-C", str(folder), "firmware"], env=env, check=True, capture_output=True)
    image = flash_image(folder / "digits_mlp.uf2")
    assert struct.unpack("<I", image[252:256])[0] == crc32_rp2040_bootrom(image[:252])
    with open(folder / "digits_mlp.elf", "rb") as f:  # the ELF that `make flash` programs has it too
        elf = f.read()
    assert image[:256] in elf


def test_shipped_boot2_is_its_assembly_source(tmp_path):
    """runtime_c/port/boot2_*.c holds the bytes of runtime_c/boot2/boot2_*.S, assembled here again."""
    source = runtime_dir() / "boot2" / "boot2_rp2040_w25q.S"
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m0plus", "-mthumb", "-c", str(source), "-o",
                    str(tmp_path / "b.o")], check=True)
    subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", "-j", ".boot2", str(tmp_path / "b.o"),
                    str(tmp_path / "b.bin")], check=True)
    code = (tmp_path / "b.bin").read_bytes().ljust(252, b"\0")
    shipped = (runtime_dir() / "port" / "boot2_rp2040_w25q.c").read_text()
    values = bytes(int(v, 16) for v in re.findall(r"0x([0-9A-F]{2})\b", shipped.split("= {")[1]))
    assert values == code + struct.pack("<I", crc32_rp2040_bootrom(code))


def test_other_boards_get_no_boot2_and_no_uf2(tmp_path):
    api.compile(MODEL, tmp_path / "out", board="mps2-an386")
    assert not list((tmp_path / "out" / "port").glob("boot2_*"))
    elf = arm.build(tmp_path / "out", "digits_mlp", gcc_flags(load_board("mps2-an386")), tmp_path / "fw.elf")
    assert not elf.with_suffix(".uf2").exists()
    assert ".boot2" not in (tmp_path / "out" / "digits_mlp.ld").read_text()


# --- the UART0 console driver -------------------------------------------------------------------------

def pl011_divisor(uartclk: int, baud: int) -> tuple[int, int]:
    """(IBRD, FBRD) as the RP2040 Datasheet's UART section (fractional baud rate divider) gives them:
    divisor = UARTCLK / (16 * baud); FBRD = int(fraction * 64 + 0.5), a result of 64 carried into IBRD."""
    divisor = uartclk / (16 * baud)
    ibrd = int(divisor)
    fbrd = int((divisor - ibrd) * 64 + 0.5)
    return (ibrd + 1, 0) if fbrd == 64 else (ibrd, fbrd)


def board_header(folder: Path, baud: int | None = None) -> None:
    board = load_board("rpi-pico")
    defines = [(n, f"{baud}u" if baud and n == "TINYC_CONSOLE_BAUD" else v) for n, v in console_defines(board)]
    (folder / "tinyc_board.h").write_text(template_env().get_template("tinyc_board.h.j2")
                                          .render(board=board, console_defines=defines))


def test_driver_compiles_for_the_pico_with_every_warning(tmp_path):
    board_header(tmp_path)
    port = runtime_dir() / "port"
    subprocess.run(["arm-none-eabi-gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2",
                    "-mcpu=cortex-m0plus", "-mthumb", "-I", str(tmp_path), "-I", str(port), "-c",
                    str(port / "console_rp2040_uart.c"), "-o", str(tmp_path / "console.o")], check=True)


def carry_baud(uartclk: int) -> int:
    """A baud rate whose rounded fraction is 64/64, so FBRD carries into IBRD."""
    return next(b for b in range(9600, 1_000_000) if int((uartclk / (16 * b)) % 1 * 64 + 0.5) == 64)


@pytest.mark.parametrize("baud", [115200, 9600, 460800, carry_baud(12_000_000)])
def test_driver_divisor_matches_the_datasheet(tmp_path, baud):
    board_header(tmp_path, baud)
    ibrd, fbrd = pl011_divisor(12_000_000, baud)
    check = tmp_path / "check.c"
    check.write_text(f'#include "console_rp2040_uart.c"\n'
                     f'_Static_assert(UART_IBRD_VALUE == {ibrd}u, "IBRD");\n'
                     f'_Static_assert(UART_FBRD_VALUE == {fbrd}u, "FBRD");\n')
    port = runtime_dir() / "port"
    subprocess.run(["arm-none-eabi-gcc", "-std=c11", "-O2", "-mcpu=cortex-m0plus", "-mthumb", "-I", str(tmp_path),
                    "-I", str(port), "-c", str(check), "-o", str(tmp_path / "check.o")], check=True)
    if baud == 115200:
        assert (ibrd, fbrd) == (6, 33)  # 12 MHz / (16 * 115200) = 6.5104


def test_driver_refuses_a_baud_rate_the_crystal_cannot_reach(tmp_path):
    board_header(tmp_path, 921600)  # 12 MHz / (16 * 921600) = 0.81: below the PL011's minimum divisor of 1
    port = runtime_dir() / "port"
    done = subprocess.run(["arm-none-eabi-gcc", "-std=c99", "-O2", "-mcpu=cortex-m0plus", "-mthumb", "-I",
                           str(tmp_path), "-I", str(port), "-c", str(port / "console_rp2040_uart.c"), "-o",
                           str(tmp_path / "console.o")], capture_output=True, text=True)
    assert done.returncode != 0 and "console.baud" in done.stderr
