"""RNN, GRU and LSTM forms beyond the int8 ones, float32 C (ASan/UBSan) and the reference interpreter
against onnxruntime: bidirectional and reverse, batch > 1, layout=1, initial states, LSTM peepholes,
clip and non-default activations; the int8 error for a float-only form."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.conformance import max_error
from tests.conftest import need_tool
from tests.onnx_cases import with_output_shapes
from tinyc import pipeline, runners
from tinyc.errors import UnsupportedOp

pytestmark = pytest.mark.host
GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}

# (op, T, B, I, H, attrs, with B/initial states/peepholes)
LAYERS = [
    ("LSTM", 4, 3, 5, 3, {"direction": "bidirectional"}, True),
    ("LSTM", 3, 2, 4, 5, {"direction": "reverse", "clip": 0.7, "input_forget": 1}, True),
    ("LSTM", 3, 2, 3, 4, {"layout": 1, "activations": ["HardSigmoid", "Tanh", "Softsign"],
                          "activation_alpha": [0.3], "activation_beta": [0.4]}, True),
    ("GRU", 5, 2, 3, 4, {"direction": "bidirectional", "linear_before_reset": 1}, True),
    ("GRU", 3, 3, 2, 5, {"direction": "reverse", "activations": ["Sigmoid", "LeakyRelu"],
                         "activation_alpha": [0.2]}, False),
    ("GRU", 2, 2, 3, 3, {"layout": 1, "clip": 0.5}, True),
    ("RNN", 4, 2, 3, 4, {"direction": "bidirectional", "activations": ["Relu", "Tanh"]}, True),
    ("RNN", 3, 1, 2, 3, {"layout": 1, "direction": "reverse"}, True),
    ("RNN", 3, 2, 2, 3, {"activations": ["Elu"], "activation_alpha": [0.5]}, False),
]


def _model(layers, seed: int = 0, batch_major: bool = True) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    """The layers as one model; batch_major=False writes layout=1 layers as layout 0 (onnxruntime's CPU
    kernels have no layout=1) with the same numbers, transposed."""
    rng = np.random.default_rng(seed)
    nodes, inputs, outputs, inits, feeds = [], [], [], [], {}
    for k, (op, t, batch, i, h, attrs, full) in enumerate(layers):
        d = 2 if attrs.get("direction") == "bidirectional" else 1
        g = GATES[op]
        layout = attrs.get("layout", 0)
        if not batch_major:
            attrs, layout = {a: v for a, v in attrs.items() if a != "layout"}, 0
        consts = {"W": rng.uniform(-1, 1, (d, g * h, i)), "R": rng.uniform(-1, 1, (d, g * h, h))}
        names = [f"x{k}", f"W{k}", f"R{k}"]
        if full:
            consts.update({"B": rng.uniform(-1, 1, (d, 2 * g * h)), "h0": rng.uniform(-1, 1, (d, batch, h))})
            names += [f"B{k}", "", f"h0{k}"]
            if op == "LSTM":
                consts.update({"c0": rng.uniform(-1, 1, (d, batch, h)), "P": rng.uniform(-1, 1, (d, 3 * h))})
                names += [f"c0{k}", f"P{k}"]
            for key in ("h0", "c0"):
                if layout and key in consts:
                    consts[key] = consts[key].transpose(1, 0, 2)
        for key, value in consts.items():
            inits.append(numpy_helper.from_array(value.astype(np.float32), f"{key}{k}"))
        x = rng.uniform(-2, 2, (t, batch, i)).astype(np.float32)
        feeds[f"x{k}"] = np.ascontiguousarray(x.transpose(1, 0, 2)) if layout else x
        inputs.append(helper.make_tensor_value_info(f"x{k}", TensorProto.FLOAT, list(feeds[f"x{k}"].shape)))
        outs = [f"y{k}", f"yh{k}"] + ([f"yc{k}"] if op == "LSTM" else [])
        outputs += [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outs]
        nodes.append(helper.make_node(op, names, outs, name=f"n{k}", hidden_size=h, **attrs))
    model = helper.make_model(helper.make_graph(nodes, "g", inputs, outputs, inits),
                              opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    return with_output_shapes(model), feeds


def _build(model: onnx.ModelProto, tmp: str, dtype: str = "float32", calib=None):
    path = Path(tmp) / "m.onnx"
    onnx.save(model, path)
    return pipeline.build(path, pipeline.Options(dtype=dtype, name="model", **({"calib": calib} if calib else {})))


def test_rnn_forms_match_onnxruntime():
    need_tool("cc")
    ort = pytest.importorskip("onnxruntime")
    model, feeds = _model(LAYERS)
    plain, plain_feeds = _model(LAYERS, batch_major=False)
    sess = ort.InferenceSession(plain.SerializeToString(), providers=["CPUExecutionProvider"])
    expected = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, plain_feeds)))
    for k, (_, _, _, _, _, attrs, _) in enumerate(LAYERS):
        for name in [n for n in expected if n[1:].lstrip("hc") == str(k) and attrs.get("layout")]:
            expected[name] = expected[name].transpose((2, 0, 1, 3) if name[1] not in "hc" else (1, 0, 2))
    with tempfile.TemporaryDirectory() as tmp:
        compiled = _build(model, tmp)
        samples = {n: feeds[n][None] for n in compiled.graph.inputs}
        for target in ("ref", "host"):
            got = runners.run(compiled, samples, "ref") if target == "ref" else \
                runners.run_host(compiled, samples, sanitize=True)
            for name, exp in expected.items():
                assert max_error(np.asarray(got[name][0]), exp) <= 1e-5, (target, name)


@pytest.mark.parametrize("layer", [LAYERS[0], LAYERS[6]], ids=["bidirectional_lstm", "rnn"])
def test_float_only_forms_are_an_int8_error(layer):
    from tests.helpers import quantize_graph, random_samples
    from tinyc.frontend.onnx_import import import_model

    model, _ = _model([layer])
    with tempfile.TemporaryDirectory() as tmp:
        onnx.save(model, Path(tmp) / "m.onnx")
        g = import_model(Path(tmp) / "m.onnx")
    with pytest.raises(UnsupportedOp, match="int8"):
        quantize_graph(g, random_samples(g, 4))
