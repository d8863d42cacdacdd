"""Firmware for a board: the generated folder plus runtime_c/port, built with arm-none-eabi-gcc."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tinyc.errors import BadInput
from tinyc.toolchain import rp2040

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


def firmware_sources(out_dir: Path, main: str = HARNESS_MAIN) -> list[Path]:
    """Everything a firmware links: the model, its kernels, the port and one main."""
    out_dir = Path(out_dir)
    model = [p for p in sorted(out_dir.glob("*.c")) if not p.name.startswith("main_")]
    port = sorted((out_dir / "port").glob("*.c")) + sorted((out_dir / "port").glob("*.S"))  # .S: boot2
    return [*model, out_dir / main, *sorted((out_dir / "tinyc").glob("*.c")), *port]


def build(out_dir: Path, name: str, cpu_flags: list[str], elf: Path, extra: list[str] | None = None,
          main: str = HARNESS_MAIN) -> Path:
    """Compile and link out_dir (emitted with a board) into elf, with a map file beside it.
    main: HARNESS_MAIN (the QEMU test harness) or FIRMWARE_MAIN."""
    out_dir = Path(out_dir)
    extra = [*(HARNESS_FLAGS if main == HARNESS_MAIN else []), *(extra or [])]
    cmd = [gcc(), *cpu_flags, *WARNINGS, *COMMON, *extra, "-I", str(out_dir), "-I", str(out_dir / "tinyc"),
           *map(str, firmware_sources(out_dir, main)), *LINK, "-T", str(out_dir / f"{name}.ld"),
           f"-Wl,-Map={elf.with_suffix('.map')}", "-o", str(elf), "-lm"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if "error" in line] or done.stderr.splitlines() or [""]
        raise BadInput(f"firmware build for {out_dir} failed: {lines[0].strip()}")
    if any(src.name.startswith("boot2_rp2040") for src in firmware_sources(out_dir)):
        rp2040.finish(elf, elf.with_suffix(".uf2"))  # as the Makefile does: boot2's CRC, then NAME.uf2
    return elf
