"""Seeded mutants of the example models (tests/fuzzing.py): each is rejected with a one-line TinycError or
compiles (int8 and float32); a traceback is a failure that prints the mutant's seed.

scripts/fuzz.py runs the long campaign, building and running every generated folder under ASan/UBSan.
"""

from __future__ import annotations

import warnings

import pytest

from tests import fuzzing

COUNT = 500


def test_mutants_are_rejected_cleanly_or_compile(tmp_path):
    failures = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy's overflow warnings on mutated weights are expected
        outcomes = [fuzzing.check(seed, tmp_path) for seed in range(COUNT)]
    for o in outcomes:
        if o.failure:
            failures.append(f"seed {o.seed} ({o.what}):\n{o.failure}")
    compiled = sum(bool(o.compiled) for o in outcomes)
    if failures:
        pytest.fail(f"{len(failures)} of {COUNT} mutants crashed:\n\n" + "\n\n".join(failures[:5]))
    assert compiled >= COUNT // 20, f"only {compiled} mutants compiled: the mutations no longer reach the compiler"
