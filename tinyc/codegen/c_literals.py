"""C literals and identifiers: the only way values and ONNX names reach generated C."""

from __future__ import annotations

import functools
import re

import numpy as np

from tinyc.errors import BadInput

C_TYPE_OF = {
    np.dtype(np.int8): "int8_t", np.dtype(np.uint8): "uint8_t",
    np.dtype(np.int16): "int16_t", np.dtype(np.uint16): "uint16_t",
    np.dtype(np.int32): "int32_t", np.dtype(np.uint32): "uint32_t",
    np.dtype(np.float32): "float",
}


def c_type(array: np.ndarray) -> str:
    assert array.dtype in C_TYPE_OF, f"no C type for numpy dtype {array.dtype}"
    return C_TYPE_OF[array.dtype]


def c_int(value: int) -> str:
    value = int(value)
    if not -(2**31) <= value < 2**32:  # a huge stride or dilation from a user's model, say
        raise BadInput(f"integer {value} is out of the 32-bit range of the generated C")
    if value == -(2**31):
        return "(-2147483647 - 1)"
    return str(value) + ("u" if value >= 2**31 else "")


def c_float(value: float) -> str:
    """%.9g keeps every float32 bit; always a valid float literal (infinity: math.h's HUGE_VALF)."""
    value = float(np.float32(value))
    if np.isinf(value):  # a clamp bound of -inf, say
        return "HUGE_VALF" if value > 0 else "(-HUGE_VALF)"
    if np.isnan(value):
        raise BadInput("NaN cannot be a constant of the generated C")
    text = "%.9g" % value
    if not any(ch in text for ch in ".e"):
        text += ".0"
    return text + "f"


def c_values(array: np.ndarray, per_line: int = 16) -> str:
    """The comma-separated initializer body of an array, `per_line` values a line."""
    return "".join(c_value_chunks(array, per_line))


# Values formatted per chunk: big enough to be fast, small enough that a 200 MB model never
# holds its weights as one string.
CHUNK = 1 << 16


def c_value_chunks(array: np.ndarray, per_line: int = 16):
    """c_values in pieces (a generator of strings), each CHUNK values at most, for streaming to a file.

    Formatting is vectorised: one %-format over a chunk gives the same text as c_float / c_int per value.
    """
    flat = np.ravel(array)
    if not flat.size:
        yield "0"
        return
    step = CHUNK - CHUNK % per_line
    for start in range(0, flat.size, step):
        part = flat[start:start + step]
        if start:
            yield ",\n    "
        yield _format_chunk(part, per_line)


def _format_chunk(part: np.ndarray, per_line: int) -> str:
    n = part.size
    if part.dtype == np.float32:
        if not np.isfinite(part).all():  # HUGE_VALF or an error: the rare slow path
            return _lines([c_float(v) for v in part.tolist()], per_line)
        # "%.9g" writes 2.0 as "2" where C needs "2.0": "%.1f" gives the same digits plus ".0"
        integral = (part == np.trunc(part)) & (np.abs(part) < 1e9)
        if integral.any():
            pattern = _lines(np.where(integral, "%.1ff", "%.9gf").tolist(), per_line)
        else:
            pattern = _pattern("%.9gf", n, per_line)
    else:
        if int(part.min()) <= -(2**31) or int(part.max()) >= 2**31:
            return _lines([c_int(v) for v in part.tolist()], per_line)
        pattern = _pattern("%d", n, per_line)
    return pattern % tuple(part.tolist())


def _lines(items: list[str], per_line: int) -> str:
    return ",\n    ".join(", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line))


@functools.lru_cache(maxsize=16)
def _pattern(fmt: str, n: int, per_line: int) -> str:
    return _lines([fmt] * n, per_line)


def c_comment(text: str) -> str:
    """Text safe inside /* */: no comment terminator, no line breaks, printable ASCII only."""
    text = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)
    return text.replace("*/", "* /").replace("/*", "/ *")


class Namer:
    """Turns arbitrary names into unique C identifiers with a prefix, deterministically."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.names: dict[str, str] = {}
        self.taken: set[str] = set()

    def __call__(self, name: str) -> str:
        if name not in self.names:
            base = self.prefix + (re.sub(r"[^A-Za-z0-9_]", "_", name).strip("_")[:48] or "t")
            ident, i = base, 1
            while ident in self.taken:
                ident, i = f"{base}_{i}", i + 1
            self.taken.add(ident)
            self.names[name] = ident
        return self.names[name]


def c_ident(name: str) -> str:
    """A valid C identifier (not prefixed) from a model file stem or user --name."""
    ident = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not ident or ident[0].isdigit():
        ident = "m_" + ident
    return ident
