"""UF2 images, the format a board's USB drive boot loader takes (Microsoft's UF2 specification,
github.com/microsoft/uf2): the load image of an ELF cut into 512-byte blocks of 256 payload bytes.
It writes files; it never talks to a board."""

from __future__ import annotations

import struct
from pathlib import Path

from elftools.elf.elffile import ELFFile

MAGIC_START0 = 0x0A324655  # "UF2\n"
MAGIC_START1 = 0x9E5D5157
MAGIC_END = 0x0AB16F30
FLAG_FAMILY_ID = 0x00002000  # the word before the payload is a family ID, not a file size
FAMILY_RP2040 = 0xE48BFF56
PAYLOAD = 256  # bytes per block, as every UF2 boot loader accepts (one flash page on the RP2040)
BLOCK = 512
HEADER = struct.Struct("<8I")  # magic0, magic1, flags, address, payload size, block number, blocks, family
DATA_AREA = BLOCK - HEADER.size - 4  # 476 bytes: the payload, then zeros


def load_image(elf: Path) -> list[tuple[int, bytes]]:
    """(load address, bytes) of every loadable segment that has file contents: code, constants
    and the initial values of .data at their addresses in flash."""
    with open(elf, "rb") as f:
        return [(seg["p_paddr"], seg.data()) for seg in ELFFile(f).iter_segments()
                if seg["p_type"] == "PT_LOAD" and seg["p_filesz"] > 0]


def uf2_blocks(image: list[tuple[int, bytes]], family_id: int) -> bytes:
    """The UF2 file of image ((address, bytes) pieces): one block per 256-byte page that any
    piece touches, in address order, the page's other bytes zero."""
    pages: dict[int, bytearray] = {}
    for address, data in image:
        end = address + len(data)
        while address < end:  # page by page
            base = address - address % PAYLOAD
            n = min(end, base + PAYLOAD) - address
            page = pages.setdefault(base, bytearray(PAYLOAD))
            page[address - base:address - base + n] = data[:n]
            address, data = address + n, data[n:]
    out = bytearray()
    for number, base in enumerate(sorted(pages)):
        out += HEADER.pack(MAGIC_START0, MAGIC_START1, FLAG_FAMILY_ID, base, PAYLOAD, number, len(pages), family_id)
        out += bytes(pages[base]).ljust(DATA_AREA, b"\0")
        out += struct.pack("<I", MAGIC_END)
    return bytes(out)


def write(elf: Path, uf2: Path, family_id: int) -> Path:
    """Write the UF2 file of elf's load image to uf2."""
    Path(uf2).write_bytes(uf2_blocks(load_image(elf), family_id))
    return Path(uf2)
