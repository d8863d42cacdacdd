"""The zoo's autoencoders (ConvTranspose) and U-Nets (nearest and bilinear Resize) in int8, calibrated on
seeded random inputs: the host C (sanitizers on) equals the reference interpreter bit for bit, and the
dequantized output is within 5 % relative RMS error of onnxruntime's float run of the same file.
Figures: `.venv/bin/python -m pytest -q -s tests/host/test_zoo_int8_spatial.py` prints them."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.zoo_models import FILES, feeds_of, path_of, reference
from tinyc import interpreter, pipeline, runners

pytestmark = pytest.mark.host

MODELS = [f for f in FILES if f.startswith(("autoencoder_", "unet_"))]
CALIB_SAMPLES = 16
MAX_RELATIVE_RMS = 0.05


def relative_rms(got: np.ndarray, expected: np.ndarray) -> float:
    """RMS of got - expected over RMS of expected."""
    e = expected.astype(np.float64)
    return float(np.sqrt(np.mean((got - e) ** 2)) / np.sqrt(np.mean(e ** 2)))


def test_the_spatial_zoo_is_there():
    assert len(MODELS) == 6, MODELS


@pytest.mark.parametrize("name", MODELS)
def test_zoo_model_in_int8_is_bit_exact_and_near_float(name):
    need_tool("cc")
    feeds = feeds_of(name)
    rng = np.random.default_rng(1)  # calibration: standard normal like the test inputs, other samples
    calib = {k: rng.standard_normal((CALIB_SAMPLES, *v.shape[1:])).astype(np.float32) for k, v in feeds.items()}
    compiled = pipeline.build(path_of(name), pipeline.Options(dtype="int8", calib=calib, name="model"))
    g = compiled.graph
    q_feeds = interpreter.feeds_for(g, feeds)
    ref = interpreter.run_samples(g, q_feeds)
    host = runners.run_host(compiled, q_feeds, sanitize=True)
    expected = reference(name, feeds)
    assert list(expected) == g.outputs
    for out in g.outputs:
        assert np.array_equal(host[out], ref[out]), out
        q = g.tensors[out].q
        error = relative_rms((ref[out].astype(np.float64) - q.zero_point[0]) * q.scale[0], expected[out])
        print(f"{name} {out}: bit-exact, relative RMS error {error:.4f}")
        assert error <= MAX_RELATIVE_RMS
