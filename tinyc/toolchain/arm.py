"""Firmware for a board: the generated folder plus runtime_c/port, built with arm-none-eabi-gcc."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from tinyc.errors import BadInput

GCC = "arm-none-eabi-gcc"
WARNINGS = ["-std=c99", "-Wall", "-Wextra", "-Werror"]
COMMON = ["-O2", "-ffunction-sections", "-fdata-sections", "-fno-common"]
LINK = ["-nostartfiles", "--specs=nano.specs", "--specs=nosys.specs", "-Wl,--gc-sections"]


def gcc() -> str:
    path = shutil.which(GCC)
    if path is None:
        raise BadInput(f"{GCC} not found: install the Arm GNU toolchain "
                       "(apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)")
    return path


# The two mains of a board folder: the QEMU test harness (samples in and outputs out through
# semihosting files) and the firmware for the board itself (self-test, then `verify --port`).
HARNESS_MAIN, FIRMWARE_MAIN = "main_board.c", "main_firmware.c"
HARNESS_FLAGS = ["-DTINYC_SEMIHOSTING_ALWAYS"]  # the harness prints through semihosting, not the UART
# runtime_c/port files a bare QEMU test program needs (start-up, semihosting, SysTick), without a console driver
HARNESS_PORT = ("tinyc_console.c", "tinyc_counter.c", "tinyc_semihost.c", "tinyc_startup.c")
UF2_TOOL = "tinyc_uf2.c"  # tools/ of a folder for a board with a USB-drive boot loader


def firmware_sources(out_dir: Path, main: str = HARNESS_MAIN) -> list[Path]:
    """Everything a firmware links: the model, its kernels, the port and one main."""
    out_dir = Path(out_dir)
    model = [p for p in sorted(out_dir.glob("*.c")) if not p.name.startswith("main_")]
    return [*model, out_dir / main, *sorted((out_dir / "tinyc").glob("*.c")), *sorted((out_dir / "port").glob("*.c"))]


def build(out_dir: Path, name: str, cpu_flags: list[str], elf: Path, extra: list[str] | None = None,
          main: str = HARNESS_MAIN, uf2_family: int | None = None) -> Path:
    """Compile and link out_dir (emitted with a board) into elf, with a map file beside it.
    main: HARNESS_MAIN (the QEMU test harness) or FIRMWARE_MAIN; uf2_family: also write the UF2 file
    beside elf (Board.uf2_family, for a board with a USB-drive boot loader)."""
    out_dir = Path(out_dir)
    extra = [*(HARNESS_FLAGS if main == HARNESS_MAIN else []), *(extra or [])]
    cmd = [gcc(), *cpu_flags, *WARNINGS, *COMMON, *extra, "-I", str(out_dir), "-I", str(out_dir / "tinyc"),
           *map(str, firmware_sources(out_dir, main)), *LINK, "-T", str(out_dir / f"{name}.ld"),
           f"-Wl,-Map={elf.with_suffix('.map')}", "-o", str(elf), "-lm"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if "error" in line] or done.stderr.splitlines() or [""]
        raise BadInput(f"firmware build for {out_dir} failed: {lines[0].strip()}")
    if uf2_family is not None:
        uf2(out_dir, elf, elf.with_suffix(".uf2"), uf2_family)
    return elf


def uf2(out_dir: Path, elf: Path, target: Path, family: int) -> Path:
    """The UF2 file of elf, as `make firmware` writes it: objcopy's flash image through tools/tinyc_uf2.c."""
    from tinyc.toolchain import host

    with tempfile.TemporaryDirectory(prefix="tinyc-uf2-") as tmp:
        image, tool = Path(tmp) / "image.bin", Path(tmp) / "tinyc_uf2"
        for cmd in (["arm-none-eabi-objcopy", "-O", "binary", str(elf), str(image)],
                    [host.compiler(), "-std=c99", "-O2", "-o", str(tool), str(Path(out_dir) / "tools" / UF2_TOOL)],
                    [str(tool), str(image), f"{_load_address(elf):#x}", f"{family:#x}", str(target)]):
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                raise BadInput(f"UF2 file for {elf.name}: {cmd[0]} failed: {done.stderr.strip()}")
    return target


def _load_address(elf: Path) -> int:
    """Where objcopy's binary image starts: the lowest load address of the ELF's loaded segments."""
    from elftools.elf.elffile import ELFFile

    with open(elf, "rb") as f:
        return min(s["p_paddr"] for s in ELFFile(f).iter_segments() if s["p_type"] == "PT_LOAD" and s["p_filesz"])


def family_bytes(source: Path, cpu_flags: list[str], work: Path) -> dict[str, int]:
    """Flash bytes of one runtime_c family's int8 (s8/s16) and float32 (f32) functions and data at -O2
    (shared helpers count in both): what the fit check's code estimate adds per family."""
    obj = work / f"{source.stem}.o"
    subprocess.run([gcc(), *cpu_flags, "-std=c99", *COMMON, "-I", str(source.parent), "-c", str(source),
                    "-o", str(obj)], check=True)
    out = subprocess.run(["arm-none-eabi-size", "-A", str(obj)], capture_output=True, text=True, check=True).stdout
    sizes = {"int8": 0, "float32": 0}
    for section, size in re.findall(r"^(\.(?:text|rodata|data)\S*)\s+(\d+)", out, re.M):
        kinds = ["int8"] if ("_s8" in section or "_s16" in section) else ["float32"] if "_f32" in section \
            else ["int8", "float32"]
        for kind in kinds:
            sizes[kind] += int(size)
    return sizes
