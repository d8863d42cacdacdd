"""gru_kp: an ONNX GRU (one direction, forward or reverse, any batch, default activations) whose input
and recurrent matrices are Kronecker products, W = WA (x) WB (3H x I) and R = RA (x) RB (3H x H),
never formed. float32 and exact int8; the kronecker pass (tinyc.passes.kronecker) makes these nodes.

Inputs [X (T, B, I), WA, WB, RA, RB, B (1, 6H) or ""], outputs [Y (T, 1, B, H) or "", Y_h (1, B, H) or ""].
attrs: hidden_size, direction ("forward" or "reverse"), linear_before_reset.
Each A has a multiple of 3 rows, so gate g (z, r, h) is rows [g m1/3, (g+1) m1/3) of A, (x) B: a
gate's rows of W x are computed alone (the h gate's recurrent product reads r * h, not h).
Products run A first, T = A V (m1 x k2) with V the k1 x k2 view of the vector, then T B^T.

int8 scheme (docs/rnn_int8.md, "Kronecker-factored GRU"): the GRU's (Q3.12 gates, Q0.15 state,
table activations), with each matrix-vector product w.v replaced by
  T16 = sat16(requantize(A_q V, stage)),  acc = T16 B_q^T (int32),  requantize(acc, per row of A) -> Q3.12,
A_q int8 symmetric per row, B_q int8 symmetric per tensor; the stage factor
r1 = min(1, 32767 / (max|v| * max row L1 of A_q)) bounds |T| by 32767 for every input, so T16 never
saturates (max|v| = 255 for x - z_x, 32768 for h).
"""

from __future__ import annotations

import numpy as np

from tinyc import quant
from tinyc.errors import UnsupportedOp
from tinyc.ir import Node, QParams
from tinyc.ops import KernelCall, Op, common, get, register
from tinyc.ops.rnn import (GATE_FRAC, HALF, OUTPUT_Q, SIGMOID_TABLE, STATE_FRAC, TANH_TABLE, _mul_q15, _output_s8,
                           act_q15)
from tinyc.ops.rnn_tflm import sat16

INT16_MAX = 2**15 - 1
FACTORS = ("wa", "wb", "ra", "rb")  # inputs 1..4


def factor_shapes(node: Node) -> dict[str, tuple[int, int]]:
    return {k: tuple(node.attrs["shape_" + k]) for k in FACTORS}


def _l1max(w: np.ndarray) -> int:
    return int(np.abs(w.astype(np.int64)).sum(axis=1).max())


def kp_float(a: np.ndarray, b: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(A (x) B) v for every row of v (N, k1*k2), float64: vec(A V B^T)."""
    (m1, k1), (m2, k2) = a.shape, b.shape
    t = np.matmul(a, v.reshape(-1, k1, k2))
    return (t @ b.T).reshape(len(v), m1 * m2)


def kp_int(a: np.ndarray, b: np.ndarray, v: np.ndarray, stage: tuple[int, int], rows: slice) -> np.ndarray:
    """int8 scheme's product of one vector v (int64, k1*k2) with rows `rows` of A (x) B: the int32 acc."""
    (_, k1), (_, k2) = a.shape, b.shape
    t = a[rows].astype(np.int64) @ v.reshape(k1, k2)  # exact: |t| < 2^31 (quantize checks)
    t16 = np.clip(quant.requantize(t, *stage), -(2**15), INT16_MAX)
    return (t16 @ b.T.astype(np.int64)).reshape(-1)


@register
class GruKP(Op):
    """GRU with W = WA (x) WB and R = RA (x) RB (one direction)."""

    name = "gru_kp"

    def infer_shape(self, node, in_shapes):
        t, batch, n_in = in_shapes[0]
        h = node.attrs["hidden_size"]
        s = factor_shapes(node)
        for k, shape in zip(FACTORS, in_shapes[1:5]):
            assert shape == s[k], f"node {node.name!r} (gru_kp): {k} {shape} vs {s[k]}"
        (mw1, kw1), (mw2, kw2) = s["wa"], s["wb"]
        (mr1, kr1), (mr2, kr2) = s["ra"], s["rb"]
        assert mw1 * mw2 == 3 * h and kw1 * kw2 == n_in and mr1 * mr2 == 3 * h and kr1 * kr2 == h, (
            f"node {node.name!r} (gru_kp): factors {s} vs hidden {h}, input {n_in}")
        assert mw1 % 3 == 0 and mr1 % 3 == 0, f"node {node.name!r} (gru_kp): rows of A must split into 3 gates"
        return [(t, 1, batch, h), (1, batch, h)][: len(node.outputs)]

    def macs(self, node, in_shapes, out_shapes):
        t, batch, _ = in_shapes[0]
        s = factor_shapes(node)
        per = sum(a[0] * b[1] * (a[1] + b[0]) for a, b in ((s["wa"], s["wb"]), (s["ra"], s["rb"])))
        return t * batch * per

    def output_qparams(self, node, g, calibrated):
        return [OUTPUT_Q, OUTPUT_Q][: len(calibrated)]

    def _gru_node(self, node) -> Node:
        return Node(node.name, "gru", [], list(node.outputs), {k: v for k, v in node.attrs.items()
                                                                if not k.startswith("shape_")})

    def ref_float(self, node, xs):
        x, wa, wb, ra, rb, b = (list(xs) + [None] * 6)[:6]
        w = np.kron(wa.astype(np.float64), wb.astype(np.float64)).astype(np.float32)[None]
        r = np.kron(ra.astype(np.float64), rb.astype(np.float64)).astype(np.float32)[None]
        return get("gru").ref_float(self._gru_node(node), [x, w, r, b])

    def quantize(self, node, g):
        x = node.inputs[0]
        hidden = node.attrs["hidden_size"]
        s_x, z_x = common.scale_zp(g, x)
        p = {"input_zp": z_x}
        names = [x]
        for mat, v_max, v_scale in (("w", max(128 + z_x, 127 - z_x), s_x), ("r", 2**STATE_FRAC, 2.0**-STATE_FRAC)):
            a_name, b_name = node.inputs[1 + 2 * (mat == "r")], node.inputs[2 + 2 * (mat == "r")]
            a_q, qa = quant.quantize_weights_per_channel(g.tensors[a_name].data, axis=0)
            b_q, qb = quant.quantize_weights_per_channel(g.tensors[b_name].data.reshape(1, -1), axis=0)
            b_q = b_q.reshape(g.tensors[b_name].shape)
            if INT16_MAX * _l1max(b_q) > quant.INT32_MAX:
                raise UnsupportedOp(f"node {node.name!r} (gru_kp): {mat} factor B {b_q.shape}: int16 x int8 sums "
                                    "may overflow int32; use a smaller B")
            bound = v_max * _l1max(a_q)
            if bound > quant.INT32_MAX:
                raise UnsupportedOp(f"node {node.name!r} (gru_kp): {mat} factor A {a_q.shape} too wide for int32")
            sm, ss = quant.quantize_multiplier(min(1.0, INT16_MAX / max(bound, 1)))
            r1 = sm * 2.0 ** (ss - 31)
            mult, shift = quant.quantize_multipliers(v_scale * qa.scale * float(qb.scale[0]) / r1 * 2.0**GATE_FRAC)
            p.update({mat + "_stage_multiplier": sm, mat + "_stage_shift": ss,
                      mat + "_multiplier": mult, mat + "_shift": shift})
            names += [g.add_const(a_name + "_q", a_q, "int8", qa),
                      g.add_const(b_name + "_q", b_q, "int8", QParams.per_tensor(float(qb.scale[0]), 0))]
            g.tensors[names[-2]].format = "kp"
        b = node.inputs[5] if len(node.inputs) > 5 else ""
        b_real = g.tensors[b].data.reshape(6 * hidden).astype(np.float64) if b else np.zeros(6 * hidden)
        bias = quant.quantize_bias(get("gru")._bias_real(b_real, hidden), np.float64(2.0**-GATE_FRAC))
        names.append(g.add_const((b or node.name + "_B") + "_q", bias, "int32"))
        return Node(node.name, node.op, names, list(node.outputs), dict(node.attrs, int8=p))

    def ref_int8(self, node, xs):
        x, wa, wb, ra, rb, bias = xs[:6]
        p = node.attrs["int8"]
        hid = node.attrs["hidden_size"]
        steps, batch, _ = x.shape
        backward = node.attrs.get("direction", "forward") == "reverse"
        before_reset = int(node.attrs.get("linear_before_reset", 0))
        bias = bias.astype(np.int64)
        y = np.zeros((steps, 1, batch, hid), np.int8)
        y_h = np.zeros((1, batch, hid), np.int8)

        def product(mat, a, b, v, gates):  # requantized Q3.12 rows of gates (a range of 0, 1, 2)
            third = a.shape[0] // 3
            rows = slice(gates.start * third, gates.stop * third)
            acc = kp_int(a, b, v, (p[mat + "_stage_multiplier"], p[mat + "_stage_shift"]), rows)
            per_row = b.shape[0]
            return quant.requantize(acc, np.repeat(p[mat + "_multiplier"][rows], per_row),
                                    np.repeat(p[mat + "_shift"][rows], per_row))

        for n in range(batch):
            h = np.zeros(hid, np.int64)
            for t in (reversed(range(steps)) if backward else range(steps)):
                gx = product("w", wa, wb, x[t, n].astype(np.int64) - p["input_zp"], range(0, 3))
                zr = sat16(gx[:2 * hid] + product("r", ra, rb, h, range(0, 2)) + bias[:2 * hid])
                z, reset = act_q15(SIGMOID_TABLE, zr[:hid]), act_q15(SIGMOID_TABLE, zr[hid:])
                n_x = gx[2 * hid:] + bias[2 * hid:3 * hid]
                if before_reset:
                    inner = sat16(product("r", ra, rb, h, range(2, 3)) + bias[3 * hid:])
                    gate_n = sat16(n_x + _mul_q15(reset, inner))
                else:
                    gate_n = sat16(n_x + product("r", ra, rb, _mul_q15(reset, h), range(2, 3)) + bias[3 * hid:])
                h = ((32768 - z) * act_q15(TANH_TABLE, gate_n) + z * h + HALF) >> STATE_FRAC
                y[t, 0, n] = _output_s8(h)
            y_h[0, n] = _output_s8(h)
        return [y, y_h][: len(node.outputs)]

    def kernel(self, node, g):
        x = node.inputs[0]
        t, batch, n_in = g.tensors[x].shape
        hid = node.attrs["hidden_size"]
        s = factor_shapes(node)
        outputs = list(node.outputs) + [""] * (2 - len(node.outputs))
        args = list(node.inputs[:6]) + [""] * (6 - len(node.inputs)) + outputs
        shapes = {k: {"rows": s[k][0], "cols": s[k][1]} for k in FACTORS}
        base = {"dims": {"seq_len": t, "input_size": n_in, "hidden_size": hid}, "batch": batch,
                "reverse": int(node.attrs.get("direction", "forward") == "reverse"),
                "linear_before_reset": int(node.attrs.get("linear_before_reset", 0)), **shapes}
        t_max = max(s["wa"][0] * s["wb"][1], s["ra"][0] * s["rb"][1])
        if g.tensors[node.first_output].dtype == "float32":
            scratch = 4 * (9 * hid + t_max)  # h, z, r h or n, W x (3H), R h (3H), T
            return KernelCall("tinyc_gru_kp_f32", "tinyc_rnn_kp", "tinyc_gru_kp_f32_params", base, args, scratch)
        p = node.attrs["int8"]
        params = dict(base, input_zp=p["input_zp"])
        for mat in ("w", "r"):
            params[mat + "_stage"] = {"multiplier": p[mat + "_stage_multiplier"], "shift": p[mat + "_stage_shift"]}
            params[mat + "_requant"] = {"multiplier": p[mat + "_multiplier"], "shift": p[mat + "_shift"]}
        params.update({"sigmoid_table": SIGMOID_TABLE, "tanh_table": TANH_TABLE})
        # int32 gx, gh (3H each); int16 z, tmp, h (H each), T, and the product's input vector
        scratch = 4 * 6 * hid + 2 * (3 * hid + t_max + max(n_in, hid))
        return KernelCall("tinyc_gru_kp_s8", "tinyc_rnn_kp", "tinyc_gru_kp_s8_params", params, args, scratch)
