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


def firmware_sources(out_dir: Path) -> list[Path]:
    """Everything a firmware links: the model, its kernels, the port and the board main."""
    out_dir = Path(out_dir)
    model = [p for p in sorted(out_dir.glob("*.c")) if p.name != "main_host.c"]
    port = sorted((out_dir / "port").glob("*.c")) + sorted((out_dir / "port").glob("*.S"))  # .S: boot2
    return model + sorted((out_dir / "tinyc").glob("*.c")) + port


def build(out_dir: Path, name: str, cpu_flags: list[str], elf: Path, extra: list[str] | None = None) -> Path:
    """Compile and link out_dir (emitted with a board) into elf, with a map file beside it."""
    out_dir = Path(out_dir)
    cmd = [gcc(), *cpu_flags, *WARNINGS, *COMMON, *(extra or []), "-I", str(out_dir), "-I", str(out_dir / "tinyc"),
           *map(str, firmware_sources(out_dir)), *LINK, "-T", str(out_dir / f"{name}.ld"),
           f"-Wl,-Map={elf.with_suffix('.map')}", "-o", str(elf), "-lm"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if "error" in line] or done.stderr.splitlines() or [""]
        raise BadInput(f"firmware build for {out_dir} failed: {lines[0].strip()}")
    if any(src.name.startswith("boot2_rp2040") for src in firmware_sources(out_dir)):
        rp2040.finish(elf, elf.with_suffix(".uf2"))  # as the Makefile does: boot2's CRC, then NAME.uf2
    return elf
