"""The real boards' console drivers (runtime_c/port/console_KIND.c) and their [console] board-file
settings: each shipped board names the serial port its users have, bad settings are one-line errors,
and each driver builds warning-free for its board with the divisor the manual's formula gives."""

import subprocess
from pathlib import Path

import pytest

from tests.conftest import need_tool
from tinyc.board import CONSOLE_KEYS, console_defines, gcc_flags, known_boards, load_board
from tinyc.codegen.emit import template_env
from tinyc.errors import BadInput
from tinyc.resources import runtime_dir

# board: kind and settings, from the boards' user manuals (UM1724, UM2179, UM2407, the nRF52840 DK
# guide) and the chips' reference manuals (RM0008, RM0390, RM0432, RM0433, nRF52840 PS v1.7).
CONSOLES = {
    "nucleo-f446re": ("stm32f4-usart", {"base": 0x40004400, "baud": 115200, "clock_hz": 16_000_000,
                                        "tx_pin": "PA2", "rx_pin": "PA3", "af": 7,
                                        "rcc_enable_reg": 0x40023840, "rcc_enable_bit": 17}),
    "nucleo-h743zi": ("stm32h7-usart", {"base": 0x40004800, "baud": 115200, "clock_hz": 64_000_000,
                                        "tx_pin": "PD8", "rx_pin": "PD9", "af": 7,
                                        "rcc_enable_reg": 0x580244E8, "rcc_enable_bit": 18}),
    "nucleo-l4r5zi": ("stm32l4-lpuart", {"base": 0x40008000, "baud": 115200, "clock_hz": 4_000_000,
                                         "tx_pin": "PG7", "rx_pin": "PG8", "af": 8}),
    "stm32f103c8": ("stm32f1-usart", {"base": 0x40013800, "baud": 115200, "clock_hz": 8_000_000,
                                      "tx_pin": "PA9", "rx_pin": "PA10",
                                      "rcc_enable_reg": 0x40021018, "rcc_enable_bit": 14}),
    "nrf52840dk": ("nrf-uarte", {"base": 0x40002000, "baud": 115200, "tx_pin": "P0.06", "rx_pin": "P0.08"}),
}
# nRF52840 PS v1.7, UARTE register BAUDRATE: the register's table (not a divisor), value -> actual baud.
NRF_UARTE_BAUDRATE = {115200: (0x01D60000, 115108)}


def expected_divisor(kind: str, settings: dict) -> int:
    """The baud register value, from each manual's formula written anew (round to nearest)."""
    clock, baud = settings.get("clock_hz"), settings["baud"]
    if kind == "stm32l4-lpuart":  # RM0432, LPUART baud rate generation: baud = 256 * clock / BRR
        return round(256 * clock / baud)
    if kind.startswith("stm32"):  # RM0008/RM0390/RM0433, oversampling by 16: BRR = USARTDIV * 16 = clock / baud
        return round(clock / baud)
    return NRF_UARTE_BAUDRATE[baud][0]


def driver_path(kind: str) -> Path:
    return runtime_dir() / "port" / f"console_{kind.replace('-', '_')}.c"


@pytest.mark.parametrize("name", sorted(CONSOLES))
def test_real_board_names_its_serial_port(name):
    board = load_board(name)
    kind, settings = CONSOLES[name]
    assert (board.console_kind, dict(board.console)) == (kind, settings)
    assert driver_path(kind).is_file()


def test_every_shipped_board_loads_with_a_console_kind_it_has_keys_for():
    for name in known_boards():
        board = load_board(name)
        assert [key for key, _ in board.console] == list(CONSOLE_KEYS[board.console_kind]), name


@pytest.mark.parametrize("name", sorted(CONSOLES))
def test_divisor_gives_the_baud_rate_within_two_percent(name):
    kind, settings = CONSOLES[name]
    divisor, baud = expected_divisor(kind, settings), settings["baud"]
    if kind == "nrf-uarte":
        actual = NRF_UARTE_BAUDRATE[baud][1]
    else:
        actual = settings["clock_hz"] * (256 if kind == "stm32l4-lpuart" else 1) / divisor
    assert abs(actual - baud) / baud < 0.02


def test_stm32_divisors_are_the_worked_values():
    # 16 MHz / 115200 = 138.9; 64 MHz -> 555.6; 256 * 4 MHz -> 8888.9; 8 MHz -> 69.4
    assert {name: expected_divisor(*CONSOLES[name]) for name in CONSOLES if name != "nrf52840dk"} == {
        "nucleo-f446re": 139, "nucleo-h743zi": 556, "nucleo-l4r5zi": 8889, "stm32f103c8": 69}


def with_console(text: str) -> str:
    """nucleo-f446re's board file with its [console] table replaced by `text`."""
    board = known_boards()["nucleo-f446re"].read_text()
    return board[:board.index("[console]")] + text


F446 = """[console]
kind = "stm32f4-usart"
base = 0x40004400
baud = 115200
clock_hz = 16_000_000
tx_pin = "PA2"
rx_pin = "PA3"
af = 7
rcc_enable_reg = 0x40023840
rcc_enable_bit = 17
"""
# (edit of F446, key named in the message, what the message says)
BAD_CONSOLES = [
    (('kind = "stm32f4-usart"', 'kind = "stm32-usart"'), "console.kind", "unknown console 'stm32-usart'"),
    (("af = 7\n", ""), "console.af", "missing"),
    (("rcc_enable_bit = 17\n", ""), "console.rcc_enable_bit", "missing"),
    (('tx_pin = "PA2"', 'tx_pin = "A2"'), "console.tx_pin", "not a pin name"),
    (('rx_pin = "PA3"', 'rx_pin = "PA"'), "console.rx_pin", "not a pin name"),
    (('tx_pin = "PA2"', "tx_pin = 2"), "console.tx_pin", "must be a string"),
    (("af = 7", 'af = "AF7"'), "console.af", "must be an integer"),
    (("af = 7", "af = 7\ngpio_base = 0x40020000"), "console.gpio_base", "unknown key"),
    (("baud = 115200", "baud = -1"), "console.baud", "0 or more"),
]


@pytest.mark.parametrize("edit,key,fragment", BAD_CONSOLES, ids=[f"{k}-{f}" for _, k, f in BAD_CONSOLES])
def test_bad_console_setting_is_a_one_line_error_naming_the_key(tmp_path, edit, key, fragment):
    old, new = edit
    assert old in F446
    path = tmp_path / "board.toml"
    path.write_text(with_console(F446.replace(old, new, 1)))
    with pytest.raises(BadInput) as e:
        load_board(path)
    message = str(e.value)
    assert "\n" not in message and message.startswith(f"board file {path}: {key}: "), message
    assert fragment in message


def test_the_f446_console_text_above_is_the_shipped_one(tmp_path):
    path = tmp_path / "board.toml"
    path.write_text(with_console(F446))
    assert load_board(path).console == load_board("nucleo-f446re").console


# A main that calls the three functions, so a missing one is an undefined symbol at link time.
MAIN = """#include "tinyc_console.h"
int main(void)
{
    unsigned char byte = 0;
    tinyc_console_init();
    tinyc_console_write("ok\\n", 3);
    return tinyc_console_read(&byte, 1) + byte;
}
"""
WARNINGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2"]
# Reads the divisor the driver computed: its BRR_VALUE (STM32) or BAUDRATE_VALUE (nRF) macro.
DIVISOR = """#include "{driver}"
#ifdef BRR_VALUE
const uint32_t tinyc_divisor __attribute__((section(".divisor"))) = (uint32_t)(BRR_VALUE);
#else
const uint32_t tinyc_divisor __attribute__((section(".divisor"))) = BAUDRATE_VALUE;
#endif
"""


def port_folder(tmp_path: Path, board) -> Path:
    """A port/ folder as the firmware has it: tinyc_board.h rendered for the board, the console header."""
    port = tmp_path / "port"
    port.mkdir()
    header = template_env().get_template("tinyc_board.h.j2").render(
        board=board, console_defines=console_defines(board))
    (port / "tinyc_board.h").write_text(header)
    (port / "tinyc_console.h").write_text((runtime_dir() / "port" / "tinyc_console.h").read_text())
    return port


@pytest.mark.qemu
@pytest.mark.parametrize("name", sorted(CONSOLES))
def test_driver_builds_warning_free_and_computes_the_manuals_divisor(tmp_path, name):
    need_tool("arm-none-eabi-gcc")
    board = load_board(name)
    port = port_folder(tmp_path, board)
    driver = driver_path(board.console_kind)
    (tmp_path / "main.c").write_text(MAIN)
    gcc = ["arm-none-eabi-gcc", *gcc_flags(board), f"-I{port}"]
    build = subprocess.run([*gcc, *WARNINGS, str(driver), str(tmp_path / "main.c"), "-nostartfiles",
                            "--specs=nosys.specs", "-o", str(tmp_path / "fw.elf")], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    (tmp_path / "divisor.c").write_text(DIVISOR.format(driver=driver))
    subprocess.run([*gcc, "-std=c99", "-O2", "-c", str(tmp_path / "divisor.c"), "-o", str(tmp_path / "divisor.o")],
                   check=True)
    subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", "--only-section=.divisor", str(tmp_path / "divisor.o"),
                    str(tmp_path / "divisor.bin")], check=True)
    value = int.from_bytes((tmp_path / "divisor.bin").read_bytes(), "little")
    assert value == expected_divisor(*CONSOLES[name])


@pytest.mark.qemu
def test_driver_refuses_a_baud_rate_its_register_cannot_hold(tmp_path):
    """A divisor out of range is a compile-time #error naming the kind, not a silent wrong baud rate."""
    need_tool("arm-none-eabi-gcc")
    board = load_board("nucleo-f446re")
    port = port_folder(tmp_path, board)
    header = port / "tinyc_board.h"
    header.write_text(header.read_text().replace("TINYC_CONSOLE_BAUD 115200u", "TINYC_CONSOLE_BAUD 2000000u"))
    result = subprocess.run(["arm-none-eabi-gcc", *gcc_flags(board), f"-I{port}", *WARNINGS, "-c",
                             str(driver_path(board.console_kind)), "-o", str(tmp_path / "d.o")],
                            capture_output=True, text=True)
    assert result.returncode != 0 and "stm32f4-usart: clock_hz / baud" in result.stderr
