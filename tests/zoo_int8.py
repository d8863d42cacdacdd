"""The zoo in int8: each file calibrated on seeded random inputs and judged on others against
onnxruntime's float run of the same file. Shared by tests/host/test_zoo_int8.py and
tests/qemu/test_zoo_int8_qemu.py."""

from __future__ import annotations

import functools
import zlib

import numpy as np

from tests.zoo_models import _session, feeds_of, path_of
from tinyc import pipeline

CALIB_SAMPLES = 16
TEST_SAMPLES = 8
MAX_RELATIVE_RMS = 0.05  # autoencoders and U-Nets: the bound
MIN_AGREEMENT = 7 / 8  # classifiers: int8 picks the float class on at least 7 of every 8 samples (or frames)
REGRESSION = ("autoencoder_", "unet_")


def _random(name: str, salt: str, count: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(zlib.crc32((name + salt).encode()))
    return {k: rng.standard_normal((count, *v.shape[1:])).astype(np.float32) for k, v in feeds_of(name).items()}


@functools.cache
def compiled(name: str, board: str | None = None) -> pipeline.Compiled:
    """The zoo file in int8; with a board, compiled for it (a Helium board's kernels and weight layouts)."""
    return pipeline.build(path_of(name), pipeline.Options(dtype="int8", name="model", board=board,
                                                          calib=_random(name, "calib", CALIB_SAMPLES)))


def judged_inputs(name: str) -> dict[str, np.ndarray]:
    return _random(name, "test", TEST_SAMPLES)


def float_outputs(name: str, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    sess = _session(name)
    runs = [sess.run(None, {k: v[i] for k, v in feeds.items()}) for i in range(TEST_SAMPLES)]
    return [np.stack([r[j] for r in runs]) for j in range(len(runs[0]))]


def dequantized(c: pipeline.Compiled, out: str, y: np.ndarray) -> np.ndarray:
    q = c.graph.tensors[out].q
    return (y.astype(np.float64) - q.zero_point[0]) * q.scale[0]


def relative_rms(got: np.ndarray, expected: np.ndarray) -> float:
    e = expected.astype(np.float64)
    return float(np.sqrt(np.mean((got - e) ** 2)) / np.sqrt(np.mean(e ** 2)))


def agreement(got: np.ndarray, expected: np.ndarray) -> float:
    """Share of samples (or frames, for a per-frame classifier) whose argmax over the last axis agrees."""
    return float(np.mean(np.argmax(got, axis=-1) == np.argmax(expected, axis=-1)))
