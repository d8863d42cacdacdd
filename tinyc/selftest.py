"""The self-test a board's firmware carries (`--selftest IN.npz`): samples in the generated code's own
types and the outputs the reference interpreter gives for them, both embedded in flash; and the
model fingerprint that `verify --port` checks the firmware against.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from tinyc import interpreter
from tinyc.ir import Graph

# float32 outputs agree within this x max(1, max|output|), as `verify` asks: float32 C sums in another
# order than the float64 reference, and libm differs between hosts
FLOAT_TOLERANCE = 1e-4
# int8 outputs of a mixed-precision model (float32 layers inside) agree within this many quantization steps:
# a float32 layer's C and numpy may differ in the last bit (summation order, libm), which can move one
# rounding at its `quantize` boundary by a step; the int8 layers after it carry that step on
MIXED_STEPS = 2


@dataclass
class Selftest:
    feeds: dict[str, np.ndarray]  # by input name, leading sample axis, as the generated code takes them
    expected: dict[str, np.ndarray]  # by output name, what the reference interpreter gives

    @property
    def count(self) -> int:
        return len(next(iter(self.feeds.values())))

    @property
    def bytes(self) -> int:
        """Flash the embedded samples and expected outputs take."""
        return sum(a.nbytes for a in (*self.feeds.values(), *self.expected.values()))


def prepare(g: Graph, samples: dict[str, np.ndarray]) -> Selftest:
    """samples: float32 inputs with a leading sample axis (the model's own units)."""
    feeds = interpreter.feeds_for(g, samples)
    return Selftest(feeds, interpreter.run_samples(g, feeds))


def tolerance(expected: np.ndarray) -> float:
    """The largest difference a float32 output may show from the reference."""
    return FLOAT_TOLERANCE * max(1.0, float(np.abs(expected).max())) if expected.size else 0.0


def fingerprint(g: Graph) -> int:
    """CRC-32 of what the generated code computes: the ops in order, their attributes, the constants,
    the input and output shapes and types. A firmware answers with it; `verify --port` compares."""
    crc = 0
    for name in (*g.inputs, *g.outputs):
        t = g.tensors[name]
        crc = zlib.crc32(f"{name}:{t.dtype}:{t.shape}".encode(), crc)
    for node in g.nodes:
        crc = zlib.crc32(f"{node.op}:{node.inputs}:{node.outputs}".encode(), crc)
        crc = _crc_of(node.attrs, crc)
    for name in sorted(n for n, t in g.tensors.items() if t.is_const):
        crc = zlib.crc32(np.ascontiguousarray(g.tensors[name].data).tobytes(), crc)
    return crc


def _crc_of(value, crc: int) -> int:
    """Attributes: arrays by their bytes (their repr elides), containers item by item."""
    if isinstance(value, np.ndarray):
        return zlib.crc32(np.ascontiguousarray(value).tobytes(), zlib.crc32(str(value.dtype).encode(), crc))
    if isinstance(value, dict):
        for key in sorted(value, key=str):
            crc = _crc_of(value[key], zlib.crc32(str(key).encode(), crc))
        return crc
    if isinstance(value, (list, tuple)):
        for item in value:
            crc = _crc_of(item, crc)
        return crc
    return zlib.crc32(repr(value).encode(), crc)
