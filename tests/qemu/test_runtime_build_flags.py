"""Every runtime kernel builds for every Cortex-M profile at the optimisation levels firmware projects
use, debug builds included: an inline-asm loop that needs too many registers fails only at -O0 or with
a frame pointer, which the -O2 test firmwares never see."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import need_tool
from tinyc.resources import runtime_dir

CORES = [["-mcpu=cortex-m0plus"], ["-mcpu=cortex-m3"], ["-mcpu=cortex-m4", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"],
         ["-mcpu=cortex-m55", "-mfloat-abi=hard"]]  # the M7 has the M4's instruction set
LEVELS = [["-O0", "-g", "-fno-omit-frame-pointer"], ["-Og"], ["-Os"], ["-O2", "-fno-omit-frame-pointer"], ["-O3"]]


@pytest.mark.qemu
@pytest.mark.parametrize("core", CORES, ids=lambda c: c[0].split("=")[1])
def test_runtime_builds_clean_at_every_level(core, tmp_path):
    need_tool("arm-none-eabi-gcc")
    sources = sorted(runtime_dir().glob("tinyc_*.c"))
    for level in LEVELS:  # one compiler run per level, the objects land in tmp_path
        done = subprocess.run(["arm-none-eabi-gcc", "-mthumb", *core, *level, "-std=c99", "-Wall", "-Wextra",
                               "-Werror", "-pedantic", "-I", str(runtime_dir()), "-c", *map(str, sources)],
                              capture_output=True, text=True, cwd=tmp_path)
        assert done.returncode == 0, f"{' '.join(core + level)}: {done.stderr.strip()[:600]}"
