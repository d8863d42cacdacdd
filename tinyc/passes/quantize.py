"""Post-training int8 quantization: activation ranges from calibration.py, then let each op prepare its int8 form.

A tensor that already carries quantization parameters (from a QDQ model) keeps them.
"""

from __future__ import annotations

import numpy as np

from tinyc import ops, quant
from tinyc.ir import Graph, QParams
from tinyc.passes.calibration import DEFAULT, calibrate


def quantize(g: Graph, samples: dict[str, np.ndarray], *, calibration: str = DEFAULT) -> Graph:
    """The int8 graph of float graph g, calibrated on `samples` (float32, leading sample axis) by the
    `calibration` method of tinyc.passes.calibration."""
    # A model whose every activation carries its own parameters (an int8 .tflite) needs no calibration.
    needs_ranges = any(t.q is None for t in g.tensors.values() if not t.is_const)
    ranges = calibrate(g, samples, calibration) if needs_ranges else {}
    h = g.copy()

    def calibrated(name: str) -> QParams | None:
        if not name:
            return None
        return h.tensors[name].q or quant.choose_qparams(*ranges[name])

    for name in h.inputs:
        h.tensors[name].q = calibrated(name)
        h.tensors[name].dtype = "int8"
    for node in h.nodes:
        qs = ops.get(node.op).output_qparams(node, h, [calibrated(o) for o in node.outputs])
        for name, q in zip(node.outputs, qs):
            if name and h.tensors[name].dtype == "float32":  # indices (int64) and masks (bool) stay
                h.tensors[name].q, h.tensors[name].dtype = q, "int8"
    h.nodes = [ops.get(node.op).quantize(node, h) for node in h.nodes]
    return drop_unused_constants(h)


def drop_unused_constants(g: Graph) -> Graph:
    used = {i for n in g.nodes for i in n.inputs} | set(g.inputs) | set(g.outputs)
    used |= {o for n in g.nodes for o in n.outputs}
    g.tensors = {k: t for k, t in g.tensors.items() if k in used}
    return g
