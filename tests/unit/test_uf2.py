"""The UF2 host tool a Pico folder carries (runtime_c/tools/tinyc_uf2.c), on hand-made images: blocks as
Microsoft's UF2 specification lays them out, parsed here independently."""

import struct
import subprocess

import pytest

from tests.conftest import need_tool
from tinyc.resources import runtime_dir
from tinyc.toolchain import host

FAMILY = 0xE48BFF56  # RP2040, from the UF2 specification's families.json


@pytest.fixture(scope="module")
def tool(tmp_path_factory):
    need_tool("cc")
    exe = tmp_path_factory.mktemp("uf2") / "tinyc_uf2"
    subprocess.run([host.compiler(), "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2", "-o", str(exe),
                    str(runtime_dir() / "tools" / "tinyc_uf2.c")], check=True)
    return exe


def uf2_of(tool, tmp_path, image: bytes, base: int) -> bytes:
    (tmp_path / "in.bin").write_bytes(image)
    subprocess.run([str(tool), str(tmp_path / "in.bin"), hex(base), hex(FAMILY), str(tmp_path / "out.uf2")],
                   check=True)
    return (tmp_path / "out.uf2").read_bytes()


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


def test_each_256_byte_page_is_one_block_with_the_magics_and_family(tool, tmp_path):
    image = bytes(range(256)) * 2 + b"\x01\x02\x03"
    found = blocks(uf2_of(tool, tmp_path, image, 0x10000000))
    assert [b[3] for b in found] == [0x10000000, 0x10000100, 0x10000200]
    for number, b in enumerate(found):
        assert b[:3] == (0x0A324655, 0x9E5D5157, 0x00002000)
        assert (b[4], b[5], b[6], b[7], b[9]) == (256, number, 3, FAMILY, 0x0AB16F30)
    assert found[0][8] == bytes(range(256)) and found[2][8] == b"\x01\x02\x03" + bytes(253)


def test_an_unreadable_image_is_a_one_line_error(tool, tmp_path):
    done = subprocess.run([str(tool), str(tmp_path / "missing.bin"), "0x10000000", hex(FAMILY),
                           str(tmp_path / "o.uf2")], capture_output=True, text=True)
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "missing.bin" in done.stderr
