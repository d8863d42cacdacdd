"""The ONNX GRU node in torch, for fine-tuning: the float semantics of tinyc.ops.rnn.Gru.ref_float
(gates z, r, h; linear_before_reset; forward, reverse, bidirectional; any batch; clip; the ONNX
activation functions) with W, R and B trainable; gru_kp (tinyc.ops.rnn_kp), whose W and R are
Kronecker products of trained factors; and KroneckerGru, the same as a module of its own.
"""

from __future__ import annotations

import numpy as np
import torch

from tinyc.ir import Graph, Node
from tinyc.ops.rnn import node_acts
from tinyc.passes.kronecker import nearest_kronecker

GRU_INPUTS = (1, 2, 3)  # W, R, B: the inputs that train


def activate(act: tuple, x: torch.Tensor) -> torch.Tensor:
    """One ONNX activation act = (name, alpha, beta), as tinyc.ops.rnn.activate."""
    name, a, b = act
    fns = {"Sigmoid": torch.sigmoid, "Tanh": torch.tanh, "Relu": torch.relu,
           "Affine": lambda v: a * v + b, "LeakyRelu": lambda v: torch.where(v >= 0, v, a * v),
           "ThresholdedRelu": lambda v: torch.where(v > a, v, torch.zeros_like(v)),
           "ScaledTanh": lambda v: a * torch.tanh(b * v), "HardSigmoid": lambda v: torch.clamp(a * v + b, 0, 1),
           "Elu": lambda v: torch.where(v >= 0, v, a * torch.expm1(v)), "Softsign": lambda v: v / (1 + v.abs()),
           "Softplus": torch.nn.functional.softplus}
    return fns[name](x)


def _clip(v: torch.Tensor, clip) -> torch.Tensor:
    return v if clip is None else torch.clamp(v, -clip, clip)


def gru(node: Node, xs: list, module=None) -> list:
    """xs = [X (T, B, I), W (D, 3H, I), R (D, 3H, H), B (D, 6H) or None, seq_lens (unsupported: None),
    initial_h (D, B, H) or None] -> [Y (T, D, B, H), Y_h (D, B, H)] cut to the node's outputs."""
    x, w, r, b, seq_lens, h0 = (list(xs) + [None] * 6)[:6]
    assert seq_lens is None, f"node {node.name!r} (gru): sequence_lens unsupported"
    steps, batch, _ = x.shape
    dirs, hid = w.shape[0], node.attrs["hidden_size"]
    acts = node_acts(node, "gru")
    per_dir = len(acts) // dirs
    clip = node.attrs.get("clip")
    before_reset = bool(node.attrs.get("linear_before_reset", 0))
    ys, y_h = [], []
    for d in range(dirs):
        f_act, g_act = acts[d * per_dir:(d + 1) * per_dir]
        bd = torch.zeros(6 * hid, dtype=x.dtype) if b is None else b[d]
        wb, rb = bd[:3 * hid], bd[3 * hid:]
        h = torch.zeros(batch, hid, dtype=x.dtype) if h0 is None else h0[d]
        xw = x @ w[d].T + wb  # (T, B, 3H)
        r_zr, r_h = r[d][:2 * hid], r[d][2 * hid:]
        backwards = d == 1 or node.attrs.get("direction", "forward") == "reverse"
        out = [None] * steps
        for t in (reversed(range(steps)) if backwards else range(steps)):
            zr = activate(f_act, _clip(xw[t, :, :2 * hid] + h @ r_zr.T + rb[:2 * hid], clip))
            z, reset = zr[:, :hid], zr[:, hid:]
            if before_reset:
                n = xw[t, :, 2 * hid:] + reset * (h @ r_h.T + rb[2 * hid:])
            else:
                n = xw[t, :, 2 * hid:] + (reset * h) @ r_h.T + rb[2 * hid:]
            h = (1 - z) * activate(g_act, _clip(n, clip)) + z * h
            out[t] = h
        ys.append(torch.stack(out))  # (T, B, H)
        y_h.append(h)
    results = [torch.stack(ys, dim=1), torch.stack(y_h)]
    return results[: len(node.outputs)]


GRU_KP_INPUTS = (1, 2, 3, 4, 5)  # WA, WB, RA, RB, B


def gru_kp(node: Node, xs: list, module=None) -> list:
    """The torch form of gru_kp: xs = [X, WA, WB, RA, RB, B or None]; W = WA (x) WB, R = RA (x) RB."""
    x, wa, wb, ra, rb, b = (list(xs) + [None] * 6)[:6]
    w, r = torch.kron(wa, wb)[None], torch.kron(ra, rb)[None]
    return gru(node, [x, w, r, b])


def install(core) -> None:
    """Teach the fine-tuning executor (tinyc.train.module) gru, with W, R and B trained, and gru_kp,
    with its factors and B trained."""
    core.register("gru")(gru)
    core.TRAINABLE["gru"] = GRU_INPUTS
    core.register("gru_kp")(gru_kp)
    core.TRAINABLE["gru_kp"] = GRU_KP_INPUTS
    core.QUANTIZED_WEIGHTS["gru_kp"] = {1: "row", 2: "tensor", 3: "row", 4: "tensor"}  # as tinyc.ops.rnn_kp


try:  # the fine-tuning executor (tinyc.train.module) imports every file of tinyc/train: join it
    from tinyc.train import module as _executor
except ImportError:  # no executor in this checkout: the torch forms stand alone
    _executor = None
if _executor is not None:
    install(_executor)


class KroneckerGru(torch.nn.Module):
    """A GRU node whose W[d] and R[d] are A (x) B with trained factors (initialised to the nearest
    Kronecker product of the node's weights, shapes given per matrix); B (bias) stays dense."""

    def __init__(self, node: Node, g: Graph, w_shapes, r_shapes):
        super().__init__()
        self.node = node
        w, r = (g.tensors[node.inputs[i]].data for i in (1, 2))
        self.factors = torch.nn.ParameterList()
        for mats, shapes in ((w, w_shapes), (r, r_shapes)):
            for m in mats:  # one pair per direction
                fa, fb = nearest_kronecker(m, *shapes)
                self.factors.extend([torch.nn.Parameter(torch.tensor(f, dtype=torch.float32)) for f in (fa, fb)])
        b = node.inputs[3] if len(node.inputs) > 3 else ""
        self.bias = torch.nn.Parameter(torch.tensor(g.tensors[b].data, dtype=torch.float32)) if b else None
        self.dirs = len(w)

    def matrices(self) -> tuple[torch.Tensor, torch.Tensor]:
        """W (D, 3H, I) and R (D, 3H, H) as Kronecker products of the factors."""
        f = self.factors
        w = torch.stack([torch.kron(f[2 * d], f[2 * d + 1]) for d in range(self.dirs)])
        r = torch.stack([torch.kron(f[2 * (self.dirs + d)], f[2 * (self.dirs + d) + 1]) for d in range(self.dirs)])
        return w, r

    def forward(self, x: torch.Tensor) -> list:
        w, r = self.matrices()
        return gru(self.node, [x, w, r, self.bias])

    def factor_count(self) -> tuple[int, int]:
        """(entries of the factors of W, of R), all directions."""
        sizes = [p.numel() for p in self.factors]
        half = len(sizes) // 2
        return sum(sizes[:half]), sum(sizes[half:])

    def arrays(self) -> dict[str, np.ndarray]:
        """W, R (materialised) and B as float32 by the node's tensor names."""
        w, r = self.matrices()
        out = {self.node.inputs[1]: w, self.node.inputs[2]: r}
        if self.bias is not None:
            out[self.node.inputs[3]] = self.bias
        return {k: v.detach().numpy().astype(np.float32) for k, v in out.items()}
