"""The last step of an RP2040 firmware: boot2's CRC patched into the linked ELF, and the UF2 file.

    python -m tinyc.toolchain.rp2040 NAME.elf NAME.uf2   (what the generated Makefile runs)

The boot ROM runs boot2 (the first 256 bytes of flash) only if the CRC-32 of its first 252 bytes
equals its last word (RP2040 Datasheet 2.8.1.3). It edits the ELF in place; it never talks to a board.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

from elftools.elf.elffile import ELFFile

from tinyc.errors import BadInput
from tinyc.toolchain import uf2

BOOT2_BYTES = 256
BOOT2_ADDRESS = 0x10000000  # XIP flash (RP2040 Datasheet 2.2)
CRC_POLY = 0x04C11DB7  # CRC-32 as the boot ROM checks it: not reflected, initial 0xFFFFFFFF, no final XOR


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ CRC_POLY if crc & 0x80000000 else crc << 1) & 0xFFFFFFFF
        table.append(crc)
    return table


_TABLE = _crc_table()


def boot2_crc(data: bytes) -> int:
    """The boot ROM's CRC-32 of data (most significant bit first)."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _TABLE[(crc >> 24) ^ byte]
    return crc


def patch_boot2(elf: Path) -> bytes:
    """Write the CRC into the last word of elf's .boot2 section (little-endian, as the ROM reads
    it); return the 256 patched bytes."""
    elf = Path(elf)
    with open(elf, "rb") as f:
        section = ELFFile(f).get_section_by_name(".boot2")
        if section is None:
            raise BadInput(f"{elf}: no .boot2 section: not an RP2040 firmware built by tinyc")
        address, offset, size = section["sh_addr"], section["sh_offset"], section["sh_size"]
        code = section.data()[:BOOT2_BYTES - 4]
    if (address, size) != (BOOT2_ADDRESS, BOOT2_BYTES):
        raise BadInput(f"{elf}: .boot2 is {size} bytes at {address:#x}; the boot ROM reads "
                       f"{BOOT2_BYTES} at {BOOT2_ADDRESS:#x}")
    with open(elf, "r+b") as f:
        f.seek(offset + BOOT2_BYTES - 4)
        f.write(struct.pack("<I", boot2_crc(code)))
    return code + struct.pack("<I", boot2_crc(code))


def finish(elf: Path, uf2_path: Path) -> Path:
    """Patch boot2's CRC into elf, then write its UF2 file (RP2040 family) to uf2_path."""
    patch_boot2(elf)
    return uf2.write(elf, uf2_path, uf2.FAMILY_RP2040)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m tinyc.toolchain.rp2040 NAME.elf NAME.uf2", file=sys.stderr)
        return 2
    try:
        finish(Path(argv[0]), Path(argv[1]))
    except BadInput as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
