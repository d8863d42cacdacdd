"""The model zoo (tests/zoo/): every file compiles float32 and its host C (AddressSanitizer and
UndefinedBehaviorSanitizer on) matches onnxruntime on seeded random inputs."""

from __future__ import annotations

import pytest

from tests.conformance import TOLERANCE
from tests.conftest import need_tool
from tests.zoo_models import FILES, MAX_BYTES, feeds_of, path_of, reference, worst_error
from tinyc import pipeline, runners



def test_zoo_is_there_and_small():
    assert len(FILES) >= 30, FILES
    for name in FILES:
        assert path_of(name).stat().st_size < MAX_BYTES, name


@pytest.mark.parametrize("name", FILES)
def test_zoo_model_matches_onnxruntime(name):
    need_tool("cc")
    compiled = pipeline.build(path_of(name), pipeline.Options(dtype="float32", name="model"))
    feeds = feeds_of(name)
    got = runners.run_host(compiled, feeds, sanitize=True)
    error = worst_error(got, reference(name, feeds))
    print(f"{name}: max error {error:.2e}")
    assert error <= TOLERANCE
