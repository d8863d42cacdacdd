"""Normalizations: `normalize` (statistics over a set of axes, then y = (x - m) * inv * scale + bias;
the frontend lowers layer, group, instance, RMS, mean-variance and Lp normalization onto it) and
`lrn` (across channels). float32 only (no int8 form yet).

The reference computes in float64 with the C's formulas (runtime_c/tinyc_norm.c: two passes, the
variance of x - mean) and rounds once.
"""

from __future__ import annotations

import numpy as np

from tinyc.ops import KernelCall, Op, register
from tinyc.ops.common import split_loops

NORM_KINDS = {"moments": 0, "rms": 1, "l1": 2, "l2": 3}  # TINYC_NORM_*


def _stats(kind: str, x: np.ndarray, axes: tuple[int, ...], eps: float, eps_after: float):
    """(m, inv) per group, keepdims, float64."""
    count = int(np.prod([x.shape[a] for a in axes]))
    m = np.mean(x, axis=axes, keepdims=True) if kind == "moments" else np.zeros_like(x, shape=())
    d = x - m
    if kind == "l1":
        s = np.sum(np.abs(d), axis=axes, keepdims=True)
        return m, np.where(s > 0, 1.0 / np.where(s > 0, s, 1.0), 0.0)
    s = np.sum(d * d, axis=axes, keepdims=True)
    if kind == "l2":
        return m, np.where(s > 0, 1.0 / np.sqrt(np.where(s > 0, s, 1.0)), 0.0)
    if kind == "rms":
        return m, 1.0 / np.sqrt(s / count + eps)
    return m, 1.0 / (np.sqrt(s / count + eps) + eps_after)


@register
class Normalize(Op):
    """Inputs [x, scale or "", bias or ""], scale and bias of x's rank (1 where broadcast) and one
    shape. Per group (the elements that differ only along attrs["axes"]): statistics (m, inv) by
    attrs["kind"] (NORM_KINDS; "moments" uses epsilon inside the square root and epsilon_after
    outside it), y = (x - m) * inv * scale + bias. Outputs [y, mean or "", inv_std or ""]: the
    statistics have x's shape with the axes set to 1."""

    name = "normalize"

    def infer_shape(self, node, in_shapes):
        shape, axes = tuple(in_shapes[0]), node.attrs["axes"]
        for w in in_shapes[1:]:
            assert w is None or (len(w) == len(shape) and all(a in (1, b) for a, b in zip(w, shape))), \
                f"node {node.name!r}: weights {w} on {shape}"
        stats = tuple(1 if k in axes else d for k, d in enumerate(shape))
        return [shape, stats, stats]

    def ref_float(self, node, xs):
        x, scale, bias = xs
        a = node.attrs
        m, inv = _stats(a["kind"], np.asarray(x, np.float64), tuple(a["axes"]), a["epsilon"], a["epsilon_after"])
        y = (x - m) * inv
        if scale is not None:
            y = y * scale
        if bias is not None:
            y = y + bias
        stats_shape = self.infer_shape(node, [x.shape, None, None])[1]
        return [y.astype(np.float32), np.broadcast_to(m, stats_shape).astype(np.float32),
                inv.astype(np.float32)]

    def kernel(self, node, g):
        x, scale, bias = node.inputs
        w_shape = g.tensors[scale or bias].shape if scale or bias else None
        kept, reduced = split_loops(f"node {node.name!r} (normalize)", g.tensors[x].shape,
                                    tuple(node.attrs["axes"]), w_shape)
        a = node.attrs
        params = {"kind": NORM_KINDS[a["kind"]], "count": int(np.prod([g.tensors[x].shape[k] for k in a["axes"]])),
                  "epsilon": float(a["epsilon"]), "epsilon_after": float(a["epsilon_after"]),
                  "kept": kept, "reduced": reduced}
        outputs = list(node.outputs) + [""] * (3 - len(node.outputs))
        return KernelCall("tinyc_normalize_f32", "tinyc_norm", "tinyc_normalize_f32_params", params,
                          [x, scale, bias, *outputs])

    def in_place_inputs(self, node, g):
        return (0,)  # a group's elements are written after their last read, other groups untouched


@register
class LRN(Op):
    """Local response normalization across channels (axis 1) of x [N, C, ...]:
    y = x / (bias + alpha / size * sum of x^2 over channels [c - (size-1)//2, c + ceil((size-1)/2)])^beta."""

    name = "lrn"

    def infer_shape(self, node, in_shapes):
        assert len(in_shapes[0]) >= 2, f"node {node.name!r}: lrn of {in_shapes[0]}"
        return [tuple(in_shapes[0])]

    def ref_float(self, node, xs):
        a, x = node.attrs, np.asarray(xs[0], np.float64)
        before, after = (a["size"] - 1) // 2, a["size"] // 2
        sq, channels = x * x, x.shape[1]
        total = np.zeros_like(x)
        for c in range(channels):
            total[:, c] = np.sum(sq[:, max(0, c - before):min(channels, c + after + 1)], axis=1)
        alpha_over_size = float(np.float32(a["alpha"] / a["size"]))
        return [(x / (a["bias"] + alpha_over_size * total) ** a["beta"]).astype(np.float32)]

    def kernel(self, node, g):
        shape, a = g.tensors[node.inputs[0]].shape, node.attrs
        params = {"n": shape[0], "c": shape[1], "inner": int(np.prod(shape[2:])),
                  "before": (a["size"] - 1) // 2, "after": a["size"] // 2,
                  "alpha_over_size": float(np.float32(a["alpha"] / a["size"])), "beta": float(a["beta"]),
                  "bias": float(a["bias"])}
        return KernelCall("tinyc_lrn_f32", "tinyc_norm", "tinyc_lrn_f32_params", params,
                          [node.inputs[0], node.outputs[0]])
