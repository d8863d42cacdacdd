"""Activation ranges for int8: run the float graph on the calibration samples and choose each tensor's range.

Three methods (`--calibration`), all per tensor, all streaming: the interpreter runs one sample at a time and
only small per-tensor summaries are kept, never every value of every sample.

- minmax: the smallest and largest value seen. One pass.
- percentile: the PERCENTILE-th percentile of each tail separately (lo at 100 - PERCENTILE, hi at PERCENTILE),
  as numpy's default (linear) np.quantile of all the tensor's values would give it. Each tail, not |x|: the
  int8 scheme is asymmetric, and a ReLU output has one tail only; a range symmetric in |x| would waste half
  its codes there. Exact with little memory: a tail quantile only needs the largest (smallest) few values,
  2 + 0.01 % of them, kept as a running top-k. One pass.
- mse: the range whose int8 grid (choose_qparams' asymmetric rule) gives the least mean squared error,
  rounding plus clipping, over the tensor's values. A first pass finds (min, max); a second fills a
  HISTOGRAM_BINS-bin histogram over it; every pair of shrink factors (FACTORS x FACTORS: lo and hi move
  towards 0 independently, so a one-sided heavy tail is clipped on its own side) is scored on the histogram's
  bin centres (rounding error step**2 / 12 inside the grid, the distance squared outside). (1, 1) is minmax
  itself, so mse never scores worse than minmax by that measure. The histogram is of fixed size, whatever the
  number of samples.
"""

from __future__ import annotations

import numpy as np

from tinyc import interpreter
from tinyc.errors import BadInput
from tinyc.ir import Graph

METHODS = ("minmax", "percentile", "mse")
DEFAULT = "minmax"
PERCENTILE = 99.99
HISTOGRAM_BINS = 2048
FACTORS = np.linspace(1.0, 0.02, 50)  # candidate shrink factors of each end of the (min, max) range

Ranges = dict[str, tuple[float, float]]


def check_method(method: str) -> None:
    if method not in METHODS:
        raise BadInput(f"--calibration {method!r}: choose {', '.join(METHODS[:-1])} or {METHODS[-1]}")


def calibrate(g: Graph, samples: dict[str, np.ndarray], method: str = DEFAULT) -> Ranges:
    """(lo, hi) of every activation of float graph g, by `method`, over the samples (leading sample axis)."""
    check_method(method)
    watched = g.copy()
    watched.outputs = [n for n, t in g.tensors.items() if not t.is_const and n]
    extremes = _minmax(_values(watched, samples))
    if method == "minmax":
        ranges = extremes
    elif method == "percentile":
        ranges = _percentile(watched, samples, extremes)
    else:
        ranges = _mse(watched, samples, extremes)
    for name, (lo, hi) in ranges.items():
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise BadInput(f"tensor {name!r}: calibration gives values in [{lo}, {hi}]; int8 needs a finite range "
                           "(the float model overflows or makes NaN on these inputs)")
    return ranges


def _values(watched: Graph, samples: dict[str, np.ndarray]):
    """Per sample, {tensor: its float64 values, flat}; an empty tensor or a mask gives an empty array."""
    count = len(next(iter(samples.values())))
    for i in range(count):
        values = interpreter.run(watched, {k: v[i] for k, v in samples.items()})
        yield {name: (v.ravel().astype(np.float64) if v.size and v.dtype.kind in "fiu" else np.zeros(0))
               for name, v in values.items()}


def _minmax(per_sample) -> Ranges:
    ranges: Ranges = {}
    for values in per_sample:
        for name, v in values.items():
            lo, hi = (float(v.min()), float(v.max())) if v.size else (0.0, 0.0)
            old = ranges.get(name, (lo, hi))
            ranges[name] = (min(old[0], lo), max(old[1], hi))
    return ranges


def _percentile(watched: Graph, samples: dict[str, np.ndarray], extremes: Ranges) -> Ranges:
    """Each tail's percentile, exactly as np.quantile of all values, from running top-k and bottom-k."""
    count = len(next(iter(samples.values())))
    sizes = {n: watched.tensors[n].size * count for n in extremes}
    q = PERCENTILE / 100.0
    keep = {n: min(total, int((1.0 - q) * total) + 2) for n, total in sizes.items()}
    top: dict[str, np.ndarray] = {}
    bottom: dict[str, np.ndarray] = {}
    for values in _values(watched, samples):
        for name, v in values.items():
            if not v.size:
                continue
            k = keep[name]
            t = np.concatenate([top.get(name, v[:0]), v])
            b = np.concatenate([bottom.get(name, v[:0]), v])
            top[name] = t if len(t) <= k else np.partition(t, len(t) - k)[len(t) - k:]
            bottom[name] = b if len(b) <= k else np.partition(b, k - 1)[:k]
    ranges = dict(extremes)
    for name in top:
        n = sizes[name]
        ranges[name] = (_order_stat(np.sort(bottom[name]), (1.0 - q) * (n - 1)),
                        -_order_stat(np.sort(-top[name]), (1.0 - q) * (n - 1)))
    return ranges


def _order_stat(ascending: np.ndarray, position: float) -> float:
    """The value at fractional rank `position` (0 = first) by linear interpolation, as np.quantile."""
    i = int(np.floor(position))
    j = min(i + 1, len(ascending) - 1)
    return float(ascending[i] + (position - i) * (ascending[j] - ascending[i]))


def _mse(watched: Graph, samples: dict[str, np.ndarray], extremes: Ranges) -> Ranges:
    histograms = {n: np.zeros(HISTOGRAM_BINS, np.int64) for n in extremes}
    for values in _values(watched, samples):
        for name, v in values.items():
            lo, hi = extremes[name]
            if v.size and hi > lo:
                histograms[name] += np.histogram(v, HISTOGRAM_BINS, (lo, hi))[0]
    ranges = dict(extremes)
    for name, (lo, hi) in extremes.items():
        if hi > lo:
            ranges[name] = best_range(histograms[name], lo, hi)
    return ranges


def best_range(counts: np.ndarray, lo: float, hi: float) -> tuple[float, float]:
    """The (lo', hi') among the shrunk candidates whose int8 grid has the least squared error on the histogram
    `counts` of values over [lo, hi], each bin's values taken at its centre: a value inside the grid costs the
    rounding error of a uniform grid, step**2 / 12 (the centre itself would alias with the grid when a bin is
    wider than a step), a value outside it its distance to the nearer end, squared."""
    edges = np.linspace(lo, hi, len(counts) + 1)
    used = counts > 0
    x, w = ((edges[:-1] + edges[1:]) / 2)[used], counts[used].astype(np.float64)
    lo0, hi0 = min(lo, 0.0), max(hi, 0.0)  # choose_qparams widens the range to hold 0
    best, best_err = (lo, hi), np.inf
    his = hi0 * FACTORS
    for f in FACTORS:
        cand_lo = lo0 * f
        step = np.maximum(his - cand_lo, 1e-12) / 255.0  # one candidate hi per row
        clipped = np.maximum(x[None, :] - his[:, None], 0.0) + np.maximum(cand_lo - x[None, :], 0.0)
        inside = clipped == 0.0
        err = (np.where(inside, step[:, None] ** 2 / 12.0, clipped ** 2)) @ w
        k = int(np.argmin(err))
        if err[k] < best_err * (1 - 1e-12):  # a smaller range only when clearly better
            best, best_err = (cand_lo if lo < 0 else lo, his[k] if hi > 0 else hi), err[k]
    return float(best[0]), float(best[1])
