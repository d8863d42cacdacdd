"""Requantization and multiplier edge cases, against an independent big-integer oracle."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinyc import quant

# (acc, multiplier, shift): rounding ties, saturation, shift extremes, negative values.
EDGE_TABLE = [
    (0, 1 << 30, 0), (1, 1 << 30, 0), (-1, 1 << 30, 0), (3, 1 << 30, 0), (-3, 1 << 30, 0),
    (5, 1 << 30, -1), (-5, 1 << 30, -1), (6, 1 << 30, -2), (-6, 1 << 30, -2), (2, 1 << 30, -1),
    (-2, 1 << 30, -1), (2**31 - 1, 2**31 - 1, 0), (-(2**31), 2**31 - 1, 0), (-(2**31), 1 << 30, 0),
    (123456, 1518500250, -31), (-123456, 1518500250, -31), (2**31 - 1, 1 << 30, -31),
    (1000, 1 << 30, 30), (-1000, 1 << 30, 30), (70000, 2**31 - 1, 15), (-70000, 2**31 - 1, 15),
    (12345, 0, 0), (-77, 1876543210, 3), (99, 1073741824, -5), (-99, 1073741824, -5),
    (255, 1431655765, -7), (-255, 1431655765, -7), (2**20, 1500000000, -20), (-(2**20), 1500000000, -20),
]


def oracle(acc: int, multiplier: int, shift: int) -> int:
    """gemmlowp's definitions, step by step, in Python integers."""
    x = acc * 2 ** max(shift, 0)
    x = max(min(x, 2**31 - 1), -(2**31))
    if x == -(2**31) and multiplier == -(2**31):
        high = 2**31 - 1
    else:
        ab = x * multiplier
        nudge = 2**30 if ab >= 0 else 1 - 2**30
        high = int((ab + nudge) / 2**31) if abs(ab + nudge) < 2**52 else _trunc_div(ab + nudge, 2**31)
    exponent = max(-shift, 0)
    mask = 2**exponent - 1
    remainder = high & mask
    threshold = (mask >> 1) + (1 if high < 0 else 0)
    return (high >> exponent) + (1 if remainder > threshold else 0)


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // b
    return q if a >= 0 else -q


@pytest.mark.parametrize("acc,multiplier,shift", EDGE_TABLE)
def test_requantize_matches_gemmlowp_definition(acc, multiplier, shift):
    assert int(quant.requantize(np.array([acc]), multiplier, shift)[0]) == oracle(acc, multiplier, shift)


def test_requantize_on_random_values_matches_oracle():
    rng = np.random.default_rng(3)
    acc = rng.integers(-(2**31), 2**31, 2000)
    mult = rng.integers(1 << 30, 2**31, 2000)
    shift = rng.integers(-31, 8, 2000)
    got = quant.requantize(acc, mult, shift)
    assert [int(v) for v in got] == [oracle(int(a), int(m), int(s)) for a, m, s in zip(acc, mult, shift)]


def test_requantize_rounds_ties_away_from_zero_twice_as_tflite_does():
    # multiplier 2^30 with shift -1 is x * 0.25: 2/4 -> 1 and -2/4 -> -1, 6/4 -> 2.
    # 1/4 shows TFLite's double rounding: the high multiply gives round(0.5) = 1, then 1/2 -> 1;
    # -1/4 gives -0.5 -> 0 in the multiply (its nudge is asymmetric), then 0.
    got = quant.requantize(np.array([2, -2, 6, -6, 1, -1]), 1 << 30, -1)
    assert got.tolist() == [1, -1, 2, -2, 1, 0]


@pytest.mark.parametrize("real,expected", [
    (1.0, (1 << 30, 1)), (0.5, (1 << 30, 0)), (0.75, (1610612736, 0)), (0.0, (0, 0)),
    (2.0**-31, (1 << 30, -30)), (2.0**-33, (0, 0)), (1e-12, (0, 0)),
])
def test_quantize_multiplier_edges(real, expected):
    assert quant.quantize_multiplier(real) == expected


def test_quantize_multiplier_reconstructs_the_real_value():
    for real in np.geomspace(1e-9, 100, 200):
        m, s = quant.quantize_multiplier(float(real))
        assert (1 << 30) <= m < (1 << 31)
        assert math.isclose(m * 2.0 ** (s - 31), real, rel_tol=2**-30)


def test_mantissa_rounding_up_to_two_pow_31_moves_to_the_next_exponent():
    m, s = quant.quantize_multiplier(1.0 - 2.0**-40)
    assert (m, s) == (1 << 30, 1)


def test_choose_qparams_includes_zero_and_maps_bounds():
    q = quant.choose_qparams(0.5, 2.0)  # widened to [0, 2]
    assert q.zero_point[0] == -128
    assert quant.quantize_array(np.array([0.0, 2.0]), q).tolist() == [-128, 127]


def test_quantize_array_rounds_half_away_and_saturates():
    q = quant.choose_qparams(-1.0, 1.0)
    q.scale[0], q.zero_point[0] = 1.0, 0
    assert quant.quantize_array(np.array([0.5, -0.5, 1.5, -2.5, 300, -300]), q).tolist() == [1, -1, 2, -3, 127, -128]


def test_per_channel_weights_are_symmetric_and_use_full_range():
    w = np.array([[0.5, -1.0], [0.0, 0.0], [2.0, 1.0]], np.float32)
    q, params = quant.quantize_weights_per_channel(w, axis=0)
    assert q.tolist() == [[64, -127], [0, 0], [127, 64]]
    assert not params.zero_point.any()


@pytest.mark.parametrize("real", [math.pi / 8, 1 / math.e, math.sqrt(2) / 20, 2.0**-9.5, math.e / 4000])
def test_once_multipliers_round_the_product_once(real):
    """Under requantization("once") (files onnxruntime quantized) the product acc x real is rounded once: it
    equals round half away from zero of the exact product, where TFLite's normalized multiplier, shifted right
    after the high multiply, rounds some products up a step (those within 2^(shift-1) below a half)."""
    acc = np.arange(-40000, 40000, 7, dtype=np.int64)
    exact = quant.round_half_away(acc * real)
    with quant.requantization("once"):
        m, s = quant.quantize_multiplier(real)
    assert s == 0 and m >= 1 << quant.ONCE_BITS
    assert np.mean(quant.requantize(acc, m, s) == exact) > 0.9999
    tm, ts = quant.quantize_multiplier(real)  # the default: TFLite's
    assert ts < 0 and np.mean(quant.requantize(acc, tm, ts) == exact) < 0.9999


def test_once_keeps_tflite_multipliers_outside_its_range():
    with quant.requantization("once"):
        for real in (2.0**-12, 1e-7, 0.75, 3.0):
            m, s = quant.quantize_multiplier(real)
            with quant.requantization("tflite"):
                assert (m, s) == quant.quantize_multiplier(real)
