"""Train the labelled digits example models (scikit-learn's 8x8 digits) and write them to examples/.

Writes digits_mlp.onnx (MLPClassifier 64-256-256-10), digits_cnn.onnx (a small CNN trained here in
plain numpy), their calibration sets digits_calib_{mlp,cnn}.npz (200 training images) and held-out
test sets digits_test_{mlp,cnn}.npz (600 images with labels), and the training sets
digits_train_{mlp,cnn}.npz (the 1,197 training images as uint8 0..16, with labels, for --finetune).
Seeded: a re-run on the same machine writes the same bytes. Needs the "train" extra (scikit-learn):

    .venv/bin/pip install '.[train]' && .venv/bin/python scripts/train_digits.py [OUT_DIR]
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

SEED = 0
TEST_COUNT = 600  # of 1,797 images; 1,197 train
CALIB_COUNT = 200
OPSET = 13
IR_VERSION = 8  # the ONNX IR of opset 13's release, so older onnxruntime builds load the files
PIXEL_MAX = 16.0  # load_digits pixels are integers 0..16

# CNN: conv3x3 1->16, conv3x3 16->32 (pad 1, relu), maxpool 2, dense 512->64 relu, dense 64->10.
CNN_EPOCHS = 40
CNN_BATCH = 32
CNN_LR = 1e-3


def split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, x_test, y_train, y_test): pixels float32 (S, 64) in [0, 16], labels int64."""
    digits = load_digits()
    x, y = digits.data.astype(np.float32), digits.target.astype(np.int64)
    return train_test_split(x, y, test_size=TEST_COUNT, random_state=SEED, stratify=y)


# ---- ONNX writing -------------------------------------------------------------------------------

def _gemm(nodes: list, inits: list, name: str, x: str, w: np.ndarray, b: np.ndarray, relu: bool) -> str:
    """y = x @ w.T + b (Gemm with transB, w (out, in)), then Relu if asked; returns y's name."""
    inits += [numpy_helper.from_array(w.astype(np.float32), f"{name}.weight"),
              numpy_helper.from_array(b.astype(np.float32), f"{name}.bias")]
    nodes.append(helper.make_node("Gemm", [x, f"{name}.weight", f"{name}.bias"], [name], name=name, transB=1))
    if not relu:
        return name
    nodes.append(helper.make_node("Relu", [name], [f"{name}.relu"], name=f"{name}.relu"))
    return f"{name}.relu"


def _model(nodes: list, inits: list, in_shape: list[int], last: str, graph_name: str) -> onnx.ModelProto:
    nodes.append(helper.make_node("Softmax", [last], ["probs"], name="softmax", axis=1))
    graph = helper.make_graph(nodes, graph_name, [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, in_shape)],
                              [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [1, 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="train_digits")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def ort_outputs(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    """The model's probabilities for each sample of x (S, *input shape without the batch axis)."""
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return np.concatenate([session.run(None, {"pixels": xi[None]})[0] for xi in x])


# ---- MLP (scikit-learn) -------------------------------------------------------------------------

def train_mlp(x: np.ndarray, y: np.ndarray) -> MLPClassifier:
    mlp = MLPClassifier(hidden_layer_sizes=(256, 256), activation="relu", solver="adam", max_iter=1000,
                        early_stopping=False, random_state=SEED)
    return mlp.fit(x, y)


def mlp_onnx(mlp: MLPClassifier) -> onnx.ModelProto:
    nodes: list = []
    inits: list = []
    h = "pixels"
    last = len(mlp.coefs_) - 1
    for i, (w, b) in enumerate(zip(mlp.coefs_, mlp.intercepts_)):  # sklearn keeps w as (in, out)
        h = _gemm(nodes, inits, f"fc{i + 1}", h, w.T, b, relu=i < last)
    return _model(nodes, inits, [1, 64], h, "digits_mlp")


# ---- CNN (numpy, written out: forward, backward, Adam) ------------------------------------------

def _im2col(x: np.ndarray) -> np.ndarray:
    """3x3 taps of x (B, C, 8, 8) zero-padded by 1 -> (B, C*9, 64), channel-major like w (Co, C, 3, 3)."""
    b, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    taps = [xp[:, :, i:i + h, j:j + w] for i in range(3) for j in range(3)]
    return np.stack(taps, axis=2).reshape(b, c * 9, h * w)


def _col2im(cols: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Adjoint of _im2col: scatter-add (B, C*9, 64) back onto (B, C, 8, 8)."""
    b, c, h, w = shape
    taps = cols.reshape(b, c, 9, h, w)
    xp = np.zeros((b, c, h + 2, w + 2))
    for k in range(9):
        i, j = divmod(k, 3)
        xp[:, :, i:i + h, j:j + w] += taps[:, :, k]
    return xp[:, :, 1:h + 1, 1:w + 1]


def cnn_init(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """He-normal weights, zero biases."""
    def he(shape: tuple[int, ...], fan_in: int) -> np.ndarray:
        return rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
    return {"w1": he((16, 1, 3, 3), 9), "b1": np.zeros(16), "w2": he((32, 16, 3, 3), 144), "b2": np.zeros(32),
            "w3": he((64, 512), 512), "b3": np.zeros(64), "w4": he((10, 64), 64), "b4": np.zeros(10)}


def cnn_forward(p: dict[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, dict]:
    """Logits (B, 10) for x (B, 1, 8, 8) in model units, and what the backward pass needs."""
    b = len(x)
    c1 = _im2col(x)
    a1 = np.maximum(p["w1"].reshape(16, -1) @ c1 + p["b1"][:, None], 0).reshape(b, 16, 8, 8)
    c2 = _im2col(a1)
    a2 = np.maximum(p["w2"].reshape(32, -1) @ c2 + p["b2"][:, None], 0).reshape(b, 32, 8, 8)
    windows = a2.reshape(b, 32, 4, 2, 4, 2)
    pooled = windows.max(axis=(3, 5))
    f = pooled.reshape(b, 512)  # ONNX Flatten of NCHW: channel c -> columns c*16 .. c*16+15
    a3 = np.maximum(f @ p["w3"].T + p["b3"], 0)
    logits = a3 @ p["w4"].T + p["b4"]
    return logits, {"c1": c1, "a1": a1, "c2": c2, "a2": a2, "windows": windows, "pooled": pooled, "f": f, "a3": a3}


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def cnn_grads(p: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Gradients of the mean cross-entropy over the batch."""
    b = len(x)
    logits, s = cnn_forward(p, x)
    d = softmax(logits)
    d[np.arange(b), y] -= 1.0
    d /= b
    g = {"w4": d.T @ s["a3"], "b4": d.sum(0)}
    d = (d @ p["w4"]) * (s["a3"] > 0)
    g.update(w3=d.T @ s["f"], b3=d.sum(0))
    d = (d @ p["w3"]).reshape(b, 32, 4, 1, 4, 1)
    hit = s["windows"] == s["pooled"].reshape(b, 32, 4, 1, 4, 1)  # ties only at 0, where relu stops them
    d = (hit * d).reshape(b, 32, 64) * (s["a2"].reshape(b, 32, 64) > 0)
    g.update(w2=np.einsum("bok,bik->oi", d, s["c2"]).reshape(p["w2"].shape), b2=d.sum((0, 2)))
    d = _col2im(np.einsum("oi,bok->bik", p["w2"].reshape(32, -1), d), s["a1"].shape)
    d = d.reshape(b, 16, 64) * (s["a1"].reshape(b, 16, 64) > 0)
    g.update(w1=np.einsum("bok,bik->oi", d, s["c1"]).reshape(p["w1"].shape), b1=d.sum((0, 2)))
    return g


def train_cnn(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Adam (Kingma & Ba, default betas) on minibatches; x (S, 1, 8, 8) scaled to [0, 1] for training."""
    rng = np.random.default_rng(SEED)
    p = cnn_init(rng)
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v = {k: np.zeros_like(v) for k, v in p.items()}
    beta1, beta2, eps, t = 0.9, 0.999, 1e-8, 0
    for _ in range(CNN_EPOCHS):
        order = rng.permutation(len(x))
        for start in range(0, len(x), CNN_BATCH):
            batch = order[start:start + CNN_BATCH]
            g = cnn_grads(p, x[batch], y[batch])
            t += 1
            for k in p:
                m[k] = beta1 * m[k] + (1 - beta1) * g[k]
                v[k] = beta2 * v[k] + (1 - beta2) * g[k] ** 2
                p[k] = p[k] - CNN_LR * (m[k] / (1 - beta1 ** t)) / (np.sqrt(v[k] / (1 - beta2 ** t)) + eps)
    return p


def cnn_export_params(p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """float32 weights for raw pixels in [0, 16]: the training scale 1/16 folded into the first conv."""
    out = {k: v.astype(np.float32) for k, v in p.items()}
    out["w1"] = (p["w1"] / PIXEL_MAX).astype(np.float32)
    return out


def cnn_onnx(p: dict[str, np.ndarray]) -> onnx.ModelProto:
    nodes: list = []
    inits = [numpy_helper.from_array(p[k], f"conv{k[1]}.{'weight' if k[0] == 'w' else 'bias'}")
             for k in ("w1", "b1", "w2", "b2")]
    h = "pixels"
    for i in (1, 2):
        nodes.append(helper.make_node("Conv", [h, f"conv{i}.weight", f"conv{i}.bias"], [f"conv{i}"], name=f"conv{i}",
                                      kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
        nodes.append(helper.make_node("Relu", [f"conv{i}"], [f"conv{i}.relu"], name=f"conv{i}.relu"))
        h = f"conv{i}.relu"
    nodes.append(helper.make_node("MaxPool", [h], ["pool"], name="pool", kernel_shape=[2, 2], strides=[2, 2]))
    nodes.append(helper.make_node("Flatten", ["pool"], ["flatten"], name="flatten", axis=1))
    h = _gemm(nodes, inits, "fc1", "flatten", p["w3"], p["b3"], relu=True)
    h = _gemm(nodes, inits, "fc2", h, p["w4"], p["b4"], relu=False)
    return _model(nodes, inits, [1, 1, 8, 8], h, "digits_cnn")


# ---- files --------------------------------------------------------------------------------------

def save_npz(path: Path, **arrays: np.ndarray) -> None:
    """np.savez with a fixed zip timestamp, so the same arrays give the same bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for key, value in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(value), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, buf.getvalue())


def accuracy(probs: np.ndarray, labels: np.ndarray) -> float:
    """Top-1, percent."""
    return float(np.mean(probs.argmax(axis=1) == labels) * 100.0)


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    x_train, x_test, y_train, y_test = split()
    calib = x_train[:CALIB_COUNT]  # train_test_split already shuffled (seeded)

    mlp = train_mlp(x_train, y_train)
    model = mlp_onnx(mlp)
    probs = ort_outputs(model, x_test)
    err = float(np.abs(probs - mlp.predict_proba(x_test)).max())
    assert err <= 1e-5, f"digits_mlp.onnx differs from predict_proba by {err}"
    onnx.save(model, out_dir / "digits_mlp.onnx")
    save_npz(out_dir / "digits_calib_mlp.npz", input=calib, labels=y_train[:CALIB_COUNT])
    save_npz(out_dir / "digits_test_mlp.npz", input=x_test, labels=y_test)
    save_npz(out_dir / "digits_train_mlp.npz", input=x_train.astype(np.uint8), labels=y_train)  # 0..16: exact
    print(f"digits_mlp: {mlp.n_iter_} epochs, test accuracy {accuracy(probs, y_test):.2f} % "
          f"({len(y_test)} images), onnxruntime vs sklearn max error {err:.1e}")

    images_train, images_test = x_train.reshape(-1, 1, 8, 8), x_test.reshape(-1, 1, 8, 8)
    params = cnn_export_params(train_cnn(images_train.astype(np.float64) / PIXEL_MAX, y_train))
    model = cnn_onnx(params)
    probs = ort_outputs(model, images_test)
    reference = softmax(cnn_forward({k: v.astype(np.float64) for k, v in params.items()}, images_test)[0])
    err = float(np.abs(probs - reference).max())
    assert err <= 1e-4, f"digits_cnn.onnx differs from the numpy forward by {err}"
    acc = accuracy(probs, y_test)
    assert acc >= 95.0, f"digits_cnn reached only {acc:.2f} % test accuracy"
    onnx.save(model, out_dir / "digits_cnn.onnx")
    save_npz(out_dir / "digits_calib_cnn.npz", input=calib.reshape(-1, 1, 8, 8), labels=y_train[:CALIB_COUNT])
    save_npz(out_dir / "digits_test_cnn.npz", input=images_test, labels=y_test)
    save_npz(out_dir / "digits_train_cnn.npz", input=images_train.astype(np.uint8), labels=y_train)
    print(f"digits_cnn: {CNN_EPOCHS} epochs, test accuracy {acc:.2f} % ({len(y_test)} images), "
          f"onnxruntime vs numpy max error {err:.1e}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "examples")
