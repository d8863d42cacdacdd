"""Fine-tuning a compressed float graph: distillation from the uncompressed one, structure kept.

- Loss: knowledge distillation (KL between the teacher's and the student's outputs softened by TEMPERATURE;
  a graph ending in softmax is read at the softmax's input, its logits; any other output by mean squared
  error), plus cross-entropy when labels are given.
- Structure: the zeros of each weight (MASKED ops: unstructured and N:M pruning) stay zero: the mask is
  taken at the start and reapplied after every step. A channel-pruned graph is just a smaller graph.
- Gradual pruning (Zhu & Gupta 2017): with a GradualPruning schedule, training starts from the dense
  weights and each layer's sparsity follows s_t = s_f + (s_i - s_f)(1 - t/T)^3 (s_i = 0) over the first
  epochs, masks re-chosen by magnitude as it rises (N:M: the kept count per group falls from M to N), then
  the final masks hold for the last HOLD_SHARE of the epochs.
- QAT: conv and dense weights fake-quantized per output channel, symmetric, exactly as
  tinyc.quant.quantize_weights_per_channel (a transposed conv's weights train unquantized);
  every int8 activation fake-quantized with the parameters tinyc's quantize() gives the current weights
  (calibration re-run on the calibration samples with the chosen method at the start of each epoch);
  straight-through gradients inside the range, none outside.
- Deterministic for a seed: one thread, torch's deterministic algorithms, a seeded shuffle. CPU only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from tinyc import quant
from tinyc.errors import BadInput
from tinyc.ir import Graph, QParams
from tinyc.passes.calibration import DEFAULT as DEFAULT_CALIBRATION, calibrate
from tinyc.passes.prune import keep_n_of_m
from tinyc.passes.quantize import quantize
from tinyc.progress import Progress, silent
from tinyc.train.kronecker import comatrix_keep
from tinyc.train.module import MASKED, QUANTIZED_WEIGHTS, TRAINABLE, GraphModule

TEMPERATURE = 2.0  # softens both distributions for distillation (Hinton et al.)
DISTILL_WEIGHT = 0.5  # share of the distillation term when labels give a cross-entropy term too
BATCH = 32
HOLD_SHARE = 0.25  # of the epochs, at the end, with the final masks held (gradual pruning)


@dataclass
class GradualPruning:
    """Start from `start` (the student's structure, dense weights) and ramp each layer to its target:
    node name -> final unstructured sparsity (a ratio) and/or N:M pattern."""

    start: Graph
    ratios: dict[str, float] = field(default_factory=dict)
    nm: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass
class FineTuned:
    graph: Graph  # the student's structure with the trained float weights
    epochs: int
    lr: float
    seed: int
    qat: bool
    losses: list[float]  # mean training loss per epoch
    gradual: bool

    def as_dict(self) -> dict:
        return {"epochs": self.epochs, "lr": self.lr, "seed": self.seed, "qat": self.qat, "gradual": self.gradual,
                "final_loss": round(self.losses[-1], 6) if self.losses else None}


def cubic_sparsity(step: int, steps: int, final: float, initial: float = 0.0) -> float:
    """Zhu & Gupta's s_t = s_f + (s_i - s_f)(1 - t/T)^3, held at s_f from t = T on."""
    t = min(max(step, 0), steps) / max(steps, 1)
    return final + (initial - final) * (1.0 - t) ** 3


def finetune(teacher: Graph, student: Graph, data: dict[str, np.ndarray], labels: np.ndarray | None = None, *,
             epochs: int = 20, lr: float = 1e-3, seed: int = 0, qat: bool = False,
             calib: dict[str, np.ndarray] | None = None, calibration: str = DEFAULT_CALIBRATION,
             schedule: GradualPruning | None = None, progress: Progress = silent) -> FineTuned:
    """Train student's float weights on `data` (inputs with a leading sample axis) to match teacher."""
    if epochs < 1:
        raise BadInput(f"--epochs {epochs}: at least 1")
    if not lr > 0:
        raise BadInput(f"--lr {lr:g}: must be above 0")
    if qat and calib is None:
        raise BadInput("--finetune with int8 needs calibration samples for its activation ranges")
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        return _train(teacher, student, data, labels, epochs, lr, seed, qat, calib, calibration, schedule, progress)
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)


def _train(teacher, student, data, labels, epochs, lr, seed, qat, calib, calibration, schedule, progress):
    torch.manual_seed(seed)
    feeds = {k: torch.from_numpy(np.asarray(v, np.float32)) for k, v in data.items()}
    count = len(next(iter(feeds.values())))
    if labels is not None and len(labels) != count:
        raise BadInput(f"--finetune: {len(labels)} labels for {count} samples")
    t_head, t_soft = head(teacher)
    with torch.no_grad():
        target = _batched(GraphModule(teacher), feeds, t_head)
    start = schedule.start if schedule is not None else student
    model = GraphModule(start)
    s_head, s_soft = head(start)
    soft = t_soft and s_soft
    masks = Masks(model, start, schedule)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    shuffle = torch.Generator().manual_seed(seed)
    y = None if labels is None else torch.from_numpy(np.asarray(labels, np.int64))
    batches = -(-count // BATCH)
    ramp = max(1, epochs - max(1, round(HOLD_SHARE * epochs))) * batches if schedule is not None else 0
    masks.update(0, ramp)
    losses = []
    step = 0
    total_steps = epochs * batches
    dropout = torch.Generator().manual_seed(seed + 1)  # co-matrix dropout of doped KP residuals
    for _ in progress(range(epochs), "fine-tuning", total=epochs):
        if qat:
            fake_quantize(model, export(model, student, start, masks), calib, calibration)
        total = 0.0
        for idx in torch.randperm(count, generator=shuffle).split(BATCH):
            model.comatrix_keep = comatrix_keep(step, total_steps, dropout)
            out = model({k: v[idx] for k, v in feeds.items()}, [s_head])[s_head].reshape(len(idx), -1)
            loss = _loss(out, target[idx], None if y is None else y[idx], soft)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            masks.update(step, ramp)
            total += float(loss.detach()) * len(idx)
        losses.append(total / count)
    model.comatrix_keep = 1.0
    return FineTuned(export(model, student, start, masks), epochs, lr, seed, qat, losses, schedule is not None)


def head(g: Graph) -> tuple[str, bool]:
    """The tensor the loss reads: the logits before a final softmax (True), else the first output."""
    out = g.outputs[0]
    node = g.producer(out)
    if node is not None and node.op == "softmax" and node.attrs.get("beta", 1.0) == 1.0:
        shape = g.tensors[out].shape
        if node.attrs["axis"] in (len(shape) - 1, -1) and int(np.prod(shape[:-1])) == 1:
            return node.inputs[0], True
    return out, False


def _batched(model: GraphModule, feeds: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    count = len(next(iter(feeds.values())))
    parts = [model({k: v[i:i + 256] for k, v in feeds.items()}, [name])[name] for i in range(0, count, 256)]
    return torch.cat(parts).reshape(count, -1)


def _loss(out: torch.Tensor, target: torch.Tensor, y: torch.Tensor | None, soft: bool) -> torch.Tensor:
    if not soft:
        return F.mse_loss(out, target)
    t = TEMPERATURE
    distill = F.kl_div(F.log_softmax(out / t, dim=1), F.log_softmax(target / t, dim=1), reduction="batchmean",
                       log_target=True) * t * t
    if y is None:
        return distill
    return DISTILL_WEIGHT * distill + (1.0 - DISTILL_WEIGHT) * F.cross_entropy(out, y)


# ---- structure: masks --------------------------------------------------------------------------------

class Masks:
    """The 0/1 mask of each masked parameter; without a schedule, its zeros at the start, held."""

    def __init__(self, model: GraphModule, g: Graph, schedule: GradualPruning | None):
        self.model, self.schedule = model, schedule
        self.layers: dict[str, str] = {}  # parameter name -> node name
        for node in g.nodes:
            for k in MASKED.get(node.op, ()):
                if k < len(node.inputs) and node.inputs[k] in model.slot:
                    self.layers[node.inputs[k]] = node.name
        self.masks: dict[str, torch.Tensor] = {}
        if schedule is None:
            for name in self.layers:
                w = model.weights[model.slot[name]].detach()
                if bool((w == 0).any()):
                    self.masks[name] = (w != 0).to(w.dtype)
        self.counts: dict[str, tuple[int, int]] = {}

    def update(self, step: int, ramp: int) -> None:
        """Re-choose the scheduled masks for this step (when the sparsity moved), then apply all masks."""
        if self.schedule is not None and step <= ramp:
            for name, node in self.layers.items():
                self._rechoose(name, node, step, ramp)
        with torch.no_grad():
            for name, mask in self.masks.items():
                self.model.weights[self.model.slot[name]].mul_(mask)

    def _rechoose(self, name: str, node: str, step: int, ramp: int) -> None:
        ratio, nm = self.schedule.ratios.get(node), self.schedule.nm.get(node)
        if ratio is None and nm is None:
            return
        w = self.model.weights[self.model.slot[name]].detach()
        keep = None
        if nm is not None:
            n, m = nm
            frac = 1.0 - (1.0 - step / max(ramp, 1)) ** 3  # the cubic ramp, 0 -> 1
            keep = m - int(round((m - n) * frac))
        zeros = 0 if ratio is None else int(round(cubic_sparsity(step, ramp, ratio) * w.numel()))
        if self.counts.get(name) == (keep, zeros):
            return
        self.counts[name] = (keep, zeros)
        mask = torch.ones_like(w)
        if keep is not None and keep < nm[1]:
            mask = _n_of_m_mask(w, keep, nm[1])
        if zeros:
            magnitude = (w * mask).abs().reshape(-1)
            order = torch.from_numpy(np.argsort(magnitude.numpy(), kind="stable")[:zeros].copy())
            mask = mask.reshape(-1).clone()
            mask[order] = 0
            mask = mask.reshape(w.shape)
        self.masks[name] = mask


def _n_of_m_mask(w: torch.Tensor, keep: int, m: int) -> torch.Tensor:
    """1 where tinyc.passes.prune.keep_n_of_m(w, keep, m) keeps a weight (largest |w| per group)."""
    magnitude = np.abs(w.numpy().astype(np.float64)) + 1.0  # all nonzero, same order: the kept positions show
    return torch.from_numpy((keep_n_of_m(magnitude, keep, m) != 0).astype(np.float32))


def export(model: GraphModule, student: Graph, start: Graph, masks: Masks) -> Graph:
    """The student graph with the model's (masked) weights; `start` names the parameters (same node names)."""
    trained = model.weight_arrays()
    for name, mask in masks.masks.items():
        trained[name] = trained[name] * mask.numpy()
    by_node = {n.name: n for n in start.nodes}
    h = student.copy()
    for node in h.nodes:
        for k in TRAINABLE.get(node.op, ()):
            if k >= len(node.inputs) or not node.inputs[k] or node.name not in by_node:
                continue
            source = by_node[node.name].inputs[k]
            if source in trained:
                t = h.tensors[node.inputs[k]]
                assert t.shape == trained[source].shape, f"node {node.name!r}: {t.shape} vs {trained[source].shape}"
                t.data = trained[source].astype(np.float32)
    return h


# ---- QAT ---------------------------------------------------------------------------------------------

def _round_half_away(x: torch.Tensor) -> torch.Tensor:
    return torch.sign(x) * torch.floor(x.abs() + 0.5)


def fake_weight(w: torch.Tensor) -> torch.Tensor:
    """Per output channel symmetric int8, as quant.quantize_weights_per_channel (float64), straight through."""
    w64 = w.detach().double()
    amax = w64.abs().reshape(len(w64), -1).amax(dim=1) if w64.numel() else torch.zeros(len(w64))
    scale = torch.where(amax > 0, amax / 127.0, torch.ones_like(amax)).reshape(-1, *[1] * (w.dim() - 1))
    q = torch.clamp(_round_half_away(w64 / scale), -127, 127) * scale
    return w + (q.float() - w).detach()


def fake_weight_per_tensor(w: torch.Tensor) -> torch.Tensor:
    """One symmetric int8 scale for the whole tensor (fake_weight of it seen as one row)."""
    return fake_weight(w.reshape(1, -1)).reshape(w.shape)


def fake_activation(q: QParams):
    """Per-tensor asymmetric int8, as quant.quantize_array then dequantize; no gradient outside the range."""
    s, zp = float(q.scale[0]), int(q.zero_point[0])
    lo, hi = (quant.INT8_MIN - zp) * s, (quant.INT8_MAX - zp) * s

    def fq(y: torch.Tensor) -> torch.Tensor:
        inside = torch.clamp(y, lo, hi)
        v = (torch.clamp(_round_half_away(y.double() / s) + zp, quant.INT8_MIN, quant.INT8_MAX) - zp) * s
        return inside + (v.to(y.dtype) - inside).detach()
    return fq


def fake_quantize(model: GraphModule, current: Graph, calib: dict[str, np.ndarray], method: str) -> None:
    """Hook fake quantization onto model (built from a graph of current's structure): the activation
    parameters tinyc's quantize() gives `current` on `calib`, per-channel weights."""
    q = quantize(current, calib, warnings=[], ranges=calibrate(current, calib, method))
    model.hooks = {name: fake_activation(t.q) for name, t in q.tensors.items()
                   if not t.is_const and t.dtype == "int8" and t.q is not None and t.q.axis is None
                   and name in model.graph.tensors}
    model.weight_hooks = {}
    for node in model.graph.nodes:
        if node.op in MASKED and node.inputs[1] in model.slot:
            model.weight_hooks[node.inputs[1]] = fake_weight
        for k, per in QUANTIZED_WEIGHTS.get(node.op, {}).items():
            if node.inputs[k] in model.slot:
                model.weight_hooks[node.inputs[k]] = fake_weight if per == "row" else fake_weight_per_tensor


def predict(g: Graph, samples: dict[str, np.ndarray], *, qat: bool = False,
            calib: dict[str, np.ndarray] | None = None, calibration: str = DEFAULT_CALIBRATION) -> np.ndarray:
    """The first output of g (float, or fake-quantized as QAT trains it) for samples: what training sees."""
    model = GraphModule(g)
    if qat:
        fake_quantize(model, g, calib, calibration)
    feeds = {k: torch.from_numpy(np.asarray(v, np.float32)) for k, v in samples.items()}
    with torch.no_grad():
        return _batched(model, feeds, g.outputs[0]).numpy()
