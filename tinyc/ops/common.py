"""Helpers shared by op modules: weight quantization, spatial geometry, fused activations."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from tinyc import quant
from tinyc.errors import UnsupportedOp
from tinyc.ir import Graph, Node, QParams

FLT_MAX = 3.4028234663852886e38


def out_dtype(node: Node, g: Graph) -> str:
    return g.tensors[node.first_output].dtype


def qparams(g: Graph, name: str) -> QParams:
    q = g.tensors[name].q
    assert q is not None, f"tensor {name!r} has no quantization parameters"
    return q


def scale_zp(g: Graph, name: str) -> tuple[float, int]:
    """Per-tensor (scale, zero point) of an activation."""
    q = qparams(g, name)
    return float(q.scale[0]), int(q.zero_point[0])


def quantize_weight(g: Graph, name: str, axis: int) -> tuple[str, QParams]:
    """Add the int8 per-channel copy of float constant `name` to g; return (new name, q).

    A weight that arrived with its own parameters (a QDQ model) keeps them.
    """
    t = g.tensors[name]
    assert t.data is not None, f"weight {name!r} is not constant"
    # an asymmetric weight (onnxruntime's uint8 weights): tinyc's kernels take symmetric int8 weights, so
    # its float value is quantized afresh per channel (docs/onnxruntime_quantization.md)
    if t.q is not None and not np.any(t.q.zero_point):
        q = t.q
        shape = [1] * t.data.ndim
        if q.axis is not None:
            shape[q.axis] = -1
        data = quant.saturate(quant.round_half_away(t.data / q.scale.reshape(shape)) + q.zero_point.reshape(shape))
        if q.axis is None and t.data.shape[axis] > 1:  # broadcast a per-tensor scale to per channel
            n = t.data.shape[axis]
            q = QParams(np.repeat(q.scale, n), np.repeat(q.zero_point, n), axis)
    else:
        data, q = quant.quantize_weights_per_channel(t.data, axis)
    assert not np.any(q.zero_point), f"weight {name!r}: only symmetric (zero point 0) int8 weights"
    return g.add_const(name + "_q", data, "int8", q), q


def quantize_bias(g: Graph, name: str | None, scale: np.ndarray, channels: int) -> str:
    """Add the int32 bias (scale = input scale x weight scale) for optional float bias `name`."""
    b = g.tensors[name].data if name else np.zeros(channels, np.float32)
    return g.add_const((name or "bias") + "_q", quant.quantize_bias(b, scale), "int32")


def quantize_weighted(node: Node, g: Graph) -> Node:
    """int8 form of a node with inputs [x, weight (out channels first), bias or ""]: per-channel
    int8 weights, int32 bias, one requantization multiplier per output channel, fused clamp."""
    x, w, b = node.inputs
    s_in, zp_in = scale_zp(g, x)
    s_out, zp_out = scale_zp(g, node.outputs[0])
    channels = g.tensors[w].shape[0]
    w_q, wq = quantize_weight(g, w, axis=0)
    s_w = np.broadcast_to(wq.scale, (channels,))
    b_q = quantize_bias(g, b or None, s_in * s_w, channels)
    requant = requant_params(s_in * s_w / s_out)
    _zero_dead_channels(g, requant["multiplier"] == 0, w_q, b_q)
    clamp = act_clamp_s8(node, g.tensors[node.outputs[0]].q)
    int8 = {"input_zp": zp_in, "output_zp": zp_out, "multiplier": requant["multiplier"],
            "shift": requant["shift"], "act_min": clamp["min"], "act_max": clamp["max"]}
    return Node(node.name, node.op, [x, w_q, b_q], list(node.outputs), dict(node.attrs, int8=int8))


def _zero_dead_channels(g: Graph, dead: np.ndarray, w_q: str, b_q: str) -> None:
    """A channel whose multiplier rounds to 0 outputs output_zp whatever its sums (a trained-away channel
    with weights near 1e-30, quantized to full-range int8 noise at a 1e-32 scale): its int8 weights and
    bias become 0, which changes no output and lets the layer store and skip them (CSR), as a .tflite of
    the same model does."""
    if not np.any(dead):
        return
    for name in (w_q, b_q):
        if name:
            t = g.tensors[name]
            data = t.data.copy()  # passes replace constants, never mutate them
            data[dead] = 0
            g.tensors[name] = replace(t, data=data)


def requant_params(real: np.ndarray) -> dict:
    """The tinyc_requant_pc struct for real multipliers, one per channel."""
    m, s = quant.quantize_multipliers(np.asarray(real, np.float64))
    return {"multiplier": m, "shift": s}


def act_clamp_s8(node: Node, q: QParams) -> dict:
    """tinyc_clamp for the fused activation attrs["act"] = (lo, hi) or None."""
    lo, hi = node.attrs.get("act") or (None, None)
    qmin, qmax = quant.act_bounds(q, lo, hi)
    return {"min": qmin, "max": qmax}


def act_clamp_f32(node: Node) -> dict:
    """tinyc_clamp_f32 for attrs["act"]; min > max clamps to max everywhere (ONNX Clip), as [max, max]."""
    lo, hi = node.attrs.get("act") or (None, None)
    lo, hi = -FLT_MAX if lo is None else float(lo), FLT_MAX if hi is None else float(hi)
    return {"min": min(lo, hi), "max": hi}


def apply_act_float(node: Node, y: np.ndarray) -> np.ndarray:
    lo, hi = node.attrs.get("act") or (None, None)
    if lo is not None or hi is not None:
        y = np.clip(y, lo, hi)
    return y.astype(np.float32)


def spatial_out(size: int, kernel: int, stride: int, pad_begin: int, pad_end: int,
                dilation: int = 1, ceil_mode: bool = False) -> int:
    """Output length of a conv or pool along one axis (ONNX formula)."""
    span = size + pad_begin + pad_end - dilation * (kernel - 1) - 1
    out = -(-span // stride) if ceil_mode else span // stride
    return out + 1


def shape4(shape: tuple[int, ...]) -> dict:
    """tinyc_shape4 of an NCHW (rank 4) or NCL (rank 3, h = 1) activation."""
    if len(shape) == 3:
        n, c, w = shape
        return {"n": n, "c": c, "h": 1, "w": w}
    n, c, h, w = shape
    return {"n": n, "c": c, "h": h, "w": w}


def as4(x: np.ndarray) -> np.ndarray:
    """View an NCL array as NC1L so 1-D and 2-D share one code path."""
    return x[:, :, None, :] if x.ndim == 3 else x


LOOPS_MAX_RANK = 8  # TINYC_LOOPS_MAX_RANK in runtime_c/tinyc_loops.h


def contiguous_strides(shape: tuple[int, ...]) -> list[int]:
    """Row-major element strides of a dense array of `shape`."""
    strides, step = [], 1
    for d in reversed(shape):
        strides.insert(0, step)
        step *= d
    return strides


def split_loops(where: str, shape: tuple[int, ...], axes: tuple[int, ...],
                w_shape: tuple[int, ...] | None = None) -> tuple[dict, dict]:
    """The tinyc_loops structs (kept, reduced) of an array of `shape` reduced over `axes`.

    w_shape (same rank, 1 where broadcast) gives the weight strides (scale, bias); none: all 0.
    Size-1 dims are dropped and neighbours that step like one dim are merged.
    """
    xs = contiguous_strides(shape)
    ws = [0] * len(shape)
    if w_shape is not None:
        ws = [0 if w == 1 else s for w, s in zip(w_shape, contiguous_strides(w_shape))]
    nests: dict[bool, list[list[int]]] = {False: [], True: []}  # [dim, x stride, w stride], outermost first
    for k, d in enumerate(shape):
        if d == 1:
            continue
        loops = nests[k in axes]
        if loops and loops[-1][1] == xs[k] * d and loops[-1][2] == ws[k] * d:
            loops[-1] = [loops[-1][0] * d, xs[k], ws[k]]
        else:
            loops.append([d, xs[k], ws[k]])
    structs = []
    for loops in (nests[False], nests[True]):
        if len(loops) > LOOPS_MAX_RANK:
            raise UnsupportedOp(f"{where}: axes {list(axes)} of {list(shape)} need {len(loops)} loops; "
                                f"at most {LOOPS_MAX_RANK}")
        table = np.array(loops or [[1, 0, 0]], np.int32)
        structs.append({"rank": len(loops), "dims": table[:, 0].copy(), "x_strides": table[:, 1].copy(),
                        "w_strides": table[:, 2].copy()})
    return structs[0], structs[1]
