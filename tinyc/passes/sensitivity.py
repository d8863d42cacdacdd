"""Sensitivity analysis: how much each prunable layer alone loses at a sweep of pruning ratios,
and per-layer ratios chosen from it (under a maximum loss, or to reach an overall ratio).

Loss is the drop in top-1 accuracy (points) when labels are given, else the relative output
error against the unpruned float model (in percent of the output range). Float graphs only;
nothing here reads files or prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tinyc import interpreter, svg
from tinyc.progress import Progress, silent
from tinyc.ir import Graph
from tinyc.passes.prune import prune_unstructured

RATIOS = (0.3, 0.5, 0.7, 0.8, 0.9, 0.95)
PRUNABLE = ("conv2d", "dense")


@dataclass
class Sensitivity:
    metric: str  # "accuracy drop (points)" or "output error (%)"
    ratios: tuple[float, ...]
    loss: dict[str, list[float]]  # layer -> loss at each ratio
    weights: dict[str, int]  # layer -> number of weights
    baseline: float | None = None  # float accuracy (%) when labels were given
    chosen: dict[str, float] = field(default_factory=dict)

    def table(self) -> str:
        """A Markdown table: one row per layer, one column per ratio."""
        head = "| layer | weights | " + " | ".join(f"{r:.0%}" for r in self.ratios) + " | chosen |\n"
        rule = "|---|---:|" + "---:|" * len(self.ratios) + "---:|\n"
        rows = "".join(f"| {name} | {self.weights[name]:,} | " + " | ".join(f"{v:.2f}" for v in losses)
                       + f" | {self.chosen.get(name, 0.0):.0%} |\n" for name, losses in self.loss.items())
        return f"Loss per layer pruned alone: {self.metric}.\n\n" + head + rule + rows


def prunable_layers(g: Graph) -> dict[str, int]:
    """Layer name -> weight count, for conv2d/dense nodes with constant weights."""
    return {n.name: g.tensors[n.inputs[1]].size for n in g.nodes
            if n.op in PRUNABLE and g.tensors[n.inputs[1]].is_const}


def _scorer(g: Graph, samples: dict[str, np.ndarray], labels: np.ndarray | None):
    """loss(graph) for a float graph against g's own outputs or the labels."""
    out = g.outputs[0]
    reference = interpreter.run_samples(g, samples)[out]
    span = float(reference.max() - reference.min()) or 1.0

    def accuracy(h: Graph) -> float:
        y = interpreter.run_samples(h, samples)[out]
        return float(np.mean(y.reshape(len(y), -1).argmax(1) == labels) * 100)

    if labels is not None:
        baseline = accuracy(g)
        return (lambda h: baseline - accuracy(h)), baseline, "accuracy drop (points)"
    return (lambda h: float(np.mean(np.abs(interpreter.run_samples(h, samples)[out] - reference))) / span * 100,
            None, "output error (%)")


def loss_function(g: Graph, samples: dict[str, np.ndarray], labels: np.ndarray | None = None):
    """(loss(float graph), metric name): accuracy drop against the labels, else output error against g."""
    loss_of, _, metric = _scorer(g, samples, labels)
    return loss_of, metric


def analyse(g: Graph, samples: dict[str, np.ndarray], labels: np.ndarray | None = None,
            ratios: tuple[float, ...] = RATIOS, progress: Progress = silent) -> Sensitivity:
    """Prune each layer alone at each ratio and measure the loss."""
    loss_of, baseline, metric = _scorer(g, samples, labels)
    layers = prunable_layers(g)
    steps = progress([(name, r) for name in layers for r in ratios], "sensitivity sweep")
    losses = [loss_of(prune_unstructured(g, {name: r})) for name, r in steps]
    loss = {name: losses[k * len(ratios):(k + 1) * len(ratios)] for k, name in enumerate(layers)}
    return Sensitivity(metric, tuple(ratios), loss, layers, baseline)


def ratios_under(s: Sensitivity, max_loss: float) -> dict[str, float]:
    """Per layer, the largest swept ratio whose loss stays within max_loss (0 if none)."""
    chosen = {}
    for name, losses in s.loss.items():
        ok = [r for r, v in zip(s.ratios, losses) if v <= max_loss]
        chosen[name] = max(ok) if ok else 0.0
    return chosen


def ratios_for_target(s: Sensitivity, target: float) -> dict[str, float]:
    """Per-layer ratios reaching `target` of all prunable weights pruned, raising first the
    layers that lose least per weight pruned (a greedy walk up each layer's sweep)."""
    chosen = {name: 0.0 for name in s.loss}
    total = sum(s.weights.values())
    steps = {name: 0 for name in s.loss}  # index of the next ratio to try per layer

    def pruned() -> float:
        return sum(chosen[n] * s.weights[n] for n in chosen) / total

    while pruned() < target:
        best, best_cost = None, None
        for name, i in steps.items():
            if i >= len(s.ratios):
                continue
            gain = (s.ratios[i] - chosen[name]) * s.weights[name]
            before = s.loss[name][i - 1] if i else 0.0
            cost = max(s.loss[name][i] - before, 0.0) / max(gain, 1)
            if best_cost is None or cost < best_cost or (cost == best_cost and s.weights[name] > s.weights[best]):
                best, best_cost = name, cost
        if best is None:
            break  # every layer at the top of its sweep
        chosen[best] = s.ratios[steps[best]]
        steps[best] += 1
    return chosen


def plot_svg(s: Sensitivity) -> str:
    """The sweep as an SVG line plot, one line per layer."""
    return svg.line_plot(s.loss, [r * 100 for r in s.ratios], title="Sensitivity: each layer pruned alone",
                         xlabel="weights pruned in the layer (%)", ylabel=s.metric)
