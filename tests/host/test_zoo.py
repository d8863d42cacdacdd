"""The model zoo (tests/zoo/): every file compiles float32 and its host C (AddressSanitizer and
UndefinedBehaviorSanitizer on) matches onnxruntime on seeded random inputs, or it is listed in
ZOO_TODO and fails with a one-line TinycError (never a traceback)."""

from __future__ import annotations

import pytest

from tests.conformance import TOLERANCE
from tests.conftest import need_tool
from tests.zoo_models import FILES, MAX_BYTES, feeds_of, path_of, reference, worst_error
from tinyc import pipeline, runners
from tinyc.errors import TinycError

# Files that do not compile yet, each with the error it gives today: none since the coverage work landed.
ZOO_TODO: set[str] = set()
COMPILING = [f for f in FILES if f not in ZOO_TODO]


def test_zoo_is_there_and_small():
    assert len(FILES) >= 30, FILES
    assert ZOO_TODO <= set(FILES), sorted(ZOO_TODO - set(FILES))
    for name in FILES:
        assert path_of(name).stat().st_size < MAX_BYTES, name


@pytest.mark.parametrize("name", COMPILING)
def test_zoo_model_matches_onnxruntime(name):
    need_tool("cc")
    compiled = pipeline.build(path_of(name), pipeline.Options(dtype="float32", name="model"))
    feeds = feeds_of(name)
    got = runners.run_host(compiled, feeds, sanitize=True)
    error = worst_error(got, reference(name, feeds))
    print(f"{name}: max error {error:.2e}")
    assert error <= TOLERANCE


@pytest.mark.parametrize("name", sorted(ZOO_TODO))
def test_zoo_todo_fails_with_one_line(name):
    with pytest.raises(TinycError) as e:
        pipeline.build(path_of(name), pipeline.Options(dtype="float32", name="model"))
    assert "\n" not in str(e.value), "a user error is one line"
