"""The onnx package's node cases (tests/conformance.py) in int8, each calibrated on its own inputs: the host
C (ASan/UBSan) equals the reference interpreter bit for bit, and the output is within the stated number of
output quantization steps of the case's expected output (INT8_STEPS, or the op's or case's own bound with its
reason). A case whose op has no int8 form in its configuration runs that op in float32 inside the int8 model
(mixed precision); those are listed in tests/conformance_int8_float.txt, so that none slips into float unseen.
Cases that cannot be int8 at all fail with one error line (tests/conformance_int8_todo.txt)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import need_tool
from tests.conformance import all_cases, int8_bound, run_case_int8
from tinyc.errors import TinycError

HERE = Path(__file__).parent.parent


def _names(file: str) -> set[str]:
    return {line.split()[0] for line in (HERE / file).read_text().splitlines()
            if line.strip() and not line.startswith("#")}


FLOAT_TODO = _names("conformance_todo.txt")
IN_FLOAT = _names("conformance_int8_float.txt")
INT8_TODO = _names("conformance_int8_todo.txt")
CASES = sorted(name for name, case in all_cases().items() if not case.skip and name not in FLOAT_TODO)


@pytest.fixture(autouse=True)
def _cc():
    need_tool("cc")


@pytest.mark.parametrize("name", CASES)
def test_node_case_in_int8(name):
    case = all_cases()[name]
    if name in INT8_TODO:
        with pytest.raises(TinycError) as e:
            run_case_int8(case)
        assert "\n" not in str(e.value), "a user error is one line"
        return
    steps, exact, in_float = run_case_int8(case)
    assert in_float == (name in IN_FLOAT), "runs in float32" if in_float else "now runs in int8: update the list"
    assert steps <= int8_bound(case), f"{steps:.2f} output steps from the expected output"
    if not in_float:
        assert exact, "host C differs from the reference"


def test_lists_name_real_cases():
    assert (IN_FLOAT | INT8_TODO) <= set(CASES), sorted((IN_FLOAT | INT8_TODO) - set(CASES))
