"""dense_kp: a dense layer whose weight is A (x) B (np.kron), plus an optional sparse residual, computed
without forming W. float32 and exact int8; the pass that makes these nodes is tinyc.passes.kronecker.

Inputs [X, A (m1 x k1), B (m2 x k2), bias (M) or "", residual (M x K, zeros off its CSR entries) or ""],
M = m1*m2, K = k1*k2; y = x @ (A (x) B)^T + x @ residual^T + bias, then the fused clamp.
Identity (row-major vec, which is np.kron's layout): (A (x) B) vec(X) = vec(A X B^T) with X the k1 x k2
view of one input row. Two orders: "A first" T = A X (m1 x k2), then Y = T B^T: m1*k1*k2 + m1*m2*k2
MACs per row; "B first" T' = B X^T (m2 x k1), then Y = A T'^T: m2*k1*k2 + m1*m2*k1. The cheaper runs
(ties: A first); T lives in scratch (int16 in int8, float in float32).

int8 scheme (exact integers; C and ref_int8 agree bit for bit):
- x int8 (s_x, z_x); A int8 symmetric per row (s_a[i1], m1 scales); B int8 symmetric per tensor (s_b).
- stage 1: T = F (X - z_x) in int32 with F the first factor, then T16 = sat16(requantize(T, r1)), with
  r1 = min(1, 32767 / (max|x - z_x| * max row L1 of F)): a bound on |T| over every int8 input, so
  T16 never saturates and keeps >= 15 bits of T's range.
- stage 2: acc = T16 . (second factor rows) in int32; max|T16| * max row L1 of the second factor
  must fit int32, or the other order is used, or UnsupportedOp. acc's real scale per row of A is
  s_acc[i1] = s_x * s_a[i1] * s_b / r1 (r1 as quantized).
- residual: int8 symmetric per tensor (s_r), stored CSR (tinyc.sparse.encode_csr); racc = sum r * (x - z_x)
  in int32, added as requantize(racc, s_x * s_r / s_acc[i1]) with int32 saturation.
- bias int32 at s_acc (saturating add), output requantize(acc, s_acc[i1] / s_y) + z_y, clamp.
"""

from __future__ import annotations

import numpy as np

from tinyc import quant, sparse
from tinyc.errors import UnsupportedOp
from tinyc.ir import Graph, Node, QParams
from tinyc.ops import KernelCall, Op, common, register

INT16_MIN, INT16_MAX = -(2**15), 2**15 - 1


def a_first(shape_a: tuple[int, int], shape_b: tuple[int, int]) -> bool:
    """True when the A-first order needs no more MACs per row than the B-first order."""
    (m1, k1), (m2, k2) = shape_a, shape_b
    return m1 * k2 * (k1 + m2) <= m2 * k1 * (k2 + m1)


def _shapes(node: Node) -> tuple[tuple[int, int], tuple[int, int]]:
    return tuple(node.attrs["shape_a"]), tuple(node.attrs["shape_b"])


def _order(node: Node) -> bool:
    p = node.attrs.get("int8")
    return bool(p["a_first"]) if p is not None else a_first(*_shapes(node))


def _geometry(node: Node, x_shape: tuple[int, ...]) -> dict:
    """The tinyc_kp_shape struct: vectors to transform and element strides of x and y.

    layout "dense": x (..., K) row-major, a row per vector. "nchw" (a 1x1 conv, batch 1): a pixel
    per vector, its channels P = H*W elements apart.
    """
    (m1, k1), (m2, k2) = _shapes(node)
    if node.attrs.get("layout", "dense") == "dense":
        assert x_shape[-1] == k1 * k2, f"node {node.name!r} (dense_kp): x {x_shape}, K {k1 * k2}"
        rows = int(np.prod(x_shape[:-1], dtype=np.int64))
        strides = (k1 * k2, 1, m1 * m2, 1)
    else:
        assert x_shape[0] == 1 and x_shape[1] == k1 * k2, f"node {node.name!r} (dense_kp): x {x_shape}"
        rows = int(np.prod(x_shape[2:], dtype=np.int64))
        strides = (1, rows, 1, rows)
    keys = ("in_row_stride", "in_feature_stride", "out_row_stride", "out_feature_stride")
    return dict({"rows": rows, "m1": m1, "k1": k1, "m2": m2, "k2": k2}, **dict(zip(keys, strides)))


def _as_rows(node: Node, x: np.ndarray) -> np.ndarray:
    """x as (vectors, K) float64."""
    if node.attrs.get("layout", "dense") == "dense":
        return x.reshape(-1, x.shape[-1]).astype(np.float64)
    return x.reshape(x.shape[1], -1).T.astype(np.float64)


def _from_rows(node: Node, y: np.ndarray, x_shape: tuple[int, ...]) -> np.ndarray:
    """(vectors, M) back to the output's shape."""
    if node.attrs.get("layout", "dense") == "dense":
        return np.ascontiguousarray(y.reshape(*x_shape[:-1], y.shape[-1]))
    return np.ascontiguousarray(y.T.reshape(1, y.shape[-1], *x_shape[2:]))


def _factorised(xr: np.ndarray, a: np.ndarray, b: np.ndarray, first: bool, stage=None) -> np.ndarray:
    """vec(A X B^T) for every row of xr (float64), (rows, m1*m2); stage maps the intermediate."""
    (m1, k1), (m2, k2) = a.shape, b.shape
    x = xr.reshape(-1, k1, k2)
    stage = stage or (lambda t: t)
    if first:
        y = stage(np.matmul(a, x)) @ b.T  # T = A X: (rows, m1, k2)
    else:
        y = a @ np.swapaxes(stage(np.matmul(b, np.swapaxes(x, 1, 2))), 1, 2)  # T' = B X^T: (rows, m2, k1)
    return y.reshape(len(xr), m1 * m2)


def _csr(values: np.ndarray) -> dict:
    """The tinyc_kp_csr_* struct of a residual: tinyc.sparse.encode_csr, index widths in bytes."""
    enc = sparse.encode_csr(values)
    return {"values": enc["values"], "cols": enc["cols"], "col_bytes": enc["cols"].itemsize,
            "row_ptr": enc["row_ptr"], "row_ptr_bytes": enc["row_ptr"].itemsize}


def _l1max(w: np.ndarray) -> int:
    return int(np.abs(w.astype(np.int64)).sum(axis=1).max())


@register
class DenseKP(Op):
    """y = x @ (A (x) B + residual)^T + b, then the fused clamp; attrs shape_a, shape_b, layout, act."""

    name = "dense_kp"

    def infer_shape(self, node, in_shapes):
        x = in_shapes[0]
        (m1, k1), (m2, k2) = _shapes(node)
        assert in_shapes[1] == (m1, k1) and in_shapes[2] == (m2, k2), f"node {node.name!r}: {in_shapes}"
        _geometry(node, x)
        if node.attrs.get("layout", "dense") == "dense":
            return [tuple(x[:-1]) + (m1 * m2,)]
        return [(x[0], m1 * m2) + tuple(x[2:])]

    def macs(self, node, in_shapes, out_shapes):
        geom = _geometry(node, in_shapes[0])
        (m1, k1), (m2, k2) = _shapes(node)
        per_row = m1 * k2 * (k1 + m2) if _order(node) else m2 * k1 * (k2 + m1)
        return geom["rows"] * (per_row + int(node.attrs.get("residual_nnz", 0)))

    def ref_float(self, node, xs):
        x, a, b, bias, res = xs
        xr = _as_rows(node, x)
        y = _factorised(xr, a.astype(np.float64), b.astype(np.float64), a_first(a.shape, b.shape))
        if res is not None:
            y += xr @ res.astype(np.float64).T
        if bias is not None:
            y += bias.astype(np.float64)
        return [common.apply_act_float(node, _from_rows(node, y, x.shape))]

    def quantize(self, node: Node, g: Graph) -> Node:
        x, a, b, bias, res = node.inputs
        s_x, z_x = common.scale_zp(g, x)
        s_y, z_y = common.scale_zp(g, node.outputs[0])
        (m1, k1), (m2, k2) = _shapes(node)
        a_q, qa = quant.quantize_weights_per_channel(g.tensors[a].data, axis=0)
        b_q, qb = quant.quantize_weights_per_channel(g.tensors[b].data.reshape(1, -1), axis=0)
        b_q, s_b = b_q.reshape(m2, k2), float(qb.scale[0])
        x_max = max(128 + z_x, 127 - z_x)  # largest |x - z_x| of any int8 input
        orders = [a_first((m1, k1), (m2, k2))]
        orders.append(not orders[0])
        fits = [o for o in orders if INT16_MAX * _l1max(b_q if o else a_q) <= quant.INT32_MAX]
        if not fits:
            raise UnsupportedOp(f"node {node.name!r} (dense_kp): int16 x int8 sums over k1={k1} or k2={k2} "
                                "may overflow int32; use smaller factors")
        first = fits[0]
        t_bound = x_max * _l1max(a_q if first else b_q)
        assert t_bound <= quant.INT32_MAX, f"node {node.name!r}: stage 1 bound {t_bound}"
        stage_mult, stage_shift = quant.quantize_multiplier(min(1.0, INT16_MAX / max(t_bound, 1)))
        r1 = stage_mult * 2.0 ** (stage_shift - 31)  # the stage-1 factor as the integers apply it
        s_acc = s_x * qa.scale * s_b / r1  # real value of one unit of acc, per row of A
        mult, shift = quant.quantize_multipliers(s_acc / s_y)
        clamp = common.act_clamp_s8(node, g.tensors[node.outputs[0]].q)
        int8 = {"input_zp": z_x, "output_zp": z_y, "a_first": int(first), "stage_multiplier": stage_mult,
                "stage_shift": stage_shift, "multiplier": mult, "shift": shift,
                "act_min": clamp["min"], "act_max": clamp["max"]}
        doped = bool(res)
        a_name = g.add_const(a + "_q", a_q, "int8", qa)
        g.tensors[a_name].format = "dkp" if doped else "kp"
        b_name = g.add_const(b + "_q", b_q, "int8", QParams.per_tensor(s_b, 0))
        b_bias = common.quantize_bias(g, bias, np.repeat(s_acc, m2), m1 * m2) if bias else ""
        r_name, nnz = "", 0
        if doped:
            r = g.tensors[res].data.astype(np.float64)
            amax = float(np.abs(r).max())
            s_r = amax / 127.0 if amax > 0 else 1.0
            r_q = quant.saturate(quant.round_half_away(r / s_r), -127, 127)
            r_name = g.add_const(res + "_q", r_q, "int8", QParams.per_tensor(s_r, 0))
            g.tensors[r_name].format = "csr"
            nnz = int(np.count_nonzero(r_q))
            int8["residual_multiplier"], int8["residual_shift"] = quant.quantize_multipliers(s_x * s_r / s_acc)
        attrs = dict(node.attrs, int8=int8, residual_nnz=nnz)
        return Node(node.name, node.op, [x, a_name, b_name, b_bias, r_name], list(node.outputs), attrs)

    def ref_int8(self, node, xs):
        x, a, b, bias, res = xs
        p = node.attrs["int8"]
        m2 = b.shape[0]

        def per_row_of_a(v: np.ndarray) -> np.ndarray:  # one value per row of A -> per output feature
            return np.repeat(v, m2)

        def to_int16(t: np.ndarray) -> np.ndarray:
            t = quant.requantize(np.rint(t).astype(np.int64), p["stage_multiplier"], p["stage_shift"])
            return np.clip(t, INT16_MIN, INT16_MAX).astype(np.float64)

        # float64 BLAS on integer values is exact below 2**53 (|acc| < 2**31 here).
        xr = _as_rows(node, x) - p["input_zp"]
        acc = np.rint(_factorised(xr, a.astype(np.float64), b.astype(np.float64), bool(p["a_first"]),
                                  to_int16)).astype(np.int64)
        if res is not None:
            racc = np.rint(xr @ res.astype(np.float64).T).astype(np.int64)
            extra = quant.requantize(racc, per_row_of_a(p["residual_multiplier"]), per_row_of_a(p["residual_shift"]))
            acc = np.clip(acc + extra, quant.INT32_MIN, quant.INT32_MAX)
        if bias is not None:  # saturating, as tinyc_add_bias_sat
            acc = np.clip(acc + bias.astype(np.int64), quant.INT32_MIN, quant.INT32_MAX)
        v = quant.requantize(acc, per_row_of_a(p["multiplier"]), per_row_of_a(p["shift"]))
        y = quant.saturate(v + p["output_zp"], p["act_min"], p["act_max"])
        return [_from_rows(node, y, x.shape)]

    def kernel(self, node, g):
        x, a, b, bias, res = node.inputs
        y = node.outputs[0]
        geom = _geometry(node, g.tensors[x].shape)
        first = _order(node)
        t_size = geom["m1"] * geom["k2"] if first else geom["m2"] * geom["k1"]
        doped = "dkp" if res else "kp"
        args = [x, a, b, bias, y]  # the residual travels as CSR params, never as its dense tensor
        if common.out_dtype(node, g) == "float32":
            params = {"shape": geom, "a_first": int(first), "clamp": common.act_clamp_f32(node)}
            if res:
                params = {"kp": params, "residual": _csr(g.tensors[res].data.astype(np.float32))}
            return KernelCall(f"tinyc_dense_{doped}_f32", "tinyc_kronecker", f"tinyc_dense_{doped}_f32_params",
                              params, args, scratch_bytes=4 * t_size)
        p = node.attrs["int8"]
        params = {"shape": geom, "a_first": p["a_first"], "input_zp": p["input_zp"], "output_zp": p["output_zp"],
                  "stage_multiplier": p["stage_multiplier"], "stage_shift": p["stage_shift"],
                  "requant": {"multiplier": p["multiplier"], "shift": p["shift"]},
                  "clamp": {"min": p["act_min"], "max": p["act_max"]}}
        if res:
            params = {"kp": params, "residual": _csr(g.tensors[res].data),
                      "residual_requant": {"multiplier": p["residual_multiplier"], "shift": p["residual_shift"]}}
        return KernelCall(f"tinyc_dense_{doped}_s8", "tinyc_kronecker", f"tinyc_dense_{doped}_s8_params",
                          params, args, scratch_bytes=2 * t_size)
