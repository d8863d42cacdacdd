"""Normalizations: `normalize` (statistics over a set of axes, then y = (x - m) * inv * scale + bias;
the frontend lowers layer, group, instance, RMS, mean-variance and Lp normalization onto it) and
`lrn` (across channels). int8 for `normalize` (not L1, not the mean and inv_std outputs): integer
statistics, an integer inverse square root, scale and bias folded into one rounding shift; the scheme
is docs/normalization_int8.md, the C tinyc_normalize_s8. int8 lrn: an int32 sum of squares over the
window, then (bias + alpha / size * sum)^-beta from a table over the sum's range (exact below 2^6, then 32
points an octave, linear interpolation between them; see _lrn_table), one requantization.

The reference computes in float64 with the C's formulas (runtime_c/tinyc_norm.c: two passes, the
variance of x - mean) and rounds once.
"""

from __future__ import annotations

import numpy as np

from tinyc import quant
from tinyc.errors import UnsupportedOp
from tinyc.ir import Node
from tinyc.ops import KernelCall, Op, register
from tinyc.ops.common import scale_zp, split_loops

LRN_TABLE_BITS = 6  # sums below 2^6 exact, then 2^5 table points an octave (TINYC_LRN_TABLE_BITS)
LRN_G_BITS = 22  # g = (T(sum) / T(0))^-beta in (0, 1], Q22: (x - zp) * g fits int32
NORM_KINDS = {"moments": 0, "rms": 1, "l1": 2, "l2": 3}  # TINYC_NORM_*
Z_FRACTION_BITS = 16  # the normalized value z in Q16 (TINYC_NORM_Z_FRACTION_BITS)
MAX_COUNT = 1 << 22  # int8: |z| < 2^11 and every product below 2^62


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

    def quantize(self, node, g):
        a, where = node.attrs, f"node {node.name!r} (normalize {node.attrs['kind']})"
        x, scale, bias = node.inputs
        shape = g.tensors[x].shape
        count = int(np.prod([shape[k] for k in a["axes"]]))
        (s_x, zp_x), (s_y, zp_y) = scale_zp(g, x), scale_zp(g, node.outputs[0])
        if a["kind"] == "l1":
            raise UnsupportedOp(f"{where}: L1 normalization has no int8 form (a division by the sum)")
        if any(node.outputs[1:]):
            raise UnsupportedOp(f"{where}: the mean and inv_std outputs have no int8 form; only y")
        if a["epsilon_after"] * np.sqrt(count) > 1e-3 * s_x:  # MeanVarianceNormalization's 1e-9 passes
            raise UnsupportedOp(f"{where}: epsilon outside the square root ({a['epsilon_after']:g}) unsupported "
                                "in int8 unless negligible against the input scale")
        if count > MAX_COUNT:
            raise UnsupportedOp(f"{where}: int8 over {count} elements unsupported; at most {MAX_COUNT}")
        # The variance sum W grows with count^2 (count for L2); 4^f W stays below 2^61, 4^f E below 2^60
        # (E itself is capped there: then z < 2^-30 * 510 count, nothing of it left in int8).
        w_max = 255**2 * count * (1 if a["kind"] == "l2" else count)
        e = 0.0 if a["kind"] == "l2" else a["epsilon"] * count**2 / s_x**2
        f = (61 - w_max.bit_length()) // 2
        if e > 0:
            f = min(f, int(np.floor((60 - np.log2(e)) / 2)))
        f = max(f, 0)
        e = min(e * 4.0**f, 2.0**60)
        eps_shift = max(0, int(np.ceil(np.log2(e))) - 30) if e >= 1 else 0
        eps_mantissa = int(quant.round_half_away(e / 2.0**eps_shift))
        w_shape = g.tensors[scale or bias].shape if scale or bias else (1,) * len(shape)
        gamma = g.tensors[scale].data if scale else np.ones(w_shape)
        beta = g.tensors[bias].data if bias else np.zeros(w_shape)
        gamma, beta = (np.asarray(v, np.float64) / s_y for v in (gamma, beta))
        # y - zp_y = (z gamma + beta) / s_y at 2^-out_shift: gamma and beta as int32 below 2^30
        out_shift = min(30 - _log2_ceil(np.max(np.abs(beta))),
                        30 + Z_FRACTION_BITS - _log2_ceil(np.max(np.abs(gamma))))
        out_shift = max(out_shift, 1)
        g_q = quant.round_half_away(gamma * 2.0**(out_shift - Z_FRACTION_BITS))
        b_q = quant.round_half_away(beta * 2.0**out_shift)
        clip = (quant.INT32_MIN, quant.INT32_MAX)
        g_name = g.add_const((scale or node.name) + "_int8_gamma", np.clip(g_q, *clip).astype(np.int32), "int32")
        b_name = g.add_const((bias or node.name) + "_int8_beta", np.clip(b_q, *clip).astype(np.int32), "int32")
        int8 = {"kind": NORM_KINDS[a["kind"]], "count": count, "input_zp": zp_x, "output_zp": zp_y,
                "var_fraction_bits": f, "eps_mantissa": eps_mantissa, "eps_shift": eps_shift, "out_shift": out_shift}
        return Node(node.name, node.op, [x, g_name, b_name], list(node.outputs), {**a, "int8": int8})

    def ref_int8(self, node, xs):
        x, gamma, beta = xs
        p, axes = node.attrs["int8"], tuple(node.attrs["axes"])
        n, f = p["count"], p["var_fraction_bits"]
        inner = list(range(x.ndim - len(axes), x.ndim))

        def groups(v):  # [group, element], a group's elements in x's row-major order
            return np.moveaxis(np.broadcast_to(v, x.shape), axes, inner).reshape(-1, n).astype(np.int64)

        d = groups(x) - p["input_zp"]
        s1, s2 = d.sum(1, keepdims=True), (d * d).sum(1, keepdims=True)
        kind = {v: k for k, v in NORM_KINDS.items()}[p["kind"]]
        u, w = {"moments": (n * d - s1, n * s2 - s1 * s1), "rms": (n * d, n * s2), "l2": (d, s2)}[kind]
        big_d = (w << (2 * f)) + (p["eps_mantissa"] << p["eps_shift"])
        r, k = quant.inv_sqrt(np.where(w > 0, big_d, 1))
        shift = np.where(w > 0, 44 + k - f - Z_FRACTION_BITS, 0)
        z = np.where(w > 0, quant.rounding_divide_by_pot(u * r, shift), 0)  # Q16; a constant group: 0
        acc = z * groups(gamma) + groups(beta)
        y = quant.saturate(quant.rounding_divide_by_pot(acc, p["out_shift"]) + p["output_zp"])
        moved = tuple(s for k, s in enumerate(x.shape) if k not in axes) + tuple(x.shape[k] for k in axes)
        return [np.moveaxis(y.reshape(moved), inner, axes)]

    def kernel(self, node, g):
        x, scale, bias = node.inputs
        w_shape = g.tensors[scale or bias].shape if scale or bias else None
        kept, reduced = split_loops(f"node {node.name!r} (normalize)", g.tensors[x].shape,
                                    tuple(node.attrs["axes"]), w_shape)
        a = node.attrs
        if g.tensors[node.outputs[0]].dtype == "int8":
            return KernelCall("tinyc_normalize_s8", "tinyc_norm", "tinyc_normalize_s8_params",
                              {**a["int8"], "kept": kept, "reduced": reduced}, [x, scale, bias, node.outputs[0]])
        params = {"kind": NORM_KINDS[a["kind"]], "count": int(np.prod([g.tensors[x].shape[k] for k in a["axes"]])),
                  "epsilon": float(a["epsilon"]), "epsilon_after": float(a["epsilon_after"]),
                  "kept": kept, "reduced": reduced}
        outputs = list(node.outputs) + [""] * (3 - len(node.outputs))
        return KernelCall("tinyc_normalize_f32", "tinyc_norm", "tinyc_normalize_f32_params", params,
                          [x, scale, bias, *outputs])

    def in_place_inputs(self, node, g):
        return (0,)  # a group's elements are written after their last read, other groups untouched


def _log2_ceil(v: float) -> int:
    """The least integer e >= 0 with v <= 2^e."""
    return max(0, int(np.ceil(np.log2(v)))) if v > 0 else 0


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
        if g.tensors[node.outputs[0]].dtype == "int8":
            params = {k: params[k] for k in ("n", "c", "inner", "before", "after")}
            return KernelCall("tinyc_lrn_s8", "tinyc_norm", "tinyc_lrn_s8_params", {**params, **a["int8"]},
                              [node.inputs[0], node.outputs[0]])
        return KernelCall("tinyc_lrn_f32", "tinyc_norm", "tinyc_lrn_f32_params", params,
                          [node.inputs[0], node.outputs[0]])

    def quantize(self, node, g):
        a, where = node.attrs, f"node {node.name!r} (lrn)"
        if not (a["bias"] > 0 and a["alpha"] >= 0 and a["beta"] >= 0):
            raise UnsupportedOp(f"{where}: int8 needs bias > 0, alpha >= 0 and beta >= 0 (a falling power)")
        (s_in, zp_in), (s_out, zp_out) = scale_zp(g, node.inputs[0]), scale_zp(g, node.outputs[0])
        window = min(a["size"], g.tensors[node.inputs[0]].shape[1])
        if window * 255**2 >= 2**31:
            raise UnsupportedOp(f"{where}: int8 over a window of {window} channels unsupported (an int32 sum)")
        alpha_over_size = float(np.float32(a["alpha"] / a["size"]))  # the float op's
        table = _lrn_table(window * 255**2, s_in * s_in * alpha_over_size / a["bias"], a["beta"])
        m, s = quant.quantize_multiplier(s_in / s_out * a["bias"] ** -a["beta"] / 2**LRN_G_BITS)
        int8 = {"input_zp": zp_in, "output_zp": zp_out, "multiplier": m, "shift": s, "table": table}
        return Node(node.name, node.op, list(node.inputs), list(node.outputs), {**a, "int8": int8})

    def ref_int8(self, node, xs):
        a, p = node.attrs, node.attrs["int8"]
        d = xs[0].astype(np.int64) - p["input_zp"]
        before, after, channels = (a["size"] - 1) // 2, a["size"] // 2, d.shape[1]
        total = np.zeros_like(d)
        for c in range(channels):
            total[:, c] = np.sum(d[:, max(0, c - before):min(channels, c + after + 1)] ** 2, axis=1)
        acc = d * lrn_gain(total, p["table"].astype(np.int64))
        return [quant.saturate(quant.requantize(acc, p["multiplier"], p["shift"]) + p["output_zp"])]


def _lrn_point(k: int) -> int:
    """The sum at table index k: k below 2^B, then (2^(B-1) + j) 2^e at k = 2^B + (e - 1) 2^(B-1) + j."""
    if k < 1 << LRN_TABLE_BITS:
        return k
    e, j = divmod(k - (1 << LRN_TABLE_BITS), 1 << (LRN_TABLE_BITS - 1))
    return ((1 << (LRN_TABLE_BITS - 1)) + j) << (e + 1)


def _lrn_index(total: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(table index, fraction, shift e) of int64 sums: the sum is point(index) + fraction, fraction < 2^e."""
    bits = np.zeros_like(total)
    for b in range(40):
        bits = np.where(total >> b != 0, b + 1, bits)
    e = np.maximum(bits - LRN_TABLE_BITS, 0)
    index = np.where(e == 0, total, (1 << LRN_TABLE_BITS) + (e - 1) * (1 << (LRN_TABLE_BITS - 1))
                     + (total >> e) - (1 << (LRN_TABLE_BITS - 1)))
    return index, total & ((np.int64(1) << e) - 1), e


def _lrn_table(max_total: int, k: float, beta: float) -> np.ndarray:
    """round((1 + k * sum)^-beta * 2^22) at every table point up to one past max_total's segment."""
    last = int(_lrn_index(np.array([max_total], np.int64))[0][0]) + 1
    points = np.array([_lrn_point(i) for i in range(last + 1)], np.float64)
    return quant.round_half_away((1.0 + k * points) ** -beta * (1 << LRN_G_BITS)).astype(np.int32)


def lrn_gain(total: np.ndarray, table: np.ndarray) -> np.ndarray:
    """g(sum) in Q22 by linear interpolation in the table: G[i] + round((G[i+1] - G[i]) fraction / 2^e)."""
    index, fraction, e = _lrn_index(total)
    step = table[index + 1] - table[index]
    return table[index] + quant.rounding_divide_by_pot(step * fraction, e)
