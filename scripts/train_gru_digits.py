"""Train the labelled GRU digits example (the 8x8 digits read row by row) and write it to examples/.

A GRU (hidden 64) reads an image as 8 time steps of 8 pixels; a dense layer maps its last hidden
state to 10 classes, then softmax. Same data and train/test split as scripts/train_digits.py.
Writes digits_gru.onnx (opset 13, batch 1: input `pixels` [1, 8, 8] = (batch, row, column), a
Transpose to the GRU's [seq 8, batch 1, input 8], GRU, Reshape to [1, 64], Gemm, Softmax) and
digits_{calib,train,test}_gru.npz (key `input` [S, 8, 8], `labels`). Seeded and single-threaded:
a re-run on the same machine writes the same bytes. Needs torch and the "train" extra:

    .venv/bin/python scripts/train_gru_digits.py [OUT_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from train_digits import CALIB_COUNT, IR_VERSION, OPSET, PIXEL_MAX, SEED, accuracy, ort_outputs, save_npz, split

HIDDEN = 64
EPOCHS = 40
BATCH = 32
LR = 1e-2


class GruClassifier(torch.nn.Module):
    def __init__(self, hidden: int = HIDDEN):
        super().__init__()
        self.gru = torch.nn.GRU(8, hidden)  # (seq, batch, input)
        self.fc = torch.nn.Linear(hidden, 10)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits (B, 10) for images (B, 8, 8) scaled to [0, 1]."""
        _, h = self.gru(images.transpose(0, 1))
        return self.fc(h[0])


def train(x: np.ndarray, y: np.ndarray) -> GruClassifier:
    """Adam on minibatches of x (S, 8, 8) in [0, 1]; deterministic for SEED on one thread."""
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    model = GruClassifier()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, EPOCHS)
    xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
    gen = torch.Generator().manual_seed(SEED)
    for _ in range(EPOCHS):
        order = torch.randperm(len(xt), generator=gen)
        for start in range(0, len(xt), BATCH):
            batch = order[start:start + BATCH]
            loss = torch.nn.functional.cross_entropy(model(xt[batch]), yt[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
    return model.eval()


def onnx_gru_weights(gru: torch.nn.GRU) -> dict[str, np.ndarray]:
    """torch's GRU (gates r, z, n) as ONNX W [1, 3H, I], R [1, 3H, H], B [1, 6H] (gates z, r, h), with the
    pixel scale 1/16 folded into W; torch's n gate is ONNX's linear_before_reset=1."""
    h = gru.hidden_size

    def zrh(v: torch.Tensor) -> np.ndarray:
        v = v.detach().double().numpy()
        return np.concatenate([v[h:2 * h], v[:h], v[2 * h:]])

    w = zrh(gru.weight_ih_l0) / PIXEL_MAX
    b = np.concatenate([zrh(gru.bias_ih_l0), zrh(gru.bias_hh_l0)])
    return {"W": w[None].astype(np.float32), "R": zrh(gru.weight_hh_l0)[None].astype(np.float32),
            "B": b[None].astype(np.float32)}


def to_onnx(model: GruClassifier) -> onnx.ModelProto:
    p = onnx_gru_weights(model.gru)
    inits = [numpy_helper.from_array(v, f"gru.{k}") for k, v in p.items()]
    inits += [numpy_helper.from_array(np.array([1, HIDDEN], np.int64), "hidden_shape"),
              numpy_helper.from_array(model.fc.weight.detach().numpy().astype(np.float32), "fc.weight"),
              numpy_helper.from_array(model.fc.bias.detach().numpy().astype(np.float32), "fc.bias")]
    nodes = [helper.make_node("Transpose", ["pixels"], ["rows"], name="rows", perm=[1, 0, 2]),
             helper.make_node("GRU", ["rows", "gru.W", "gru.R", "gru.B"], ["", "gru.h"], name="gru",
                              hidden_size=HIDDEN, linear_before_reset=1),
             helper.make_node("Reshape", ["gru.h", "hidden_shape"], ["hidden"], name="hidden"),
             helper.make_node("Gemm", ["hidden", "fc.weight", "fc.bias"], ["fc"], name="fc", transB=1),
             helper.make_node("Softmax", ["fc"], ["probs"], name="softmax", axis=1)]
    graph = helper.make_graph(nodes, "digits_gru",
                              [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, [1, 8, 8])],
                              [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [1, 10])], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="train_gru_digits")
    m.ir_version = IR_VERSION
    onnx.checker.check_model(m, full_check=True)
    return m


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    x_train, x_test, y_train, y_test = split()
    images_train, images_test = x_train.reshape(-1, 8, 8), x_test.reshape(-1, 8, 8)
    model = train(images_train / PIXEL_MAX, y_train)
    m = to_onnx(model)
    probs = ort_outputs(m, images_test)
    with torch.no_grad():
        reference = torch.softmax(model(torch.tensor(images_test / PIXEL_MAX, dtype=torch.float32)), 1).numpy()
    err = float(np.abs(probs - reference).max())
    assert err <= 1e-4, f"digits_gru.onnx differs from the torch forward by {err}"
    acc = accuracy(probs, y_test)
    assert acc >= 95.0, f"digits_gru reached only {acc:.2f} % test accuracy"
    onnx.save(m, out_dir / "digits_gru.onnx")
    save_npz(out_dir / "digits_calib_gru.npz", input=images_train[:CALIB_COUNT], labels=y_train[:CALIB_COUNT])
    save_npz(out_dir / "digits_train_gru.npz", input=images_train, labels=y_train)
    save_npz(out_dir / "digits_test_gru.npz", input=images_test, labels=y_test)
    print(f"digits_gru: {EPOCHS} epochs, test accuracy {acc:.2f} % ({len(y_test)} images), "
          f"onnxruntime vs torch max error {err:.1e}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "examples")
