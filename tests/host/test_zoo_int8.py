"""Every model of the zoo in int8 (tests/zoo_int8.py): the host C (sanitizers on) equals the reference
interpreter bit for bit; a classifier picks onnxruntime's float class on at least 7 of 8 samples (frames,
for the per-frame BiLSTM); an autoencoder or U-Net is within 5 % relative RMS error of float.
`.venv/bin/python -m pytest -q -s tests/host/test_zoo_int8.py` prints the figures."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.zoo_int8 import (MAX_RELATIVE_RMS, MIN_AGREEMENT, REGRESSION, agreement, compiled, dequantized,
                            float_outputs, relative_rms, judged_inputs)
from tests.zoo_models import FILES
from tinyc import interpreter, runners


@pytest.mark.parametrize("name", FILES)
def test_zoo_model_in_int8_is_bit_exact_and_near_float(name):
    need_tool("cc")
    c = compiled(name)
    assert not c.graph.is_mixed, f"{name}: float32 layers left: {c.warnings}"
    feeds = judged_inputs(name)
    q_feeds = interpreter.feeds_for(c.graph, feeds)
    ref = interpreter.run_samples(c.graph, q_feeds)
    host = runners.run_host(c, q_feeds, sanitize=True)
    for out, expected in zip(c.graph.outputs, float_outputs(name, feeds)):
        assert np.array_equal(host[out], ref[out]), out
        got = dequantized(c, out, ref[out]).reshape(expected.shape)
        if name.startswith(REGRESSION):
            error = relative_rms(got, expected)
            print(f"{name}: bit-exact, relative RMS error {error:.4f}")
            assert error <= MAX_RELATIVE_RMS
        else:
            share = agreement(got, expected)
            print(f"{name}: bit-exact, class agreement {share:.3f}, relative RMS {relative_rms(got, expected):.4f}")
            assert share >= MIN_AGREEMENT
