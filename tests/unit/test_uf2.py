"""The UF2 writer (tinyc.toolchain.uf2) and the RP2040 boot2 CRC (tinyc.toolchain.rp2040), on
hand-made images: blocks as Microsoft's UF2 specification lays them out, the CRC as the boot ROM
computes it."""

import struct

from tinyc.toolchain import rp2040, uf2

FAMILY = 0xE48BFF56  # RP2040, from the UF2 specification's families.json


def blocks(data: bytes) -> list[tuple]:
    """Each 512-byte block: (magic0, magic1, flags, address, size, number, count, family, payload, magic_end)."""
    assert len(data) % 512 == 0
    found = []
    for i in range(0, len(data), 512):
        header = struct.unpack_from("<8I", data, i)
        payload = data[i + 32:i + 32 + header[4]]
        assert data[i + 32 + header[4]:i + 508] == bytes(476 - header[4])  # the rest of the data area is zero
        found.append((*header, payload, struct.unpack_from("<I", data, i + 508)[0]))
    return found


def test_each_256_byte_page_is_one_block_with_the_magics_and_family():
    image = [(0x10000000, bytes(range(256)) * 2), (0x10000200, b"\x01\x02\x03")]
    found = blocks(uf2.uf2_blocks(image, FAMILY))
    assert [b[3] for b in found] == [0x10000000, 0x10000100, 0x10000200]
    for number, b in enumerate(found):
        assert b[:3] == (0x0A324655, 0x9E5D5157, 0x00002000)
        assert (b[4], b[5], b[6], b[7], b[9]) == (256, number, 3, FAMILY, 0x0AB16F30)
    assert found[0][8] == bytes(range(256)) and found[2][8] == b"\x01\x02\x03" + bytes(253)


def test_pieces_that_share_a_page_or_cross_one_land_at_their_addresses():
    image = [(0x10000010, b"\xaa" * 300), (0x10000000, b"\xbb" * 4)]  # out of order; the first crosses a page
    found = blocks(uf2.uf2_blocks(image, FAMILY))
    assert [b[3] for b in found] == [0x10000000, 0x10000100]
    assert found[0][8] == b"\xbb" * 4 + bytes(12) + b"\xaa" * 240
    assert found[1][8] == b"\xaa" * 60 + bytes(196)


def test_boot2_crc_is_crc32_mpeg2():
    # CRC-32/MPEG-2 (poly 0x04C11DB7, init 0xFFFFFFFF, no reflection, no final XOR): its catalogue check
    # value for "123456789" (Williams / reveng CRC catalogue)
    assert rp2040.boot2_crc(b"123456789") == 0x0376E6E7
    assert rp2040.boot2_crc(b"") == 0xFFFFFFFF
