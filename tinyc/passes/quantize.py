"""Post-training int8 quantization: calibrate activation ranges, then let each op prepare its int8 form.

A tensor that already carries quantization parameters (from a QDQ model) keeps them.
"""

from __future__ import annotations

import numpy as np

from tinyc import interpreter, ops, quant
from tinyc.errors import BadInput
from tinyc.ir import Graph, Node, QParams, Tensor


def calibrate(g: Graph, samples: dict[str, np.ndarray]) -> dict[str, tuple[float, float]]:
    """(min, max) of every activation over the samples (arrays with a leading sample axis)."""
    ranges: dict[str, tuple[float, float]] = {}
    watched = g.copy()
    watched.outputs = [n for n, t in g.tensors.items() if not t.is_const and n]
    count = len(next(iter(samples.values())))
    for i in range(count):
        values = interpreter.run(watched, {k: v[i] for k, v in samples.items()})
        for name, v in values.items():
            if v.size == 0 or v.dtype.kind not in "fiu":  # an empty tensor, a mask: nothing to range
                lo, hi = 0.0, 0.0
            else:
                lo, hi = float(np.min(v)), float(np.max(v))
            old = ranges.get(name, (lo, hi))
            ranges[name] = (min(old[0], lo), max(old[1], hi))
    for name, (lo, hi) in ranges.items():
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise BadInput(f"tensor {name!r}: calibration gives values in [{lo}, {hi}]; int8 needs a finite range "
                           "(the float model overflows or makes NaN on these inputs)")
    return ranges


def quantize(g: Graph, samples: dict[str, np.ndarray]) -> Graph:
    """The int8 graph of float graph g, calibrated on `samples` (float32, leading sample axis)."""
    # A model whose every activation carries its own parameters (an int8 .tflite) needs no calibration.
    ranges = calibrate(g, samples) if any(t.q is None for t in g.tensors.values() if not t.is_const) else {}
    h = g.copy()

    def calibrated(name: str) -> QParams | None:
        if not name:
            return None
        return h.tensors[name].q or quant.choose_qparams(*ranges[name])

    for name in h.inputs:
        h.tensors[name].q = calibrated(name)
        h.tensors[name].dtype = "int8"
    scheduled = []
    for node in h.nodes:
        scheduled.append(node)
        own = [h.tensors[o].q if o else None for o in node.outputs]  # a QDQ model's, or None
        qs = ops.get(node.op).output_qparams(node, h, [calibrated(o) for o in node.outputs])
        for k, (name, q) in enumerate(zip(node.outputs, qs)):
            if name and h.tensors[name].dtype == "float32":  # indices (int64) and masks (bool) stay
                if own[k] is not None and q is not None and not _same(own[k], q):
                    scheduled.append(_requantization(h, node, k, q))
                    q = own[k]
                h.tensors[name].q, h.tensors[name].dtype = q, "int8"
    h.nodes = [ops.get(node.op).quantize(node, h) for node in scheduled]
    return drop_unused_constants(h)


def _same(a: QParams, b: QParams) -> bool:
    return a.scale.shape == b.scale.shape and np.array_equal(a.scale, b.scale) and \
        np.array_equal(a.zero_point, b.zero_point)


def _requantization(h: Graph, node: Node, k: int, q: QParams) -> Node:
    """The model gives output k of `node` parameters other than the ones the op fixes (a copy keeps its input's,
    softmax has 1/256): the op writes a tensor of its own parameters and this node, a 256-entry table of the
    identity, requantizes it to the model's."""
    out = node.outputs[k]
    mid = out + "_own_q"
    while mid in h.tensors:
        mid += "_"
    h.tensors[mid] = Tensor(mid, h.tensors[out].shape, "int8", None, q)
    node.outputs[k] = mid
    return Node(mid + "_requantize", "unary", [mid], [out], {"fn": "clip", "min": None, "max": None})


def drop_unused_constants(g: Graph) -> Graph:
    used = {i for n in g.nodes for i in n.inputs} | set(g.inputs) | set(g.outputs)
    used |= {o for n in g.nodes for o in n.outputs}
    g.tensors = {k: t for k, t in g.tensors.items() if k in used}
    return g
