"""Issue 6's benchmark layers as one-node int8 graphs, and a board measurement that can force the
portable kernels (-DTINYC_PORTABLE) on a DSP core. Used by bench/run.py.

Counts are QEMU -icount instruction counts (deterministic), not cycles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sparse import one_node  # bench/sparse.py: float32 graph x -> op(x, w, b) -> y
from tinyc import ops, report
from tinyc.board import has_helium, load_board
from tinyc.ir import Graph
from tinyc.passes.plan import plan_memory
from tinyc.passes.quantize import quantize
from tinyc.pipeline import Compiled
from tinyc.runners import feeds_for, run_board

BOARD = "mps2-an386"
CALIB = 8  # calibration samples per layer
PORTABLE = ["-DTINYC_PORTABLE"]  # tinyc_arch.h: forces TINYC_HAS_DSP to 0


@dataclass(frozen=True)
class Layer:
    name: str
    x_shape: tuple[int, ...]  # NCHW, or [1, features] for dense
    w_shape: tuple[int, ...]  # (Co, Ci/group, KH, KW), or (out, in) for dense
    group: int  # conv only; 0 for dense
    macs: int  # issue 6's table
    cmsis: int  # CMSIS-NN instructions for the same layer (issue 6's table)


# "25x5x64" in the issue means H=25, W=5, C=64: NCHW [1, 64, 25, 5]. Conv layers are 3x3 stride 1 pad 1
# except the pointwise one (1x1, no pad).
LAYERS = [
    Layer("conv 3x3 16x16x16->16", (1, 16, 16, 16), (16, 16, 3, 3), 1, 589_824, 1_374_733),
    Layer("conv 3x3 32x32x3->16 (first layer)", (1, 3, 32, 32), (16, 3, 3, 3), 1, 442_368, 2_110_160),
    Layer("depthwise 3x3 25x5x64", (1, 64, 25, 5), (64, 1, 3, 3), 64, 72_000, 561_080),
    Layer("depthwise 3x3 48x48x8", (1, 8, 48, 48), (8, 1, 3, 3), 8, 165_888, 1_469_240),
    Layer("pointwise 1x1 25x5x64->64", (1, 64, 25, 5), (64, 64, 1, 1), 1, 512_000, 1_069_120),
    Layer("fully connected 256->128", (1, 256), (128, 256), 0, 32_768, 68_013),
    Layer("fully connected 640->128", (1, 640), (128, 640), 0, 81_920, 160_173),
]


def float_graph(layer: Layer, seed: int = 0) -> Graph:
    """The layer as a seeded float32 one-node graph (no fused activation, like the CMSIS-NN runs)."""
    rng = np.random.default_rng(seed)
    w = rng.normal(0, 0.1, layer.w_shape).astype(np.float32)
    b = rng.normal(0, 0.1, layer.w_shape[0]).astype(np.float32)
    if not layer.group:
        return one_node("dense", layer.x_shape, w, b, {"act": None})
    pad = layer.w_shape[2] // 2
    attrs = {"strides": (1, 1), "pads": (pad, pad, pad, pad), "dilations": (1, 1), "group": layer.group, "act": None}
    return one_node("conv2d", layer.x_shape, w, b, attrs)


def compiled_layer(layer: Layer, board: str = BOARD, seed: int = 0) -> tuple[Compiled, dict[str, np.ndarray]]:
    """The int8 layer (calibrated on seeded uniform [-1, 1] inputs) and one int8 feed for it."""
    g = float_graph(layer, seed)
    rng = np.random.default_rng(seed + 1)
    calib = {"x": rng.uniform(-1, 1, (CALIB, *layer.x_shape)).astype(np.float32)}
    q = quantize(g, calib)
    q.helium = has_helium(load_board(board))  # as pipeline.build: the kernels the board's core runs fastest
    planned, plan = plan_memory(q)
    name = "layer_" + "".join(ch if ch.isalnum() else "_" for ch in layer.name.split(" (")[0])
    c = Compiled(name, q, planned, plan, [], load_board(board))
    return c, {k: v[:1] for k, v in feeds_for(q, calib).items()}  # one inference is enough


def dsp_and_portable(compiled: Compiled, feeds: dict[str, np.ndarray]) -> dict:
    """Both builds of one compiled graph: instructions, code bytes, and whether their outputs agree
    bit for bit (the DSP path must equal the portable one)."""
    dsp_out, dsp = run_board(compiled, feeds)
    port_out, port = run_board(compiled, feeds, PORTABLE)
    same = all(np.array_equal(dsp_out[n], port_out[n]) for n in compiled.graph.outputs)
    return {"instructions": dsp["instructions"], "portable_instructions": port["instructions"],
            "portable_over_dsp": round(port["instructions"] / dsp["instructions"], 2),
            "code": dsp["code"], "portable_code": port["code"], "stack": dsp["stack"], "dsp_equals_portable": same}


def measure_layer(layer: Layer, board: str = BOARD) -> dict:
    c, feeds = compiled_layer(layer, board)
    doc = report.build_report(c.graph, c.plan, c.name, board=c.board, dtype="int8")
    assert doc["macs"] == layer.macs, f"{layer.name}: report counts {doc['macs']} MACs, the table {layer.macs}"
    kernel = ops.get(c.graph.nodes[0].op).kernel(c.graph.nodes[0], c.graph).kernel
    return {"layer": layer.name, "kernel": kernel, "macs": layer.macs, "cmsis_nn": layer.cmsis,
            "arena": doc["ram"]["arena"], **dsp_and_portable(c, feeds)}
