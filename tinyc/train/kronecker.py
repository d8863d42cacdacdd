"""dense_kp in torch, for fine-tuning: A and B are the trained parameters (the pass initialises them to
the nearest Kronecker product), a doped residual keeps its positions and trains its values, and
co-matrix dropout (Thakker et al., "Doping", MLSys 2021) stops the factors leaning on the residual.

Forward = tinyc.ops.kronecker.DenseKP.ref_float: y = vec(A X B^T) + x residual^T + bias, then the clamp,
for each row of x (layout "dense") or each pixel of a batch-1 NCHW map (layout "nchw", a 1x1 conv).

Co-matrix dropout: doping trains two additive matrices, and the paper finds they co-adapt: the
structured (KP) part comes to rely on the few residual entries, so the model breaks whenever the
residual is perturbed or sparsified. Its regularisation drops the residual (the KP matrix's co-matrix)
during training with a probability that anneals to 0, so the factors alone have to carry the layer
and the residual only corrects them; at the end training and inference compute the same function.
Here a drop removes the whole residual for one training step (one draw per step, from a seeded
generator, so a run is deterministic and the executor's per-sample vmap sees no randomness).
"""

from __future__ import annotations

import numpy as np
import torch

from tinyc.ir import Graph, Node

DROP_START = 0.5  # co-matrix dropout probability at the first step...
DROP_END_FRACTION = 0.75  # ...falling linearly to 0 at this fraction of the steps, 0 after
KP_INPUTS = (1, 2, 3, 4)  # A, B, bias, residual: the inputs of dense_kp that train
RESIDUAL_INPUT = 4  # its zeros are structure (the doped positions), kept zero


def comatrix_drop_probability(step: int, total_steps: int, start: float = DROP_START,
                              end_fraction: float = DROP_END_FRACTION) -> float:
    """The chance that training step `step` (0-based) of `total_steps` drops the doped residual:
    `start` at step 0, linear to 0 at end_fraction * total_steps, 0 from there on."""
    end = end_fraction * total_steps
    if total_steps <= 0 or step >= end:
        return 0.0
    return start * (1.0 - step / end)


def comatrix_keep(step: int, total_steps: int, generator: torch.Generator, **schedule) -> float:
    """1.0 to keep the residual in this step, 0.0 to drop it (one seeded draw per step)."""
    p = comatrix_drop_probability(step, total_steps, **schedule)
    return 0.0 if float(torch.rand((), generator=generator)) < p else 1.0


def kronecker_rows(x: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """x (N, k1*k2) @ (A (x) B)^T without forming it: each row X (k1 x k2) -> vec(A X B^T), (N, m1*m2)."""
    (m1, k1), (m2, k2) = a.shape, b.shape
    t = torch.matmul(a, x.reshape(-1, k1, k2))  # (N, m1, k2)
    return torch.matmul(t, b.T).reshape(-1, m1 * m2)


def _rows(node: Node, x: torch.Tensor) -> torch.Tensor:
    if node.attrs.get("layout", "dense") == "dense":
        return x.reshape(-1, x.shape[-1])
    return x.reshape(x.shape[1], -1).T  # (1, K, H, W): a row per pixel


def _unrows(node: Node, y: torch.Tensor, x_shape) -> torch.Tensor:
    if node.attrs.get("layout", "dense") == "dense":
        return y.reshape(*x_shape[:-1], y.shape[-1])
    return y.T.reshape(1, y.shape[-1], *x_shape[2:])


def clamp_act(node: Node, y: torch.Tensor) -> torch.Tensor:
    """The node's fused clamp (attrs act = (lo, hi), either None), as tinyc.ops.common.apply_act_float."""
    lo, hi = node.attrs.get("act") or (None, None)
    return y if lo is None and hi is None else torch.clamp(y, lo, hi)


def dense_kp(node: Node, xs: list, module=None) -> list:
    """The torch form of dense_kp: xs = [x, A, B, bias or None, residual (M x K) or None].

    module.comatrix_keep (when the module has it) scales the residual: 0.0 in a step that drops it.
    """
    x, a, b, bias, residual = (list(xs) + [None] * 5)[:5]
    xr = _rows(node, x)
    y = kronecker_rows(xr, a, b)
    if residual is not None:
        y = y + getattr(module, "comatrix_keep", 1.0) * (xr @ residual.T)
    if bias is not None:
        y = y + bias
    return [clamp_act(node, _unrows(node, y, x.shape))]


def install(core) -> None:
    """Teach the fine-tuning executor (tinyc.train.module) dense_kp: its torch form, the inputs that
    train (A, B, bias, residual) and the residual's zeros as fixed structure."""
    core.register("dense_kp")(dense_kp)
    core.TRAINABLE["dense_kp"] = KP_INPUTS
    core.MASKED["dense_kp"] = (RESIDUAL_INPUT,)


try:  # the fine-tuning executor (tinyc.train.module) imports every file of tinyc/train: join it
    from tinyc.train import module as _executor
except ImportError:  # no executor in this checkout: the torch forms stand alone
    _executor = None
if _executor is not None:
    install(_executor)


class KroneckerDense(torch.nn.Module):
    """One dense_kp node of a float graph as a module with its own parameters: A, B, bias, and the
    residual's values at its fixed CSR positions (so nothing can grow off them)."""

    def __init__(self, node: Node, g: Graph):
        super().__init__()
        assert node.op == "dense_kp", node.op
        self.node = node
        _, a, b, bias, res = node.inputs

        def param(name: str) -> torch.nn.Parameter | None:
            return torch.nn.Parameter(torch.tensor(g.tensors[name].data, dtype=torch.float32)) if name else None

        self.a, self.b, self.bias = param(a), param(b), param(bias)
        self.shape = g.tensors[res].data.shape if res else None
        if res:
            rows, cols = np.nonzero(g.tensors[res].data)
            self.register_buffer("rows", torch.tensor(rows, dtype=torch.long))
            self.register_buffer("cols", torch.tensor(cols, dtype=torch.long))
            self.values = torch.nn.Parameter(torch.tensor(g.tensors[res].data[rows, cols], dtype=torch.float32))
        self.comatrix_keep = 1.0

    def residual(self) -> torch.Tensor | None:
        if self.shape is None:
            return None
        dense = torch.zeros(self.shape, dtype=self.values.dtype)
        return dense.index_put((self.rows, self.cols), self.values)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dense_kp(self.node, [x, self.a, self.b, self.bias, self.residual()], self)[0]

    def arrays(self) -> dict[str, np.ndarray]:
        """The trained float32 values by the node's tensor names, to write back into the graph."""
        _, a, b, bias, res = self.node.inputs
        out = {a: self.a, b: self.b, bias: self.bias, res: self.residual()}
        return {k: v.detach().numpy().astype(np.float32) for k, v in out.items() if k}


def fit_to_data(x: np.ndarray, y: np.ndarray, a: np.ndarray, b: np.ndarray, iterations: int = 10,
                ridge: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    """Factors A, B (starting from a, b) that make x @ (A (x) B)^T close to y on these samples: least
    squares for A with B fixed, then for B with A fixed, `iterations` times (float64).

    A data-aware start for fine-tuning: the nearest KP weighs every entry of W alike, this weighs
    them by the inputs the layer really sees (an always-zero pixel costs nothing). With the rows as
    X (k1 x k2) and Y (m1 x m2): Y ~ A (X B^T) is linear in A, Y^T ~ B (A X)^T linear in B.
    """
    (m1, k1), (m2, k2) = a.shape, b.shape
    xs = np.asarray(x, np.float64).reshape(-1, k1, k2)
    ys = np.asarray(y, np.float64).reshape(-1, m1, m2)
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)

    def solve(p: np.ndarray, q: np.ndarray) -> np.ndarray:  # p q^-1, q symmetric PSD, ridge-stabilised
        scale = ridge * max(float(np.trace(q)) / len(q), 1e-30)
        return np.linalg.solve(q + scale * np.eye(len(q)), p.T).T

    for _ in range(iterations):
        z = xs @ b.T  # (N, k1, m2)
        a = solve(np.einsum("nim,njm->ij", ys, z), np.einsum("nim,njm->ij", z, z))
        t = a @ xs  # (N, m1, k2)
        b = solve(np.einsum("nij,nik->jk", ys, t), np.einsum("nij,nik->jk", t, t))
    return a, b
