"""Board files (boards/*.toml, or a user's own of the same form): the limits a model is checked
against and the compiler flags its firmware is built with.

It reads and validates files; it never builds or runs anything.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from tinyc.errors import BadInput
from tinyc.resources import boards_dir

# gcc -mfpu values each core can have ("none": no FPU, soft float), from Arm's core manuals.
FPUS = {
    "cortex-m0plus": ("none",),
    "cortex-m3": ("none",),
    "cortex-m4": ("none", "fpv4-sp-d16"),
    "cortex-m7": ("none", "fpv5-sp-d16", "fpv5-d16"),
    "cortex-m33": ("none", "fpv5-sp-d16"),
    "cortex-m55": ("none", "fpv5-d16"),  # the M55 FPU, when present, does half, single and double
}
CORES = tuple(FPUS)
# The DSP extension: absent on v6-M and v7-M, always there on M4, M7 and M55, optional on M33.
DSP = {"cortex-m0plus": False, "cortex-m3": False, "cortex-m4": True, "cortex-m7": True,
       "cortex-m33": None, "cortex-m55": True}
FLASH_TOOLS = ("openocd", "pyocd", "none")
ADDRESS_SPACE = 1 << 32
# key -> (type, required); tables are checked key by key below.
TOP_KEYS = {"name": (str, False), "description": (str, True), "core": (str, True), "fpu": (str, True),
            "dsp": (bool, True), "clock_hz": (int, True), "boot_clock_hz": (int, False),
            "flash": (dict, True), "ram": (dict, True),
            "qemu": (dict, False), "flash_tool": (dict, True), "rodata": (dict, False), "console": (dict, False)}
# How the firmware talks ([console] kind): each kind's driver is runtime_c/port/console_KIND.c, and
# the keys it needs (integers, or pin names as strings) become TINYC_CONSOLE_KEY in port/tinyc_board.h.
CONSOLE_KEYS = {
    "cmsdk-uart": ("base", "baud", "clock_hz"),  # Arm's CMSDK APB UART (the MPS2/MPS3 FPGA images, QEMU)
    "itm": (),  # ITM stimulus port 0, read as SWO by the debug probe
    "semihosting": (),  # through the debugger; silent when none is attached (DHCSR.C_DEBUGEN clear)
    # Real boards' UARTs, one kind per chip family (their RCC, GPIO and UART registers differ):
    # af = the pins' alternate function; rcc_enable_reg/_bit = the UART's clock-enable register and bit.
    "stm32f1-usart": ("base", "baud", "clock_hz", "tx_pin", "rx_pin", "rcc_enable_reg", "rcc_enable_bit"),
    "stm32f4-usart": ("base", "baud", "clock_hz", "tx_pin", "rx_pin", "af", "rcc_enable_reg", "rcc_enable_bit"),
    "stm32h7-usart": ("base", "baud", "clock_hz", "tx_pin", "rx_pin", "af", "rcc_enable_reg", "rcc_enable_bit"),
    "stm32l4-lpuart": ("base", "baud", "clock_hz", "tx_pin", "rx_pin", "af"),  # LPUART1, VDDIO2 for port G
    "nrf-uarte": ("base", "baud", "tx_pin", "rx_pin"),  # EasyDMA; baud from the BAUDRATE table
    "rp2040-uart": ("base", "tx_pin", "rx_pin", "baud", "clock_hz"),  # RP2040's PL011 UART0/1, clocked by the XOSC
}
PIN_KEYS = ("tx_pin", "rx_pin")  # strings: "PA2" (STM32), "P0.06" (nRF), "GP0" (RP2040)
# [flash] boot2: the second-stage boot loader a chip's boot ROM runs from the first bytes of flash
# before the firmware (runtime_c/port/boot2_KIND.c: bytes and CRC, from runtime_c/boot2/boot2_KIND.S by
# scripts/make_boot2.py), placed by the linker script; the Makefile also writes a UF2 file.
# kind -> the chip's UF2 family ID (Microsoft's UF2 specification, families.json), for its USB-drive boot loader
BOOT2 = {"rp2040-w25q": 0xE48BFF56}  # RP2040 with a W25Q-family QSPI flash, plain 03h reads


@dataclass(frozen=True)
class Board:
    name: str
    description: str
    core: str  # gcc -mcpu
    fpu: str  # gcc -mfpu, or "none" (soft float)
    dsp: bool  # has the DSP extension (SMLAD ...)
    clock_hz: int  # the core clock an application runs it at (the rated maximum)
    flash_origin: int  # bytes
    flash_size: int
    ram_origin: int
    ram_size: int
    qemu_machine: str | None  # the QEMU machine that emulates it, None if none does
    flash_tool: str  # openocd | pyocd | none
    flash_args: tuple[str, ...]  # the tool's arguments before the program step
    path: Path | None = None  # the file it came from
    # An optional second read-only region for constant data (weights), when code memory is small
    # and another memory can hold constants (mps3-an547: the 2 MiB SRAM beside the 512 KiB ITCM).
    rodata_origin: int | None = None
    rodata_size: int | None = None
    # How the firmware talks: [console] kind (a CONSOLE_KEYS key) and the driver's settings.
    # The core clock right after reset, which tinyc's own firmware keeps (it sets up no PLL); 0: clock_hz.
    boot_clock_hz: int = 0
    console_kind: str = "semihosting"
    console: tuple[tuple[str, int | str], ...] = ()
    boot2: str | None = None  # a BOOT2 kind, None when the chip boots straight from flash

    @property
    def uf2_family(self) -> int | None:
        """The UF2 family ID of a board that boots from a USB drive (one with boot2); else None."""
        return BOOT2[self.boot2] if self.boot2 else None

    @property
    def boot2_source(self) -> str | None:
        """The file in runtime_c/port of the board's boot2 stage; None when it needs none."""
        return f"boot2_{self.boot2.replace('-', '_')}.c" if self.boot2 else None

    @property
    def flash_limit(self) -> int:
        """Bytes for code and constants: flash, plus the rodata region when there is one."""
        return self.flash_size + (self.rodata_size or 0)


def known_boards() -> dict[str, Path]:
    """The boards shipped in boards/, by name."""
    return {p.stem: p for p in sorted(boards_dir().glob("*.toml"))}


def load_board(name_or_path: str | Path) -> Board:
    """A board by name from boards/, or a user's own board file of the same form; every
    problem in the file is a one-line BadInput naming the file and the key."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        boards = known_boards()
        if str(name_or_path) not in boards:
            listed = ", ".join(boards) or "none yet"
            raise BadInput(f"--board {str(name_or_path)!r}: unknown board (known: {listed}); "
                           "or give a board .toml file")
        path = boards[str(name_or_path)]
    if not path.is_file():
        raise BadInput(f"--board {path}: no such file")
    try:
        doc = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise BadInput(f"--board {path}: not valid TOML ({e})") from None
    return _board(doc, path)


def _board(doc: dict, path: Path) -> Board:
    def bad(key: str, why: str) -> BadInput:
        return BadInput(f"board file {path}: {key}: {why}")

    def get(table: dict, prefix: str, key: str, kind: type, required: bool = True):
        full = f"{prefix}{key}"
        if key not in table:
            if required:
                raise bad(full, "missing")
            return None
        value = table[key]
        # TOML booleans are Python ints: an int key must not accept true/false
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise bad(full, f"must be {_TYPE_NAMES[kind]}, got {value!r}")
        return value

    def no_unknown(table: dict, prefix: str, allowed) -> None:
        for key in table:
            if key not in allowed:
                raise bad(f"{prefix}{key}", f"unknown key (allowed: {', '.join(allowed)})")

    no_unknown(doc, "", TOP_KEYS)
    top = {key: get(doc, "", key, kind, required) for key, (kind, required) in TOP_KEYS.items()}
    core, fpu, dsp = top["core"], top["fpu"], top["dsp"]
    if core not in CORES:
        raise bad("core", f"unknown core {core!r} (known: {', '.join(CORES)})")
    if fpu not in FPUS[core]:
        raise bad("fpu", f"{fpu!r} is not an FPU of {core} (choose: {', '.join(FPUS[core])})")
    if DSP[core] is not None and dsp != DSP[core]:
        raise bad("dsp", f"{core} {'always has' if DSP[core] else 'has no'} DSP extension: "
                         f"set dsp = {str(DSP[core]).lower()}")
    if top["boot_clock_hz"] is not None and top["boot_clock_hz"] <= 0:
        raise bad("boot_clock_hz", f"must be more than 0, got {top['boot_clock_hz']}")
    if top["clock_hz"] <= 0:
        raise bad("clock_hz", f"must be more than 0, got {top['clock_hz']}")
    regions = {}
    for region in ("flash", "ram", "rodata"):
        table = top[region]
        if table is None:  # [rodata] is optional
            continue
        no_unknown(table, f"{region}.", ("origin", "size", "boot2") if region == "flash" else ("origin", "size"))
        origin, size = (get(table, f"{region}.", key, int) for key in ("origin", "size"))
        if origin < 0:
            raise bad(f"{region}.origin", f"must be 0 or more, got {origin}")
        if size <= 0:
            raise bad(f"{region}.size", f"must be more than 0 bytes, got {size}")
        if origin + size > ADDRESS_SPACE:
            raise bad(f"{region}.size", f"{origin:#x} + {size:#x} runs past the 4 GiB address space")
        regions[region] = (origin, size)
    boot2 = get(top["flash"], "flash.", "boot2", str, required=False)
    if boot2 is not None and boot2 not in BOOT2:
        raise bad("flash.boot2", f"unknown boot2 {boot2!r} (choose: {', '.join(BOOT2)})")
    (f0, fs), (r0, rs) = regions["flash"], regions["ram"]
    d0, ds = regions.get("rodata", (None, None))
    if f0 < r0 + rs and r0 < f0 + fs:
        raise bad("ram.origin", f"RAM {r0:#x}..{r0 + rs:#x} overlaps flash {f0:#x}..{f0 + fs:#x}")
    qemu = top["qemu"] or {}
    no_unknown(qemu, "qemu.", ("machine",))
    machine = get(qemu, "qemu.", "machine", str, required=bool(qemu))
    tool_table = top["flash_tool"]
    no_unknown(tool_table, "flash_tool.", ("tool", "args"))
    tool = get(tool_table, "flash_tool.", "tool", str)
    if tool not in FLASH_TOOLS:
        raise bad("flash_tool.tool", f"unknown tool {tool!r} (choose: {', '.join(FLASH_TOOLS)})")
    args = get(tool_table, "flash_tool.", "args", list, required=tool != "none") or []
    if not all(isinstance(a, str) for a in args):
        raise bad("flash_tool.args", f"must be a list of strings, got {args!r}")
    if tool == "none" and args:
        raise bad("flash_tool.args", "given, but tool is \"none\"")
    kind, console = _console(top["console"] or {"kind": "semihosting"}, bad, get, no_unknown)
    return Board(name=top["name"] or path.stem, description=top["description"], core=core, fpu=fpu, dsp=dsp,
                 clock_hz=top["clock_hz"], flash_origin=f0, flash_size=fs, ram_origin=r0, ram_size=rs,
                 qemu_machine=None if machine in (None, "none") else machine, flash_tool=tool,
                 flash_args=tuple(args), path=path, rodata_origin=d0, rodata_size=ds,
                 console_kind=kind, console=console, boot_clock_hz=top["boot_clock_hz"] or top["clock_hz"], boot2=boot2)


def _console(table: dict, bad, get, no_unknown) -> tuple[str, tuple[tuple[str, int | str], ...]]:
    kind = get(table, "console.", "kind", str)
    if kind not in CONSOLE_KEYS:
        raise bad("console.kind", f"unknown console {kind!r} (choose: {', '.join(CONSOLE_KEYS)})")
    keys = CONSOLE_KEYS[kind]
    no_unknown(table, "console.", ("kind", *keys))
    settings = []
    for key in keys:
        value = get(table, "console.", key, str if key in PIN_KEYS else int)
        if key in PIN_KEYS and pin_number(value) is None:
            raise bad(f"console.{key}", f"{value!r} is not a pin name (like \"PA2\", \"P0.06\" or \"GP0\")")
        if key not in PIN_KEYS and value < 0:
            raise bad(f"console.{key}", f"must be 0 or more, got {value}")
        settings.append((key, value))
    return kind, tuple(settings)


def pin_number(name: str) -> tuple[int, int] | None:
    """(port, pin) of a pin name: "PA2" -> (0, 2), "PG7" -> (6, 7), "P0.06" -> (0, 6), "P1.15" -> (1, 15),
    "GP0" -> (0, 0); None if it is none of these forms."""
    for pattern, port in ((r"P([A-K])(\d{1,2})", lambda m: ord(m.group(1)) - ord("A")),
                          (r"P(\d)\.(\d{1,2})", lambda m: int(m.group(1))),
                          (r"GP()(\d{1,2})", lambda m: 0)):
        m = re.fullmatch(pattern, name)
        if m:
            return port(m), int(m.group(2))
    return None


def console_defines(board: Board) -> list[tuple[str, str]]:
    """The C macros of port/tinyc_board.h: (name, value), pins split into _PORT and _PIN."""
    defines = [(f"TINYC_CONSOLE_{board.console_kind.upper().replace('-', '_')}", "1")]
    for key, value in board.console:
        name = f"TINYC_CONSOLE_{key.upper()}"
        if key in PIN_KEYS:
            port, pin = pin_number(value)
            defines += [(name.removesuffix("_PIN") + "_PORT", f"{port}u"), (name, f"{pin}u")]
        else:
            defines.append((name, f"{value:#x}u" if key == "base" or key.endswith(("_base", "_reg")) else f"{value}u"))
    return defines


_TYPE_NAMES = {str: "a string", bool: "true or false", int: "an integer", dict: "a table", list: "a list"}


HELIUM_CORES = ("cortex-m55",)  # cores with integer Helium (MVE): kernels may take layouts only Helium reads fast


def has_helium(board: Board | None) -> bool:
    return board is not None and board.core in HELIUM_CORES


def gcc_flags(board: Board) -> list[str]:
    """arm-none-eabi-gcc flags for the board's core: -mcpu, -mthumb and the float ABI."""
    cpu = board.core + ("+nodsp" if board.core == "cortex-m33" and not board.dsp else "")
    # the M55's conv loop in asm needs r7: on for the firmware tinyc builds (no frame pointer), off by default
    asm = ["-DTINYC_MVE_ASM"] if has_helium(board) else []
    if board.fpu == "none":
        return [f"-mcpu={cpu}", "-mthumb", "-mfloat-abi=soft", *asm]
    return [f"-mcpu={cpu}", "-mthumb", "-mfloat-abi=hard", f"-mfpu={board.fpu}", *asm]


def _kib(size: int) -> str:
    return f"{size // 1024:,} KiB" if size % 1024 == 0 else f"{size:,} B"


def summary(board: Board) -> str:
    """One line for `tinyc boards`: core, FPU, clock, flash and RAM sizes, emulator, flash tool."""
    return (f"{board.name:16} {board.core:13} {board.fpu:12} {board.clock_hz / 1e6:5.0f} MHz  "
            f"flash {_kib(board.flash_size):>9}  RAM {_kib(board.ram_size):>9}  "
            f"qemu {board.qemu_machine or '-':11} flash with {board.flash_tool}")
