"""The compression stage of the pipeline (float graph -> float graph), in order: channel pruning,
N:M pruning, unstructured pruning with per-layer ratios from the sensitivity analysis, Kronecker
factorisation. Storage formats (CSR, N:M) are chosen after quantization (passes/formats.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinyc.errors import BadInput
from tinyc.ir import Graph
from tinyc.passes import sensitivity
from tinyc.passes.channel_prune import prune_channels
from tinyc.passes.kronecker import kronecker
from tinyc.passes.prune import prune_nm, prune_unstructured, uniform_ratios
from tinyc.passes.reconstruct import reconstruct
from tinyc.sparse import MAX_M

SENSITIVITY_SAMPLES = 256  # enough to rank layers; the sweep runs the float model many times


@dataclass
class Compression:
    """What to do to the weights; None everywhere means nothing."""

    prune: float | None = None  # share of prunable weights to zero, spread by sensitivity
    sparsity: str | None = None  # "N:M"
    prune_channels: float | None = None
    kronecker: str | None = None  # "auto" or "layer,layer"
    doped: bool | None = None  # Kronecker layers also keep a sparse residual (doped KP)
    max_drop: float | None = None  # per-layer ratios under this loss (points, or % output error)
    trained: bool | None = None  # fine-tuning follows (--finetune): Kronecker shapes for the ratio

    @property
    def any(self) -> bool:
        return any(v is not None for k, v in vars(self).items() if k != "trained")  # trained: how, not what

    @property
    def needs_sensitivity(self) -> bool:
        return self.prune is not None or self.max_drop is not None


def _ratio(value: float | None, option: str) -> None:
    if value is not None and not 0.0 <= value < 1.0:
        raise BadInput(f"{option} {value:g}: a ratio from 0 up to (not including) 1")


def validate(c: Compression, g: Graph) -> None:
    """One-line errors for bad compression options, before any work."""
    _ratio(c.prune, "--prune")
    _ratio(c.prune_channels, "--prune-channels")
    if c.max_drop is not None and c.max_drop < 0:
        raise BadInput(f"--max-drop {c.max_drop:g}: must be 0 or more")
    if c.sparsity is not None:
        try:
            n, m = (int(v) for v in c.sparsity.split(":"))
        except ValueError:
            raise BadInput(f"--sparsity {c.sparsity!r}: write N:M, for example 2:4") from None
        if not 1 <= n < m:
            raise BadInput(f"--sparsity {c.sparsity}: N must be at least 1 and below M")
        if m > MAX_M:
            raise BadInput(f"--sparsity {c.sparsity}: M up to {MAX_M}")
    if c.doped and not c.kronecker:
        raise BadInput("--doped goes with --kronecker")
    if c.kronecker not in (None, "auto"):
        names = {n.name for n in g.nodes}
        unknown = [x for x in c.kronecker.split(",") if x not in names]
        if unknown:
            dense = [n.name for n in g.nodes if n.op in ("dense", "gru")][:5]
            raise BadInput(f"--kronecker: no layer {unknown[0]!r} (dense and GRU layers: {', '.join(dense) or 'none'})")


def sensitivity_samples(calib: dict[str, np.ndarray],
                        labels: np.ndarray | None) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """The calibration inputs, with their labels when the --calib file has them (accuracy drop),
    else without (output error). Never the --eval data: its accuracy must stay a held-out figure."""
    count = min(SENSITIVITY_SAMPLES, len(next(iter(calib.values()))))
    return {k: v[:count] for k, v in calib.items()}, (None if labels is None else labels[:count])


def compress(g: Graph, c: Compression, sens: sensitivity.Sensitivity | None,
             prune: float | None = None, calib: dict[str, np.ndarray] | None = None) -> tuple[Graph, list[str]]:
    """Apply the compression options to float graph g; `prune` overrides c.prune (budgets).
    With calibration inputs, pruned layers get their surviving weights re-solved (reconstruct)."""
    warnings = []
    prune = c.prune if prune is None else prune
    if c.prune_channels:
        g, skipped = prune_channels(g, c.prune_channels)  # smaller dense layers, fewer activations
        if skipped:
            warnings.append(f"--prune-channels left {len(skipped)} layer(s) whole: {_names(skipped)}")
    unpruned = g
    if c.sparsity:
        n, m = (int(v) for v in c.sparsity.split(":"))
        g, skipped = prune_nm(g, n, m)  # N of every M weights along the reduction axis
        if skipped:
            warnings.append(f"--sparsity {c.sparsity} does not apply to {len(skipped)} layer(s): {_names(skipped)}")
    ratios = None
    if prune:
        ratios = sensitivity.ratios_for_target(sens, prune) if sens else uniform_ratios(g, prune)
    elif c.max_drop is not None and sens is not None:
        ratios = sensitivity.ratios_under(sens, c.max_drop)
    if ratios:
        if sens is not None:
            sens.chosen = ratios
        present = {n.name for n in g.nodes}
        g = prune_unstructured(g, {k: v for k, v in ratios.items() if v > 0 and k in present})
    if c.kronecker:
        layers = "auto" if c.kronecker == "auto" else c.kronecker.split(",")
        # W ~ A (x) B (+ sparse residual when doped); shapes for the ratio when fine-tuning follows
        g = kronecker(g, layers=layers, doped=bool(c.doped), trained=bool(c.trained))
    if (ratios or c.sparsity or c.kronecker) and calib is not None:
        g = reconstruct(unpruned, g, _subset(calib))  # re-solve what pruning and factorising kept
    return g, warnings


def _subset(calib: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    count = min(SENSITIVITY_SAMPLES, len(next(iter(calib.values()))))
    return {k: v[:count] for k, v in calib.items()}


def _names(skipped) -> str:
    names = [s if isinstance(s, str) else s[0] for s in skipped]
    return ", ".join(repr(n) for n in names[:4]) + (" ..." if len(names) > 4 else "")
