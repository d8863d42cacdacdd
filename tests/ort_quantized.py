"""Zoo models quantized by onnxruntime.quantization.quantize_static, and how tinyc's int8 output agrees
with onnxruntime's own execution of the same file (in output quantization steps).

Shared by tests/host/test_ort_quantized.py and scripts that print the agreement table."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.zoo_models import feeds_of, path_of
from tinyc import interpreter, pipeline, quant, runners

EVAL_SAMPLES = 32  # seeded inputs the agreement is measured on (the calibration used the zoo's 4 others)

# (zoo model, form, activation type): every family whose ops have int8 forms today, QDQ per channel; one model
# of each family (two TCNs) in the QOperator form; uint8 activations on two.
CASES = [(m, "qdq", "int8") for m in ("mlp_flatten_classic13", "mlp_view_dynamo18", "resnet_classic13",
                                      "mobilenetv2_classic13", "mobilenetv3_classic17", "tcn_classic13",
                                      "tcn_dynamo18", "gru_classic13", "keras_cnn_tf2onnx")]
CASES += [(m, "qoperator", "int8") for m in ("mlp_flatten_classic13", "resnet_classic13", "mobilenetv2_classic13",
                                             "mobilenetv3_classic17", "tcn_classic13", "tcn_dynamo18",
                                             "gru_classic13", "keras_cnn_tf2onnx")]
CASES += [("resnet_classic13", "qdq", "uint8"), ("tcn_classic13", "qoperator", "uint8")]
CASES += [(m, f, "int8") for m in ("unet_classic13", "autoencoder_classic13", "bilstm_classic13")
          for f in ("qdq", "qoperator")]
CASES += [("resnet_dynamo18", "qdq", "int8"), ("mobilenetv3_dynamo18", "qoperator", "int8")]
# The keyword transformer in its three exports (LayerNorm decomposed in classic13), both forms.
CASES += [(m, f, "int8") for m in ("kwt_classic13", "kwt_classic17", "kwt_dynamo18") for f in ("qdq", "qoperator")]


def quantized_file(name: str, out_dir: Path, fmt: str = "qdq", activations: str = "int8",
                   weights: str = "int8") -> Path:
    """quantize_static of zoo model `name` (fmt qdq or qoperator), calibrated on its seeded inputs: int8 weights
    symmetric per channel, or uint8 weights asymmetric per tensor (onnxruntime's defaults for each)."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    feeds = feeds_of(name)

    class Samples(CalibrationDataReader):
        def __init__(self):
            self.left = iter([{k: v[i] for k, v in feeds.items()} for i in range(len(next(iter(feeds.values()))))])

        def get_next(self):
            return next(self.left, None)

    out = out_dir / f"{Path(name).stem}_{fmt}_{activations}_{weights}.onnx"
    quantize_static(str(path_of(name)), str(out), Samples(),
                    quant_format=QuantFormat.QDQ if fmt == "qdq" else QuantFormat.QOperator,
                    per_channel=weights == "int8",
                    weight_type=QuantType.QInt8 if weights == "int8" else QuantType.QUInt8,
                    activation_type=QuantType.QInt8 if activations == "int8" else QuantType.QUInt8)
    return out


def onnxruntime_outputs(path: Path, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """onnxruntime's float outputs, sample by sample, with its default optimizations (what a user runs:
    QDQ groups fused into its integer kernels)."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    count = len(next(iter(feeds.values())))
    runs = [sess.run(names, {k: v[i] for k, v in feeds.items()}) for i in range(count)]
    return {n: np.stack([r[k] for r in runs]) for k, n in enumerate(names)}


def on_grid(g, samples: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The samples moved onto tinyc's int8 input grid, so both engines see the same integers (onnxruntime
    rounds an input half to even, tinyc half away from zero: a tie would differ before any kernel)."""
    feeds = interpreter.feeds_for(g, samples)
    return {n: quant.dequantize_array(feeds[n], g.tensors[n].q) for n in g.inputs}


def steps(g, got: dict[str, np.ndarray], ort_out: dict[str, np.ndarray]) -> np.ndarray:
    """|tinyc - onnxruntime| in output quantization steps, every output element of every sample."""
    diffs = []
    for n in g.outputs:
        q = g.tensors[n].q
        mine = (got[n].astype(np.float64) - q.zero_point[0]) * q.scale[0]
        diffs.append(np.abs(mine - ort_out[n].astype(np.float64)).reshape(-1) / q.scale[0])
    return np.concatenate(diffs)


def eval_samples(name: str) -> dict[str, np.ndarray]:
    """EVAL_SAMPLES seeded standard-normal inputs, other than the calibration's."""
    shapes = {k: v.shape[1:] for k, v in feeds_of(name).items()}
    rng = np.random.default_rng(11)
    return {k: rng.standard_normal((EVAL_SAMPLES, *s)).astype(np.float32) for k, s in shapes.items()}


def output_params(path: Path) -> dict[str, tuple[float, int]]:
    """{graph output: (scale, int8 zero point)} of the DequantizeLinear that writes each output."""
    import onnx

    model = onnx.load(str(path))
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer}
    params = {}
    for node in model.graph.node:
        if node.op_type == "DequantizeLinear" and node.output[0] in {o.name for o in model.graph.output}:
            zp = inits[node.input[2]]
            shift = 128 if zp.dtype == np.uint8 else 0
            params[node.output[0]] = (float(inits[node.input[1]]), int(zp) - shift)
    return params


def agreement(s: np.ndarray) -> dict[str, float]:
    """% of elements within 1 and 2 steps, and the largest difference in steps."""
    tiny = 1e-6  # a float difference of exactly k steps may come out a hair above k
    return {"within1": 100.0 * float(np.mean(s <= 1 + tiny)), "within2": 100.0 * float(np.mean(s <= 2 + tiny)),
            "max": float(s.max())}


def measure(model: str, form: str, activations: str, out_dir: Path, weights: str = "int8") -> dict:
    """Quantize zoo `model` with onnxruntime, compile it int8 with tinyc, run the reference interpreter and
    the host C on EVAL_SAMPLES inputs: the file, graph, both outputs and the agreement with onnxruntime."""
    path = quantized_file(model + ".onnx", out_dir, form, activations, weights)
    compiled = pipeline.build(path, pipeline.Options(dtype="int8", calib=feeds_of(model + ".onnx"), name="model"))
    g = compiled.graph
    x = on_grid(g, eval_samples(model + ".onnx"))
    feeds = interpreter.feeds_for(g, x)
    ref = interpreter.run_samples(g, feeds)
    host = runners.run_host(compiled, feeds)
    return {"path": path, "graph": g, "ref": ref, "host": host,
            "agreement": agreement(steps(g, ref, onnxruntime_outputs(path, x)))}
