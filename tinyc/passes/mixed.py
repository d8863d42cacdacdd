"""Which layers of an int8 model stay float32 (`--float-layers NAME,...|auto`).

Names are resolved against the float graph as the user wrote them (the ONNX node name, or the
report's label). `auto` is a greedy search: quantize everything, measure each layer's damage by
keeping it alone in float32, then keep layers in float32 in order of benefit until the model is
within `max_drop` of float. The loss is the top-1 accuracy drop (points) on labelled samples, else
the mean output error against the float model in percent of the float output's range, as the
pruning sensitivity measures it. Nothing here reads files or prints.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

import numpy as np

from tinyc import interpreter, ops, quant
from tinyc.errors import BadInput
from tinyc.ir import Graph
from tinyc.passes.calibration import DEFAULT, calibrate
from tinyc.passes.quantize import quantize
from tinyc.progress import Progress, silent
from tinyc.report import layer_label

AUTO_SAMPLES = 256  # output-error samples: enough to rank layers, as the pruning sensitivity


@dataclass
class MixedChoice:
    """What `--float-layers auto` measured and chose; losses in `metric` units."""

    metric: str  # "accuracy drop (points)" or "output error (%)"
    max_drop: float
    int8_loss: float  # every layer int8
    loss_alone: dict[str, float]  # layer -> loss with that layer alone in float32
    chosen: list[str] = field(default_factory=list)
    loss: float = 0.0  # with the chosen layers in float32
    baseline: float | None = None  # float accuracy (%) with labels

    def as_dict(self) -> dict:
        return {"metric": self.metric, "max_drop": self.max_drop, "baseline": self.baseline,
                "int8_loss": self.int8_loss, "loss": self.loss, "chosen": list(self.chosen),
                "loss_alone": dict(self.loss_alone)}

    def summary(self) -> str:
        chosen = ", ".join(repr(n) for n in self.chosen) or "none"
        return (f"--float-layers auto: {len(self.chosen)} layer(s) in float32 ({chosen}); {self.metric} "
                f"{self.int8_loss:.2f} all int8 -> {self.loss:.2f} (--max-drop {self.max_drop:g})")


def resolve(g: Graph, spec: str) -> list[str]:
    """Node names for a comma-separated list of names or report labels; one-line BadInput for an
    unknown one, naming the nearest."""
    nodes = [n.name for n in g.nodes]
    labels = {layer_label(i, name): name for i, name in enumerate(nodes)}
    tails: dict[str, list[str]] = {}
    for label, name in labels.items():
        tails.setdefault(label.split(" ", 1)[1], []).append(name)
    found = []
    for wanted in (w.strip() for w in spec.split(",")):
        if not wanted:
            continue
        tail = re.sub(r"^\d+ ", "", wanted)
        if wanted in nodes:
            found.append(wanted)
        elif wanted in labels:
            found.append(labels[wanted])
        elif len(tails.get(tail, [])) == 1:  # a label whose index the schedule has moved
            found.append(tails[tail][0])
        else:
            near = difflib.get_close_matches(wanted, nodes + list(labels), n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(repr(n) for n in near)}?" if near else \
                f"; layers: {', '.join(repr(n) for n in nodes[:5])}{' ...' if len(nodes) > 5 else ''}"
            raise BadInput(f"--float-layers: no layer {wanted!r}{hint}")
    return list(dict.fromkeys(found))


def _scorer(g: Graph, samples: dict[str, np.ndarray], labels: np.ndarray | None):
    """(loss(int8 graph), float accuracy or None, metric) against float graph g."""
    out = g.outputs[0]
    reference = interpreter.run_samples(g, samples)[out].astype(np.float64)
    span = float(reference.max() - reference.min()) or 1.0

    def real_outputs(h: Graph) -> np.ndarray:
        y = interpreter.run_samples(h, interpreter.feeds_for(h, samples))[out]
        t = h.tensors[out]
        return quant.dequantize_array(y, t.q).astype(np.float64) if t.dtype == "int8" else y.astype(np.float64)

    if labels is not None:
        baseline = float(np.mean(reference.reshape(len(reference), -1).argmax(1) == labels) * 100)

        def drop(h: Graph) -> float:
            y = real_outputs(h)
            return baseline - float(np.mean(y.reshape(len(y), -1).argmax(1) == labels) * 100)
        return drop, baseline, "accuracy drop (points)"
    return (lambda h: float(np.mean(np.abs(real_outputs(h) - reference))) / span * 100), None, "output error (%)"


def choose(g: Graph, calib: dict[str, np.ndarray], max_drop: float,
           labelled: tuple[dict[str, np.ndarray], np.ndarray] | None = None,
           progress: Progress = silent, method: str = DEFAULT) -> MixedChoice:
    """The fewest layers (greedy by benefit) to keep in float32 so that int8 loses at most max_drop.
    labelled: (samples, labels) to measure accuracy; else the output error on the calibration data."""
    ranges = calibrate(g, calib, method)
    if labelled is not None:
        samples, labels = labelled
    else:
        samples, labels = {k: v[:AUTO_SAMPLES] for k, v in calib.items()}, None
    loss_of, baseline, metric = _scorer(g, samples, labels)

    def loss(floating: list[str]) -> float:
        return loss_of(quantize(g, calib, floating, [], ranges=ranges))

    automatic: list[str] = []
    everything = quantize(g, calib, (), automatic, ranges=ranges)  # what must be float anyway is not a choice
    int8_loss = loss_of(everything)
    choice = MixedChoice(metric, max_drop, int8_loss, {}, [], int8_loss, baseline)
    if int8_loss <= max_drop:
        return choice
    int8_nodes = {n.name for n in everything.nodes if everything.tensors[n.first_output].dtype != "float32"}
    candidates = [n.name for n in g.nodes if n.name in int8_nodes and not ops.get(n.op).is_view]
    for name in progress(candidates, "float layer sensitivity"):
        choice.loss_alone[name] = loss([name])
    ranked = sorted(candidates, key=lambda n: (choice.loss_alone[n], candidates.index(n)))
    for name in ranked:  # a layer that helps nothing alone may still help beside another
        choice.chosen.append(name)
        choice.loss = loss(choice.chosen)
        if choice.loss <= max_drop:
            return choice
    raise BadInput(f"--float-layers auto: no set of float32 layers brings the {metric} within --max-drop "
                   f"{max_drop:g} (all int8 {int8_loss:.2f}, best reached {choice.loss:.2f} with "
                   f"{len(choice.chosen)} layer(s) in float32)")

