"""int8 max, min, where, div, pow and softmax on any axis as host C (AddressSanitizer and
UndefinedBehaviorSanitizer on): bit for bit the reference, on the cases' samples and the whole int8 range."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.int8_op_cases import CASES, compile_int8
from tinyc import interpreter, runners

pytestmark = pytest.mark.host


def int8_feeds(compiled, x: dict) -> dict:
    """The samples as int8, then 8 random int8 inputs over the whole range (saturation, zero divisors)."""
    feeds = runners.feeds_for(compiled.graph, x)
    rng = np.random.default_rng(9)
    for n in compiled.graph.inputs:
        extra = rng.integers(-128, 128, (8, *compiled.graph.tensors[n].shape), dtype=np.int8)
        feeds[n] = np.concatenate([feeds[n], extra])
    return feeds


@pytest.mark.parametrize("name", sorted(CASES))
def test_int8_c_equals_reference(name, tmp_path):
    need_tool("cc")
    compiled, _, x = compile_int8(name, tmp_path)
    feeds = int8_feeds(compiled, x)
    ref = interpreter.run_samples(compiled.graph, feeds)
    host = runners.run_host(compiled, feeds, sanitize=True)
    for out in compiled.graph.outputs:
        assert np.array_equal(ref[out], host[out]), f"{np.sum(ref[out] != host[out])} values differ"
