"""The model zoo (tests/zoo/, made by scripts/make_zoo.py): real exporters' output, its seeded inputs
and onnxruntime's outputs. Shared by tests/host/test_zoo.py and tests/qemu/test_zoo_qemu.py."""

from __future__ import annotations

import functools
import zlib
from pathlib import Path

import numpy as np
import onnx

from tests.conformance import max_error

ZOO_DIR = Path(__file__).parent / "zoo"
FILES = sorted(p.name for p in ZOO_DIR.glob("*.onnx"))
SAMPLES = 4
MAX_BYTES = 1_500_000



def path_of(name: str) -> Path:
    return ZOO_DIR / name


def feeds_of(name: str) -> dict[str, np.ndarray]:
    """SAMPLES seeded standard-normal inputs per graph input: {input: (SAMPLES, *shape)} float32."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    model = onnx.load(str(path_of(name)), load_external_data=False)
    inits = {i.name for i in model.graph.initializer}
    feeds = {}
    for vi in model.graph.input:
        if vi.name not in inits:
            shape = tuple(d.dim_value for d in vi.type.tensor_type.shape.dim)
            feeds[vi.name] = rng.standard_normal((SAMPLES, *shape)).astype(np.float32)
    return feeds


@functools.cache
def _session(name: str):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(str(path_of(name)), opts, providers=["CPUExecutionProvider"])


def reference(name: str, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """onnxruntime's outputs, sample by sample: {output: (SAMPLES, *shape)}."""
    sess = _session(name)
    names = [o.name for o in sess.get_outputs()]
    runs = [sess.run(names, {k: v[i] for k, v in feeds.items()}) for i in range(SAMPLES)]
    return {n: np.stack([r[k] for r in runs]) for k, n in enumerate(names)}


def worst_error(got: dict[str, np.ndarray], ref: dict[str, np.ndarray]) -> float:
    """The largest error, per sample, of |got - ref| / max(1, max|ref|) over every output."""
    assert set(got) == set(ref), (sorted(got), sorted(ref))
    return max(max_error(np.asarray(got[n][i]), ref[n][i]) for n in ref for i in range(SAMPLES))
