"""Board files (boards/*.toml) and their loader (tinyc.board): datasheet values, validation
errors, gcc flags."""

import subprocess
from pathlib import Path

import pytest

from tests.conftest import need_tool
from tinyc.board import Board, gcc_flags, known_boards, load_board, summary
from tinyc.errors import BadInput

KIB, MIB = 1024, 1024 * 1024
# name: core, fpu, dsp, clock_hz, flash origin/size, ram origin/size, QEMU machine, flash tool
# (vendors' datasheets; QEMU's MPS2/MPS3 memory maps and clocks as verified in qemu-cortex-m.md)
EXPECTED = {
    "mps2-an385": ("cortex-m3", "none", False, 25_000_000, 0, 4 * MIB, 0x20000000, 4 * MIB, "mps2-an385", "none"),
    "mps2-an386": ("cortex-m4", "fpv4-sp-d16", True, 25_000_000, 0, 4 * MIB, 0x20000000, 4 * MIB, "mps2-an386",
                   "none"),
    "mps2-an500": ("cortex-m7", "fpv5-d16", True, 25_000_000, 0, 4 * MIB, 0x20000000, 4 * MIB, "mps2-an500", "none"),
    "mps3-an547": ("cortex-m55", "fpv5-d16", True, 32_000_000, 0, 512 * KIB, 0x20000000, 512 * KIB, "mps3-an547",
                   "none"),
    "nucleo-l4r5zi": ("cortex-m4", "fpv4-sp-d16", True, 120_000_000, 0x08000000, 2 * MIB, 0x20000000, 640 * KIB,
                      None, "openocd"),
    "nucleo-f446re": ("cortex-m4", "fpv4-sp-d16", True, 180_000_000, 0x08000000, 512 * KIB, 0x20000000, 128 * KIB,
                      None, "openocd"),
    "nucleo-h743zi": ("cortex-m7", "fpv5-d16", True, 480_000_000, 0x08000000, 2 * MIB, 0x24000000, 512 * KIB,
                      None, "openocd"),
    "nrf52840dk": ("cortex-m4", "fpv4-sp-d16", True, 64_000_000, 0, 1 * MIB, 0x20000000, 256 * KIB, None, "pyocd"),
    "stm32f103c8": ("cortex-m3", "none", False, 72_000_000, 0x08000000, 64 * KIB, 0x20000000, 20 * KIB, None,
                    "openocd"),
    "rpi-pico": ("cortex-m0plus", "none", False, 133_000_000, 0x10000000, 2 * MIB, 0x20000000, 264 * KIB, None,
                 "openocd"),
}
FLASH_ARGS = {
    "nucleo-l4r5zi": ("-f", "board/st_nucleo_l4.cfg"),
    "nucleo-f446re": ("-f", "board/st_nucleo_f4.cfg"),
    "nucleo-h743zi": ("-f", "board/st_nucleo_h743zi.cfg"),
    "nrf52840dk": ("--target", "nrf52840"),
    "stm32f103c8": ("-f", "interface/stlink.cfg", "-f", "target/stm32f1x.cfg"),
    "rpi-pico": ("-f", "interface/cmsis-dap.cfg", "-f", "target/rp2040.cfg", "-c", "adapter speed 5000"),
}

GOOD = """\
name = "my-board"
description = "a test board"
core = "cortex-m4"
fpu = "fpv4-sp-d16"
dsp = true
clock_hz = 80_000_000

[flash]
origin = 0x08000000
size = 0x40000

[ram]
origin = 0x20000000
size = 0x10000

[qemu]
machine = "none"

[flash_tool]
tool = "openocd"
args = ["-f", "board/my.cfg"]
"""


def write_board(tmp_path: Path, text: str, name: str = "my.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_every_expected_board_is_shipped_and_nothing_else():
    assert sorted(known_boards()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shipped_board_has_its_datasheet_values(name):
    b = load_board(name)
    core, fpu, dsp, clock, f0, fs, r0, rs, machine, tool = EXPECTED[name]
    assert (b.name, b.core, b.fpu, b.dsp, b.clock_hz) == (name, core, fpu, dsp, clock)
    assert (b.flash_origin, b.flash_size, b.ram_origin, b.ram_size) == (f0, fs, r0, rs)
    assert (b.qemu_machine, b.flash_tool, b.flash_args) == (machine, tool, FLASH_ARGS.get(name, ()))
    assert b.description and b.path == known_boards()[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shipped_board_file_has_the_same_keys_as_mps2_an386(name):
    import tomllib

    def keys(doc: dict) -> set[str]:
        return {f"{k}.{sub}" if isinstance(v, dict) else k for k, v in doc.items()
                for sub in (v if isinstance(v, dict) else [None])}

    reference = keys(tomllib.loads(known_boards()["mps2-an386"].read_text()))
    doc = tomllib.loads(known_boards()[name].read_text())
    optional = {"flash_tool.args", "rodata.origin", "rodata.size",  # [rodata]: a second constant region
                "flash.boot2",  # a boot ROM's second stage (the RP2040's)
                "boot_clock_hz"}  # when the clock after reset is not clock_hz

    def common(found: set[str]) -> set[str]:  # [console]'s settings depend on its kind
        return {k for k in found - optional if not k.startswith("console.") or k == "console.kind"}

    assert common(keys(doc)) == common(reference)


def test_mps3_an547_keeps_weights_in_its_second_region():
    board = load_board("mps3-an547")
    assert (board.rodata_origin, board.rodata_size) == (0x01000000, 2 << 20)
    assert board.flash_limit == board.flash_size + board.rodata_size


def test_only_rpi_pico_has_a_boot2_stage():
    assert {name: load_board(name).boot2 for name in EXPECTED if load_board(name).boot2} == {"rpi-pico": "rp2040-w25q"}
    assert load_board("rpi-pico").boot2_source == "boot2_rp2040_w25q.c"
    assert load_board("rpi-pico").uf2_family == 0xE48BFF56 and load_board("nucleo-l4r5zi").uf2_family is None


def test_a_users_board_file_loads_by_path(tmp_path):
    b = load_board(str(write_board(tmp_path, GOOD)))
    assert b == Board("my-board", "a test board", "cortex-m4", "fpv4-sp-d16", True, 80_000_000, 0x08000000, 0x40000,
                      0x20000000, 0x10000, None, "openocd", ("-f", "board/my.cfg"), tmp_path / "my.toml",
                      boot_clock_hz=80_000_000)


def test_name_defaults_to_the_file_stem_and_qemu_table_is_optional(tmp_path):
    text = GOOD.replace('name = "my-board"\n', "").replace('[qemu]\nmachine = "none"\n', "")
    b = load_board(write_board(tmp_path, text, "lab-board.toml"))
    assert (b.name, b.qemu_machine) == ("lab-board", None)


def test_unknown_board_name_lists_the_known_ones():
    with pytest.raises(BadInput, match=r"--board 'no-such-board': unknown board \(known: mps2-an385, .*rpi-pico"):
        load_board("no-such-board")


def test_missing_board_file_is_an_error(tmp_path):
    with pytest.raises(BadInput, match="no such file"):
        load_board(tmp_path / "absent.toml")


def test_invalid_toml_is_an_error(tmp_path):
    with pytest.raises(BadInput, match="not valid TOML"):
        load_board(write_board(tmp_path, "core = \n"))


# (text edits (old, new, old, new ...), key named in the message, what the message says)
BAD = [
    (('description = "a test board"\n', ""), "description", "missing"),
    (("[ram]\norigin = 0x20000000\n", "[ram]\n"), "ram.origin", "missing"),
    (('[flash_tool]\ntool = "openocd"\n', "[flash_tool]\n"), "flash_tool.tool", "missing"),
    (("clock_hz = 80_000_000", 'clock_hz = "80 MHz"'), "clock_hz", "must be an integer"),
    (("clock_hz = 80_000_000", "clock_hz = true"), "clock_hz", "must be an integer"),
    (("dsp = true", "dsp = 1"), "dsp", "must be true or false"),
    (("size = 0x40000", 'size = "256K"'), "flash.size", "must be an integer"),
    (('args = ["-f", "board/my.cfg"]', 'args = "-f board/my.cfg"'), "flash_tool.args", "must be a list"),
    (('args = ["-f", "board/my.cfg"]', 'args = ["-f", 3]'), "flash_tool.args", "list of strings"),
    (('args = ["-f", "board/my.cfg"]', ""), "flash_tool.args", "missing"),
    (('core = "cortex-m4"', 'core = "cortex-m85"'), "core", "unknown core 'cortex-m85'"),
    (('core = "cortex-m4"', 'core = "Cortex-M4"'), "core", "unknown core"),
    (('fpu = "fpv4-sp-d16"', 'fpu = "auto"'), "fpu", "'auto' is not an FPU of cortex-m4"),
    (('fpu = "fpv4-sp-d16"', 'fpu = "fpv5-d16"'), "fpu", "choose: none, fpv4-sp-d16"),
    (("dsp = true", "dsp = false"), "dsp", "always has DSP"),
    (("size = 0x40000", "size = 0"), "flash.size", "more than 0"),
    (("size = 0x10000", "size = -4"), "ram.size", "more than 0"),
    (("clock_hz = 80_000_000", "clock_hz = 0"), "clock_hz", "more than 0"),
    (("origin = 0x20000000", "origin = 0xFFFFF000"), "ram.size", "address space"),
    (("origin = 0x20000000", "origin = 0x08010000"), "ram.origin", "overlaps flash"),
    (('tool = "openocd"', 'tool = "jlink"'), "flash_tool.tool", "unknown tool 'jlink'"),
    (('tool = "openocd"\nargs = ["-f", "board/my.cfg"]', 'tool = "none"\nargs = ["-f"]'), "flash_tool.args",
     "tool is \"none\""),
    (("clock_hz = 80_000_000", "clock_hz = 80_000_000\nclock_mhz = 80"), "clock_mhz", "unknown key"),
    (("size = 0x10000", "size = 0x10000\nlength = 4"), "ram.length", "unknown key"),
    (('machine = "none"', "machine = 1"), "qemu.machine", "must be a string"),
    (("size = 0x40000", 'size = 0x40000\nboot2 = "stm32"'), "flash.boot2", "unknown boot2 'stm32'"),
    (("size = 0x10000", 'size = 0x10000\nboot2 = "rp2040-w25q"'), "ram.boot2", "unknown key"),
    (('[qemu]\nmachine = "none"\n', "", "dsp = true", 'dsp = true\nqemu = "mps2-an386"'), "qemu",
     "must be a table"),
]


@pytest.mark.parametrize("edit,key,fragment", BAD, ids=[f"{key}-{frag}" for _, key, frag in BAD])
def test_bad_board_file_is_a_one_line_error_naming_file_and_key(tmp_path, edit, key, fragment):
    text = GOOD
    for old, new in zip(edit[::2], edit[1::2]):
        assert old in text
        text = text.replace(old, new, 1)
    path = write_board(tmp_path, text)
    with pytest.raises(BadInput) as e:
        load_board(path)
    message = str(e.value)
    assert "\n" not in message
    assert message.startswith(f"board file {path}: {key}: "), message
    assert fragment in message


@pytest.mark.parametrize("core,fpu,dsp,flags", [
    ("cortex-m0plus", "none", False, ["-mcpu=cortex-m0plus", "-mthumb", "-mfloat-abi=soft"]),
    ("cortex-m4", "fpv4-sp-d16", True, ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]),
    ("cortex-m4", "none", True, ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=soft"]),
    ("cortex-m33", "fpv5-sp-d16", False, ["-mcpu=cortex-m33+nodsp", "-mthumb", "-mfloat-abi=hard",
                                          "-mfpu=fpv5-sp-d16"]),
    ("cortex-m55", "fpv5-d16", True, ["-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-d16",
                                       "-DTINYC_MVE_ASM"]),
])
def test_gcc_flags_follow_core_fpu_and_dsp(tmp_path, core, fpu, dsp, flags):
    text = (GOOD.replace('"cortex-m4"', f'"{core}"').replace('"fpv4-sp-d16"', f'"{fpu}"')
            .replace("dsp = true", f"dsp = {str(dsp).lower()}"))
    assert gcc_flags(load_board(write_board(tmp_path, text))) == flags


def test_summary_is_one_line_with_the_limits():
    line = summary(load_board("stm32f103c8"))
    assert line.split()[:2] == ["stm32f103c8", "cortex-m3"]
    assert "flash 64 KiB" in " ".join(line.split()) and "RAM 20 KiB" in " ".join(line.split())
    assert "\n" not in line


@pytest.mark.qemu
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_arm_gcc_accepts_the_flags_and_defines_what_the_board_says(tmp_path, name):
    """-mcpu/-mfpu as the board gives them compile, and gcc's predefined macros agree on FPU and DSP."""
    need_tool("arm-none-eabi-gcc")
    b = load_board(name)
    src = tmp_path / "t.c"
    src.write_text("float f(float a, float b) { return a * b; }\n")
    subprocess.run(["arm-none-eabi-gcc", *gcc_flags(b), "-O2", "-c", str(src), "-o", str(tmp_path / "t.o")],
                   check=True)
    macros = subprocess.run(["arm-none-eabi-gcc", *gcc_flags(b), "-dM", "-E", "-"], input="", text=True,
                            capture_output=True, check=True).stdout
    assert ("#define __ARM_FP " in macros) == (b.fpu != "none")
    assert ("#define __ARM_FEATURE_DSP 1" in macros) == b.dsp
    if b.fpu == "fpv5-d16":
        assert "#define __ARM_FP 14" in macros  # half, single and double precision
    if b.core == "cortex-m55":
        assert "#define __ARM_FEATURE_MVE 3" in macros  # Helium, integer and float, kept with this -mfpu

