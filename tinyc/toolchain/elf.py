"""Section and code sizes of a firmware ELF, read with pyelftools."""

from __future__ import annotations

from pathlib import Path

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

# The firmware around the model (port/, main_board.c, main_firmware.c): not part of what a user's
# firmware gains by adding the model, so not counted as the model's code.
HARNESS = ("Reset_Handler", "Default_Handler", "SysTick_Handler", "main", "fail", "tinyc_sh_", "tinyc_counter_",
           "tinyc_stack_used", "tinyc_print", "tinyc_stop", "tinyc_console_", "tinyc_debugger_", "tinyc_cycles_",
           "tinyc_link_", "tinyc_crc32", "self_test", "first_mismatch", "predicted_class", "invoke_timed", "serve")


def section_sizes(elf: Path) -> dict[str, int]:
    """Bytes of text (code and other read-only non-rodata), rodata, data and bss."""
    sizes = {"text": 0, "rodata": 0, "data": 0, "bss": 0}
    with open(elf, "rb") as f:
        for s in ELFFile(f).iter_sections():
            flags = s["sh_flags"]
            if not flags & SH_FLAGS.SHF_ALLOC or s.name == ".stack":
                continue
            if s["sh_type"] == "SHT_NOBITS":
                sizes["bss"] += s["sh_size"]
            elif flags & SH_FLAGS.SHF_WRITE:
                sizes["data"] += s["sh_size"]
            elif s.name.startswith(".rodata"):
                sizes["rodata"] += s["sh_size"]
            else:
                sizes["text"] += s["sh_size"]
    return sizes


def code_bytes(elf: Path) -> int:
    """Bytes of functions the model brings: its schedule, its kernels, and the library
    routines they call; the firmware harness is left out."""
    total = 0
    with open(elf, "rb") as f:
        symtab = ELFFile(f).get_section_by_name(".symtab")
        for sym in symtab.iter_symbols():
            if sym["st_info"]["type"] == "STT_FUNC" and not sym.name.startswith(HARNESS):
                total += sym["st_size"]
    return total
