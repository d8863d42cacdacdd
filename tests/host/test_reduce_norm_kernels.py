"""The reductions, softmax variants and normalizations as host C (AddressSanitizer and
UndefinedBehaviorSanitizer on) against onnxruntime, on the seeded cases of tests/reduce_norm_cases.py."""

from __future__ import annotations

import pytest

from tests.conftest import need_tool
from tests.conformance import TOLERANCE, run_case
from tests.reduce_norm_cases import IDS, case

pytestmark = pytest.mark.host


@pytest.mark.parametrize("name", IDS)
def test_c_matches_onnxruntime(name):
    need_tool("cc")
    assert run_case(case(name), "host") <= TOLERANCE
