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

# Files that do not compile yet, each with the error it gives today (ops being added under issue 10).
ZOO_TODO = {
    # 2 unsupported node(s): '/decoder/decoder.0/ConvTranspose' (ConvTranspose), ... (ConvTranspose)
    "autoencoder_classic13.onnx",
    "autoencoder_classic17.onnx",
    # 2 unsupported node(s): 'node_convolution' (ConvTranspose), 'node_convolution_1' (ConvTranspose)
    "autoencoder_dynamo18.onnx",
    # node '/lstm/LSTM' (LSTM): only direction='forward' is supported
    "bilstm_classic13.onnx",
    "bilstm_classic17.onnx",
    # node 'node_lstm__2' (LSTM): only direction='forward' is supported
    "bilstm_dynamo18.onnx",
    # node '/Gather' (Gather): only supported when every input is constant (out[:, -1] of the GRU output)
    "gru_classic13.onnx",
    "gru_classic17.onnx",
    # node 'node_select' (Gather): only supported when every input is constant
    "gru_dynamo18.onnx",
    # 15 unsupported node(s): ReduceMean (LayerNorm, mean pooling), Mod (attention head shape), Erf (GELU)
    "kwt_classic13.onnx",
    # 10 unsupported node(s): LayerNormalization, Mod, Erf, ReduceMean
    "kwt_classic17.onnx",
    # 8 unsupported node(s): LayerNormalization, Erf, ReduceMean ('node_mean_1')
    "kwt_dynamo18.onnx",
    # 1 unsupported node(s): 'node_mean' (ReduceMean) (adaptive average pool)
    "mobilenetv2_dynamo18.onnx",
    # 3 unsupported node(s): 'node_mean' (ReduceMean), 'node_mean_1' (ReduceMean), 'node_mean_2' (ReduceMean)
    "mobilenetv3_dynamo18.onnx",
    # 1 unsupported node(s): 'node_mean' (ReduceMean)
    "resnet_dynamo18.onnx",
    # node '/Gather' (Gather): only supported when every input is constant (x[:, :, -1])
    "tcn_classic13.onnx",
    "tcn_classic17.onnx",
    # node 'node_select' (Gather): only supported when every input is constant
    "tcn_dynamo18.onnx",
    # 2 unsupported node(s): '/Resize' (Resize), '/Resize_1' (Resize)
    "unet_classic13.onnx",
    "unet_classic17.onnx",
    # 2 unsupported node(s): 'node_upsample_nearest2d' (Resize), 'node_upsample_bilinear2d' (Resize)
    "unet_dynamo18.onnx",
}
COMPILING = [f for f in FILES if f not in ZOO_TODO]


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
