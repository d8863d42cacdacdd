"""Trained Kronecker factors on the digits examples: a fine-tuning loop of its own (torch; it predates
the compiler's --finetune), then tinyc's int8 lowering, sizes and accuracy on the held-out test split.
Prints a markdown table.

    PYTHONPATH=. .venv/bin/python scripts/kp_finetune.py [--only mlp|gru] [--epochs 100] [--lr 0.01]
        [--doped] [--fit]

Training: Adam (factors at --lr, the other layers at a tenth), cosine schedule, batches of 32 training
images each shifted by up to one pixel, loss = distillation from the float model at temperature 4
plus cross-entropy; --fit first fits the factors to the float layers' outputs on the training data
(tinyc.train.kronecker.fit_to_data); --doped adds the doped residual with co-matrix dropout.

- MLP (examples/digits_mlp.onnx): `--kronecker auto` with shapes for the ratio (the pass's trained=True;
  doped KP with co-matrix dropout with --doped), the factors (and the other layers) fine-tuned on the
  training split with distillation from the float model plus cross-entropy, then lowered to int8.
- GRU (examples/digits_gru.onnx): W and R as A (x) B at >= 16x fewer float32 parameters than dense
  (tinyc.passes.kronecker.most_capable_shape), fine-tuned the same way; tinyc's GRU kernels store
  dense W and R, so the trained products are written back dense for the accuracy figures.

Seeded, one thread: a re-run prints the same figures. About 3 (MLP) and 6 (GRU, 200 epochs) minutes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from tinyc import accuracy, pipeline, report
from tinyc.ir import Graph, Node
from tinyc.passes.kronecker import kronecker, most_capable_shape
from tinyc.train.kronecker import KroneckerDense, clamp_act, comatrix_keep, fit_to_data
from tinyc.train.rnn import KroneckerGru, gru

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SEED = 0
BATCH = 32
KD_T = 4.0  # distillation temperature (Hinton et al.)
OTHERS_LR = 0.1  # learning rate of the uncompressed layers, relative to the factors
GRU_RATIO = 16  # dense float32 parameters / factor parameters of W and of R


class Dense(torch.nn.Module):
    """A float dense node (x @ W^T + b, then its clamp) with trainable W and b."""

    def __init__(self, node: Node, g: Graph):
        super().__init__()
        self.node = node
        self.w = torch.nn.Parameter(torch.tensor(g.tensors[node.inputs[1]].data))
        b = node.inputs[2] if len(node.inputs) > 2 else ""
        self.b = torch.nn.Parameter(torch.tensor(g.tensors[b].data)) if b else None

    def forward(self, x):
        y = x @ self.w.T
        return clamp_act(self.node, y if self.b is None else y + self.b)

    def arrays(self) -> dict[str, np.ndarray]:
        out = {self.node.inputs[1]: self.w}
        if self.b is not None:
            out[self.node.inputs[2]] = self.b
        return {k: v.detach().numpy().astype(np.float32) for k, v in out.items()}


class Gru(torch.nn.Module):
    """A float GRU node with trainable W, R and B (the teacher's)."""

    def __init__(self, node: Node, g: Graph):
        super().__init__()
        self.node = node
        self.weights = torch.nn.ParameterList([torch.nn.Parameter(torch.tensor(g.tensors[i].data))
                                               for i in node.inputs[1:4] if i])

    def forward(self, x):
        return gru(self.node, [x, *self.weights])


class Net(torch.nn.Module):
    """The few ops of the digits graphs, over a batch on the first axis; returns the logits (the
    input of the final softmax)."""

    def __init__(self, g: Graph, gru_shapes=None):
        super().__init__()
        self.g = g
        layers = {}
        for node in g.nodes:
            if node.op == "dense":
                layers[node.name] = Dense(node, g)
            elif node.op == "dense_kp":
                layers[node.name] = KroneckerDense(node, g)
            elif node.op == "gru":
                layers[node.name] = KroneckerGru(node, g, *gru_shapes) if gru_shapes else Gru(node, g)
            else:
                assert node.op in ("softmax", "transpose", "reshape"), node.op
        self.layers = torch.nn.ModuleDict(layers)

    def forward(self, x):
        return self.values(x)[self.g.nodes[-1].inputs[0]]

    def values(self, x) -> dict[str, torch.Tensor]:
        """Every tensor of the graph (up to the softmax's input) for the batch x."""
        values = {self.g.inputs[0]: x}
        for node in self.g.nodes[:-1]:  # the last node is the softmax
            v = values[node.inputs[0]]
            if node.op == "transpose":  # [1, 8, 8] -> [8, 1, 8]: the batch runs as the GRU's batch
                out = [v.permute(*node.attrs["perm"])]
            elif node.op == "reshape":
                out = [v.reshape(len(x), *node.attrs["shape"][1:])]
            elif node.op == "gru":
                out = self.layers[node.name](v)
            else:
                out = [self.layers[node.name](v)]
            values.update(zip(node.outputs, out))
        return values

    def write_back(self) -> Graph:
        g = self.g.copy()
        for layer in self.layers.values():
            for name, data in layer.arrays().items():
                g.tensors[name].data = data.reshape(g.tensors[name].shape)
        return g


def shifted(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Each 8x8 image of x (N, 64) or (N, 8, 8) moved by -1, 0 or 1 pixel along each axis (zeros fill)."""
    images = torch.nn.functional.pad(x.reshape(-1, 8, 8), (1, 1, 1, 1))
    moves = [images[:, 1 + dy:9 + dy, 1 + dx:9 + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    pick = torch.randint(0, 9, (len(x),), generator=gen)
    return torch.stack(moves)[pick, torch.arange(len(x))].reshape(x.shape)


def train(net: Net, teacher: Net, x: np.ndarray, y: np.ndarray, epochs: int, lr: float) -> None:
    """Adam, cosine learning rate, images shifted by up to a pixel; loss = distillation from the float
    model (KL at temperature KD_T, times KD_T^2) + cross-entropy; co-matrix dropout on doped layers
    (one seeded draw per step, annealed to 0). The factors learn at lr, the other layers slower."""
    gen = torch.Generator().manual_seed(SEED)
    factors = [p for m in net.modules() if isinstance(m, (KroneckerDense, KroneckerGru)) for p in m.parameters()]
    ids = {id(p) for p in factors}
    others = [p for p in net.parameters() if id(p) not in ids]  # trained, already near their optimum: slower
    opt = torch.optim.Adam([{"params": factors, "lr": lr}, {"params": others, "lr": lr * OTHERS_LR}])
    steps = epochs * -(-len(x) // BATCH)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    xt, yt = torch.tensor(x), torch.tensor(y)
    kp_layers = [m for m in net.modules() if isinstance(m, KroneckerDense)]
    step = 0
    for _ in range(epochs):
        order = torch.randperm(len(xt), generator=gen)
        for start in range(0, len(xt), BATCH):
            batch = order[start:start + BATCH]
            xb = shifted(xt[batch], gen)
            with torch.no_grad():
                soft = torch.softmax(teacher(xb) / KD_T, dim=1)
            keep = comatrix_keep(step, steps, gen)
            for m in kp_layers:
                m.comatrix_keep = keep
            logits = net(xb)
            kd = torch.nn.functional.kl_div(torch.log_softmax(logits / KD_T, dim=1), soft, reduction="batchmean")
            loss = KD_T ** 2 * kd + torch.nn.functional.cross_entropy(logits, yt[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
    for m in kp_layers:
        m.comatrix_keep = 1.0


def fit_mlp_factors(g0: Graph, g: Graph, x: np.ndarray) -> Graph:
    """g with each dense_kp's factors fitted to the float model's layer on the training inputs x
    (tinyc.train.kronecker.fit_to_data), from the nearest KP the pass chose."""
    g = g.copy()
    with torch.no_grad():
        values = Net(g0).values(torch.tensor(x))
    for node in (n for n in g.nodes if n.op == "dense_kp"):
        w = next(g0.tensors[n.inputs[1]].data for n in g0.nodes if n.name == node.name)
        inputs = values[node.inputs[0]].numpy().reshape(len(x), -1)
        a, b = (g.tensors[i] for i in node.inputs[1:3])
        a.data, b.data = (f.astype(np.float32) for f in fit_to_data(inputs, inputs @ w.T, a.data, b.data))
    return g


def fit_gru_factors(layer: KroneckerGru, teacher: Gru, x_seq: torch.Tensor) -> None:
    """The KP GRU's factors fitted to the float GRU's x W^T and h R^T over the training sequences."""
    node = Node("gru", "gru", teacher.node.inputs, ["y", "y_h"], teacher.node.attrs)
    with torch.no_grad():
        h = gru(node, [x_seq, *teacher.weights])[0][:, 0]  # (T, N, H) of direction 0
    h_prev = torch.cat([torch.zeros_like(h[:1]), h[:-1]]).reshape(-1, h.shape[-1]).numpy()
    xs = x_seq.reshape(-1, x_seq.shape[-1]).numpy()
    w, r = (p.detach().numpy()[0] for p in teacher.weights[:2])
    for k, (inputs, m) in enumerate(((xs, w), (h_prev, r))):
        a, b = layer.factors[2 * k], layer.factors[2 * k + 1]
        fa, fb = fit_to_data(inputs, inputs @ m.T, a.detach().numpy(), b.detach().numpy())
        a.data, b.data = torch.tensor(fa, dtype=torch.float32), torch.tensor(fb, dtype=torch.float32)


def _data(kind: str, g: Graph):
    def load(split):
        d = np.load(EXAMPLES / f"digits_{split}_gru.npz")  # the same split as every digits example
        return d["input"].reshape(len(d["input"]), *g.tensors[g.inputs[0]].shape[1:]), d["labels"]
    return load("train"), load("test"), load("calib")[0]


def _float_bytes(g: Graph, names) -> int:
    return sum(g.tensors[i].nbytes for n in g.nodes if n.name in names for i in n.inputs[1:]
               if i and g.tensors[i].is_const)


def _int8(g: Graph, calib: np.ndarray, test, name: str) -> tuple[float, dict, int]:
    """(int8 test accuracy, layer weight bytes by name, total weight bytes) of float graph g."""
    q, plan = pipeline.lower(g, "int8", {g.inputs[0]: calib})
    doc = report.build_report(q, plan, name)
    layers = {layer["name"]: layer["weights"] for layer in doc["layers"]}
    return accuracy.accuracy(q, {g.inputs[0]: test[0]}, test[1]), layers, doc["flash"]["weights"]


def mlp(epochs: int, doped: bool, lr: float, fit: bool) -> list[str]:
    torch.manual_seed(SEED)
    g0 = pipeline.frontend(EXAMPLES / "digits_mlp.onnx")
    (x, y), test, calib = _data("mlp", g0)
    teacher = Net(g0).eval()
    g = kronecker(g0, "auto", doped=doped, trained=True)
    kp = [n.name for n in g.nodes if n.op == "dense_kp"]
    f32 = {"whole": _float_bytes(g0, [n.name for n in g0.nodes]), "kp": _float_bytes(g0, kp)}
    shapes = ", ".join(n + " " + _shapes(g, n) for n in kp)
    rows = [f"| MLP `--kronecker auto{' --doped' if doped else ''}` | {shapes} |"]
    float_acc = accuracy.accuracy(g0, {g0.inputs[0]: test[0]}, test[1])
    start = fit_mlp_factors(g0, g, x.astype(np.float32)) if fit else g
    net = Net(start)
    train(net, teacher, x.astype(np.float32), y, epochs, lr)
    results = [("nearest KP", g)] + [("fitted to the data", start)] * fit
    for label, graph in results + [(f"{'fitted, ' * fit}trained {epochs} epochs", net.write_back())]:
        acc8, layers, total = _int8(graph, calib, test, "digits_mlp")
        kp_bytes = sum(layers[n] for n in kp)
        rows.append(f"| | {label}: float {accuracy.accuracy(graph, {g.inputs[0]: test[0]}, test[1]):.2f} %, "
                    f"int8 {acc8:.2f} % (float model {float_acc:.2f} %); KP layers {kp_bytes:,} B = "
                    f"{f32['kp'] / kp_bytes:.1f}x below float32, whole model {total:,} B = "
                    f"{f32['whole'] / total:.1f}x below float32 |")
    return rows


def _shapes(g: Graph, name: str) -> str:
    a = next(n for n in g.nodes if n.name == name).attrs
    return f"{a['shape_a']}(x){a['shape_b']}".replace(" ", "")


def gru_figures(epochs: int, lr: float, fit: bool) -> list[str]:
    torch.manual_seed(SEED)
    g = pipeline.frontend(EXAMPLES / "digits_gru.onnx")
    (x, y), test, calib = _data("gru", g)
    teacher = Net(g).eval()
    node = next(n for n in g.nodes if n.op == "gru")
    shapes = []
    for i in (1, 2):
        _, m, k = g.tensors[node.inputs[i]].shape
        shapes.append(most_capable_shape(m, k, lambda a, b, m=m, k=k: (a[0] * a[1] + b[0] * b[1]) * GRU_RATIO <= m * k))
    net = Net(g, shapes)
    layer = net.layers[node.name]
    fw, fr = layer.factor_count()
    dense_w, dense_r = (g.tensors[node.inputs[i]].data.size for i in (1, 2))
    float_acc = accuracy.accuracy(g, {g.inputs[0]: test[0]}, test[1])
    rows = [f"| GRU W {shapes[0][0]}(x){shapes[0][1]}, R {shapes[1][0]}(x){shapes[1][1]} | W {dense_w / fw:.1f}x, "
            f"R {dense_r / fr:.1f}x fewer parameters (float32 bytes) than dense; float model {float_acc:.2f} % |"]
    steps = [("nearest KP", None)] + [("fitted to the data", "fit")] * fit
    for label, step in steps + [(f"{'fitted, ' * fit}trained {epochs} epochs", "train")]:
        if step == "fit":
            fit_gru_factors(layer, teacher.layers[node.name], torch.tensor(x.astype(np.float32)).permute(1, 0, 2))
        elif step == "train":
            train(net, teacher, x.astype(np.float32), y, epochs, lr)
        tg = net.write_back()
        acc8, _, _ = _int8(tg, calib, test, "digits_gru")
        rows.append(f"| | {label}: float {accuracy.accuracy(tg, {g.inputs[0]: test[0]}, test[1]):.2f} %, "
                    f"int8 {acc8:.2f} % (W and R stored dense) |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--doped", action="store_true")
    parser.add_argument("--lr", type=float, default=1e-2, help="the factors'; other layers 0.1x")
    parser.add_argument("--fit", action="store_true", help="fit the factors to the data before training")
    parser.add_argument("--only", choices=["mlp", "gru"])
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("| model, compression | result |\n|---|---|")
    if args.only != "gru":
        print("\n".join(mlp(args.epochs, args.doped, args.lr, args.fit)), flush=True)
    if args.only != "mlp":
        print("\n".join(gru_figures(args.epochs, args.lr, args.fit)), flush=True)


if __name__ == "__main__":
    main()
