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
    # 15 unsupported node(s): 11 ReduceMean (LayerNorm decomposed, mean over tokens), 2 Erf (GELU),
    # 1 Mod (shape arithmetic of nn.MultiheadAttention, constant inputs), 1 Split (q, k, v of an activation)
    "kwt_classic13.onnx",
    # 10 unsupported node(s): 5 LayerNormalization, 2 Erf, 1 Mod, 1 Split, 1 ReduceMean
    "kwt_classic17.onnx",
    # 8 unsupported node(s): 5 LayerNormalization, 2 Erf, 1 ReduceMean ('node_mean_1')
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
