"""Recurrent ops rnn, lstm and gru: ONNX semantics (layout 0; the frontend transposes layout 1).

Inputs [X, W, R, B|"", "", initial_h|"", initial_c|"" (lstm), P|"" (lstm)], outputs [Y|"", Y_h|"", Y_c|"" (lstm)].
float32: any direction, batch, clip, activations, peepholes, input_forget. int8 (lstm, gru): any direction
and batch, default activations only; its scheme (Q3.12 gates, Q0.15 state, table activations) is docs/rnn_int8.md.
"""

from __future__ import annotations

import numpy as np

from tinyc import quant
from tinyc.errors import UnsupportedOp
from tinyc.ir import Node, QParams
from tinyc.ops import KernelCall, Op, common, register
from tinyc.ops.rnn_tflm import sat16, tflm_lstm_ref

GATE_FRAC = 12  # gate pre-activations are Q3.12 int16
STATE_FRAC = 15  # h is Q0.15 int16, c is Q16.15 int32
HALF = 1 << (STATE_FRAC - 1)  # rounding term of a Q0.15 product
INT16_MIN, INT16_MAX = -(1 << 15), (1 << 15) - 1
OUTPUT_Q = QParams.per_tensor(1.0 / 128, 0)  # Y, Y_h: h in [-1, 1]
# Accumulators stay in int32 while sum |w| * |x| fits: 127 * 255 * I and 127 * 32768 * H.
MAX_INPUT, MAX_HIDDEN = (2**31 - 1) // (127 * 255), (2**31 - 1) // (127 * 32768)


def _table(fn) -> np.ndarray:
    """257 Q0.15 samples of fn at x = -8 + k/16 (k = 0..256), rounded, saturated to int16."""
    x = -8.0 + np.arange(257, dtype=np.float64) / 16
    return np.clip(quant.round_half_away(fn(x) * 32768), INT16_MIN, INT16_MAX).astype(np.int16)


SIGMOID_TABLE = _table(lambda x: 1.0 / (1.0 + np.exp(-x)))
TANH_TABLE = _table(np.tanh)


def act_q15(table: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Q3.12 int16 values -> Q0.15 by table lookup with 8-bit linear interpolation (int64 out)."""
    u = np.asarray(x, np.int64) + 32768  # 0..65535: index in the high 8 bits, fraction in the low 8
    i, frac = u >> 8, u & 255
    t = table.astype(np.int64)
    y = t[i] + (((t[i + 1] - t[i]) * frac + 128) >> 8)  # >> is arithmetic, as gcc's on int32
    return np.clip(y, INT16_MIN, INT16_MAX)


def _mul_q15(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Product of two Q0.15 (or Q0.15 x Q-anything) values, rounded back by 15 bits."""
    return (a * b + HALF) >> STATE_FRAC


def _output_s8(h: np.ndarray) -> np.ndarray:
    """Q0.15 -> int8 at scale 1/128, zero point 0: rounding shift of 8, saturate."""
    return quant.saturate((h + 128) >> 8)


def _state_in(v: np.ndarray | None, p: dict, key: str, size: int) -> np.ndarray:
    """Initial state: int8 tensor -> fixed point by requantize(q - zero_point), or zeros."""
    if v is None:
        return np.zeros(size, np.int64)
    s = quant.requantize(v.reshape(size).astype(np.int64) - p[key + "_zp"], p[key + "_multiplier"], p[key + "_shift"])
    return sat16(s) if key == "initial_h" else s


def _quantize_rows(g, name: str, dirs: int, gh: int) -> tuple[str, np.ndarray]:
    """W or R [D, GH, K] as int8 with one symmetric scale per (direction, gate row): (name, scales [D * GH])."""
    t = g.tensors[name]
    if t.q is not None:  # a QDQ weight keeps its own parameters (per row or per tensor, shared by directions)
        new, q = common.quantize_weight(g, name, axis=1)
        return new, np.tile(np.broadcast_to(q.scale, gh), dirs)
    data, q = quant.quantize_weights_per_channel(t.data.reshape(dirs * gh, -1), axis=0)
    q = QParams(q.scale, q.zero_point, 1)  # along the gate rows; with D = 2 the D * GH scales run direction-major
    return g.add_const(name + "_q", data.reshape(t.data.shape), "int8", q), q.scale


def gate_row_order(op: str, hidden: int) -> tuple[list[tuple[int, ...]], list[int]]:
    """The gate rows of one direction in the order tinyc_lstm_s8 / tinyc_gru_s8 compute them: quads of 4 rows
    computed together, and rows computed alone (each in its turn). LSTM: gates i, o, f, c of each unit. GRU:
    z, r of units j, j+1 (an odd last unit's z and r alone), then the n rows of units j..j+3 (the last H % 4 alone)."""
    if op == "lstm":
        return [(j, hidden + j, 2 * hidden + j, 3 * hidden + j) for j in range(hidden)], []
    quads = [(j, j + 1, hidden + j, hidden + j + 1) for j in range(0, hidden - 1, 2)]
    single = [hidden - 1, 2 * hidden - 1] if hidden % 2 else []
    n4 = hidden - hidden % 4
    quads += [tuple(2 * hidden + j + k for k in range(4)) for j in range(0, n4, 4)]
    return quads, single + [2 * hidden + j for j in range(n4, hidden)]


def packed_weights(w: np.ndarray, op: str, hidden: int) -> np.ndarray:
    """W [D, G*H, K] (or R) int8 as the int8 kernels read it, as int32 words (same bytes, word aligned): per
    direction every quad of gate_row_order (per group of 8 columns, the 8 weights of row 0, 1, 2, 3; then the
    K % 8 last weights of row 0, 1, 2, 3), then the lone rows in order; each direction padded to 4 bytes."""
    quads, single = gate_row_order(op, hidden)
    k = w.shape[2]
    full = k - k % 8
    blocks = []
    for wd in w:
        parts = []
        for quad in quads:
            rows = wd[list(quad)]
            groups = rows[:, :full].reshape(4, full // 8, 8).transpose(1, 0, 2)
            parts += [groups.reshape(-1), rows[:, full:].reshape(-1)]
        parts += [wd[row] for row in single]
        block = np.concatenate(parts).astype(np.int8)
        blocks.append(np.concatenate([block, np.zeros(-len(block) % 4, np.int8)]))
    return np.concatenate(blocks).view("<i4").astype(np.int32)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # exp(88+) is inf and the sigmoid correctly 0
        return (1.0 / (1.0 + np.exp(-x))).astype(np.float32)


# ONNX RNN activation functions: C code (TINYC_RNN_ACT_* in runtime_c/tinyc_rnn.h) and default (alpha, beta).
ACTIVATIONS = {"Sigmoid": (0, 0.0, 0.0), "Tanh": (1, 0.0, 0.0), "Relu": (2, 0.0, 0.0), "Affine": (3, 1.0, 0.0),
               "LeakyRelu": (4, 0.01, 0.0), "ThresholdedRelu": (5, 1.0, 0.0), "ScaledTanh": (6, 1.0, 1.0),
               "HardSigmoid": (7, 0.2, 0.5), "Elu": (8, 1.0, 0.0), "Softsign": (9, 0.0, 0.0),
               "Softplus": (10, 0.0, 0.0)}
USES_ALPHA = {"Affine", "LeakyRelu", "ThresholdedRelu", "ScaledTanh", "HardSigmoid", "Elu"}
USES_BETA = {"Affine", "ScaledTanh", "HardSigmoid"}
DEFAULT_ACTS = {"rnn": ("Tanh",), "gru": ("Sigmoid", "Tanh"), "lstm": ("Sigmoid", "Tanh", "Tanh")}


def activate(act: tuple, x: np.ndarray) -> np.ndarray:
    """One ONNX activation act = (name, alpha, beta) of float32 x, in float32."""
    name, a, b = act
    x = np.asarray(x, np.float32)
    a, b = np.float32(a), np.float32(b)
    with np.errstate(over="ignore"):
        y = {"Sigmoid": lambda: _sigmoid(x), "Tanh": lambda: np.tanh(x), "Relu": lambda: np.maximum(x, 0),
             "Affine": lambda: a * x + b, "LeakyRelu": lambda: np.where(x >= 0, x, a * x),
             "ThresholdedRelu": lambda: np.where(x > a, x, 0), "ScaledTanh": lambda: a * np.tanh(b * x),
             "HardSigmoid": lambda: np.clip(a * x + b, 0, 1), "Elu": lambda: np.where(x >= 0, x, a * np.expm1(x)),
             "Softsign": lambda: x / (1 + np.abs(x)), "Softplus": lambda: np.logaddexp(0, x)}[name]()
    return np.asarray(y, np.float32)


def node_acts(node: Node, op: str) -> list[tuple]:
    """attrs["acts"]: (name, alpha, beta) per function, all of direction 0 then of direction 1."""
    dirs = 2 if node.attrs.get("direction", "forward") == "bidirectional" else 1
    return list(node.attrs.get("acts") or [(a, *ACTIVATIONS[a][1:]) for a in DEFAULT_ACTS[op]] * dirs)


class _Rnn(Op):
    """What RNN, LSTM and GRU share: shapes, MACs, the float loop over directions, weight quantization, kernels."""

    gates = 0  # G: 1 (rnn), 4 (iofc) or 3 (zrh)
    n_states = 1  # h, plus c for LSTM
    scratch_f32 = scratch_s8 = 0  # kernel scratch bytes per hidden unit

    def infer_shape(self, node, in_shapes):
        t, batch, _ = in_shapes[0]
        dirs = in_shapes[1][0]
        h = node.attrs["hidden_size"]
        return [(t, dirs, batch, h), (dirs, batch, h), (dirs, batch, h)][: len(node.outputs)]

    def macs(self, node, in_shapes, out_shapes):
        t, batch, i = in_shapes[0]
        h = node.attrs["hidden_size"]
        return in_shapes[1][0] * batch * t * self.gates * h * (i + h)

    def output_qparams(self, node, g, calibrated):
        # h is in [-1, 1]: Y and Y_h get the fixed scale 1/128; Y_c keeps its calibrated range.
        return [OUTPUT_Q, OUTPUT_Q, *calibrated[2:]][: len(calibrated)]

    def ref_float(self, node, xs):
        x, w, r, b, _, h0, c0, peep = (list(xs) + [None] * 8)[:8]
        steps, batch, _ = x.shape
        dirs, gh = w.shape[0], w.shape[1]
        hidden = node.attrs["hidden_size"]
        acts = node_acts(node, self.name)
        per_dir = len(acts) // dirs
        y = np.zeros((steps, dirs, batch, hidden), np.float32)
        y_h, y_c = np.zeros((dirs, batch, hidden), np.float32), np.zeros((dirs, batch, hidden), np.float32)
        for d in range(dirs):
            bd = np.zeros(2 * gh, np.float32) if b is None else b[d].astype(np.float32)
            h = np.zeros((batch, hidden), np.float32) if h0 is None else h0[d].astype(np.float32)
            c = np.zeros((batch, hidden), np.float32) if c0 is None else c0[d].astype(np.float32)
            xw = x.astype(np.float32) @ w[d].T.astype(np.float32) + bd[:gh]  # [T, B, GH]
            backwards = d == 1 or node.attrs.get("direction", "forward") == "reverse"
            cell = {"acts": acts[d * per_dir:(d + 1) * per_dir], "clip": node.attrs.get("clip"),
                    "peep": None if peep is None else peep[d].astype(np.float32)}
            for t in (reversed(range(steps)) if backwards else range(steps)):
                h, c = self._step_float(node, xw[t], r[d].astype(np.float32), bd[gh:], h, c, cell)
                y[t, d] = h
            y_h[d], y_c[d] = h, c
        return [y, y_h, y_c][: len(node.outputs)]

    @staticmethod
    def _clip(v: np.ndarray, clip) -> np.ndarray:
        return v if clip is None else np.clip(v, -clip, clip).astype(np.float32)

    def _float_only(self, node, g) -> str:
        """Why node has no int8 form ("" when it has one)."""
        defaults = node_acts(Node("", "", [], [], {"direction": node.attrs.get("direction")}), self.name)
        if node.attrs.get("clip") is not None or node.attrs.get("input_forget") \
                or node_acts(node, self.name) != defaults:
            return "no clip, input_forget or activations other than the defaults"
        if len(node.inputs) > 7 and node.inputs[7]:
            return "no peepholes"
        return ""

    def quantize(self, node, g):
        if len(node.inputs) > 4 and node.inputs[4]:
            raise UnsupportedOp(f"node {node.name!r} ({self.name}): sequence_lens unsupported")
        why = self._float_only(node, g)
        if why:
            raise UnsupportedOp(f"node {node.name!r} ({self.name}): int8 supports {why}")
        hidden = node.attrs["hidden_size"]
        x = node.inputs[0]
        s_x, z_x = common.scale_zp(g, x)
        _, _, n_in = g.tensors[x].shape
        if n_in > MAX_INPUT or hidden > MAX_HIDDEN:
            raise UnsupportedOp(f"node {node.name!r} ({self.name}): input_size {n_in}, hidden_size {hidden}; "
                                f"int8 needs input_size <= {MAX_INPUT} and hidden_size <= {MAX_HIDDEN}")
        gh = self.gates * hidden
        dirs = g.tensors[node.inputs[1]].shape[0]
        w_name, s_w = _quantize_rows(g, node.inputs[1], dirs, gh)
        r_name, s_r = _quantize_rows(g, node.inputs[2], dirs, gh)
        b = node.inputs[3] if len(node.inputs) > 3 else ""
        b_real = g.tensors[b].data.reshape(dirs, 2 * gh).astype(np.float64) if b else np.zeros((dirs, 2 * gh))
        bias = np.concatenate([quant.quantize_bias(self._bias_real(b_real[d], hidden), np.float64(2.0**-GATE_FRAC))
                               for d in range(dirs)])  # [D * 4H]: each direction's 4H entries in turn
        b_name = g.add_const((b or node.name + "_B") + "_q", bias, "int32")
        mx, sx = quant.quantize_multipliers(s_x * s_w * 2.0**GATE_FRAC)
        mh, sh = quant.quantize_multipliers(s_r * 2.0 ** (GATE_FRAC - STATE_FRAC))
        p = {"input_zp": z_x, "input_multiplier": mx, "input_shift": sx, "hidden_multiplier": mh, "hidden_shift": sh}
        inputs = [x, w_name, r_name, b_name, ""]
        for pos, key in ((5, "initial_h"), (6, "initial_c"))[: self.n_states]:
            name = node.inputs[pos] if len(node.inputs) > pos else ""
            name, q = self._state_tensor(g, name)
            inputs.append(name)
            m, s = quant.quantize_multiplier(float(q.scale[0]) * 2.0**STATE_FRAC) if name else (0, 0)
            p.update({key + "_zp": int(q.zero_point[0]) if name else 0, key + "_multiplier": m, key + "_shift": s})
        if self.n_states == 2:
            y_c = node.outputs[2] if len(node.outputs) > 2 else ""
            s_c, z_c = common.scale_zp(g, y_c) if y_c else (0.0, 0)
            m, s = quant.quantize_multiplier(2.0**-STATE_FRAC / s_c) if y_c else (0, 0)
            p.update({"cell_out_zp": z_c, "cell_out_multiplier": m, "cell_out_shift": s})
        return Node(node.name, node.op, inputs, list(node.outputs), dict(node.attrs, int8=p))

    @staticmethod
    def _state_tensor(g, name: str) -> tuple[str, QParams | None]:
        """An initial state as int8: an activation as is, a float constant quantized over its range."""
        if not name:
            return "", None
        t = g.tensors[name]
        if not t.is_const:
            return name, common.qparams(g, name)
        q = quant.choose_qparams(float(t.data.min()), float(t.data.max()))
        return g.add_const(name + "_q", quant.quantize_array(t.data, q), "int8", q), q

    def ref_int8(self, node, xs):
        x, w, r, bias, _, h0, c0 = (list(xs) + [None] * 7)[:7]
        p = node.attrs["int8"]
        hidden = node.attrs["hidden_size"]
        steps, batch, _ = x.shape
        dirs, gh = w.shape[:2]
        y = np.zeros((steps, dirs, batch, hidden), np.int8)
        y_h, y_c = np.zeros((dirs, batch, hidden), np.int8), np.zeros((dirs, batch, hidden), np.int8)
        backwards = [d == 1 or node.attrs.get("direction", "forward") == "reverse" for d in range(dirs)]
        for d, n in ((d, n) for d in range(dirs) for n in range(batch)):
            rows = slice(d * gh, (d + 1) * gh)
            acc_x = (x[:, n].astype(np.int64) - p["input_zp"]) @ w[d].T.astype(np.int64)  # [T, GH], exact
            gx = quant.requantize(acc_x, p["input_multiplier"][rows], p["input_shift"][rows])
            hq = (p["hidden_multiplier"][rows], p["hidden_shift"][rows])
            bias_d = bias[d * 4 * hidden:(d + 1) * 4 * hidden].astype(np.int64)
            h = _state_in(None if h0 is None else h0[d, n], p, "initial_h", hidden)
            c = _state_in(None if c0 is None else c0[d, n], p, "initial_c", hidden)
            r_d = r[d].astype(np.int64)
            for t in (reversed(range(steps)) if backwards[d] else range(steps)):
                h, c = self._step_int8(hq, gx[t], r_d, bias_d, h, c, **self._extra_params(node))
                y[t, d, n] = _output_s8(h)
            y_h[d, n] = _output_s8(h)
            if self.n_states == 2:
                y_c[d, n] = quant.saturate(quant.requantize(c, p["cell_out_multiplier"], p["cell_out_shift"])
                                           + p["cell_out_zp"])
        return [y, y_h, y_c][: len(node.outputs)]

    @staticmethod
    def _hidden_requant(hq: tuple, acc, rows: slice) -> np.ndarray:
        """requant of sum r h for gate rows `rows` of one direction; hq = (multipliers, shifts) of its rows."""
        return quant.requantize(acc, hq[0][rows], hq[1][rows])

    def kernel(self, node, g):
        t, batch, n_in = g.tensors[node.inputs[0]].shape
        hidden = node.attrs["hidden_size"]
        dims = {"seq_len": t, "input_size": n_in, "hidden_size": hidden}
        inputs = list(node.inputs) + [""] * (7 - len(node.inputs))
        outputs = list(node.outputs) + [""] * (1 + self.n_states - len(node.outputs))
        if g.tensors[node.first_output].dtype == "float32":  # Y may be absent
            args = inputs[:4] + inputs[5:5 + self.n_states] + outputs  # absent ones become NULL
            inputs = list(node.inputs) + [""] * (8 - len(node.inputs))
            if self.name == "lstm":  # the peepholes follow the initial states
                args = inputs[:4] + inputs[5:8] + outputs
            return KernelCall(f"tinyc_{self.name}_f32", "tinyc_rnn", "tinyc_rnn_f32_params",
                              self._float_params(node, g, dims), args, self.scratch_f32 * hidden)
        args = inputs[:1] + inputs[3:4] + inputs[5:5 + self.n_states] + outputs  # W, R go in params
        p = node.attrs["int8"]
        direction = node.attrs.get("direction", "forward")
        params = {"dims": dims, "batch": batch, "directions": 2 if direction == "bidirectional" else 1,
                  "reverse": int(direction == "reverse"), **self._extra_params(node), "input_zp": p["input_zp"],
                  "input_requant": {"multiplier": p["input_multiplier"], "shift": p["input_shift"]},
                  "hidden_requant": {"multiplier": p["hidden_multiplier"], "shift": p["hidden_shift"]},
                  # W and R in params, in the kernel's order (the plain ones are not emitted)
                  "w": packed_weights(g.tensors[node.inputs[1]].data, self.name, hidden),
                  "r": packed_weights(g.tensors[node.inputs[2]].data, self.name, hidden)}
        for key in ("initial_h", "initial_c", "cell_out") if self.n_states == 2 else ("initial_h",):
            params[key] = {"zero_point": p[key + "_zp"], "multiplier": p[key + "_multiplier"],
                           "shift": p[key + "_shift"]}
        params.update({"sigmoid_table": SIGMOID_TABLE, "tanh_table": TANH_TABLE})
        return KernelCall(f"tinyc_{self.name}_s8", "tinyc_rnn", f"tinyc_{self.name}_s8_params",
                          params, args, self.scratch_s8 * hidden + 4 * (hidden % 2))  # h vectors word aligned

    def _float_params(self, node, g, dims: dict) -> dict:
        """The tinyc_rnn_f32_params struct."""
        acts = node_acts(node, self.name)
        clip = node.attrs.get("clip")
        direction = node.attrs.get("direction", "forward")
        return {"dims": dims, "batch": g.tensors[node.inputs[0]].shape[1],
                "directions": 2 if direction == "bidirectional" else 1, "reverse": int(direction == "reverse"),
                "linear_before_reset": int(node.attrs.get("linear_before_reset", 0)),
                "input_forget": int(node.attrs.get("input_forget", 0)),
                "clip": common.FLT_MAX if clip is None else float(clip),
                "act": np.array([ACTIVATIONS[a[0]][0] for a in acts], np.int32),
                "act_alpha": np.array([a[1] for a in acts], np.float32),
                "act_beta": np.array([a[2] for a in acts], np.float32)}

    # Per-op parts.
    def _bias_real(self, b: np.ndarray, hidden: int) -> np.ndarray:
        raise NotImplementedError

    def _extra_params(self, node) -> dict:
        return {}

    def _step_float(self, node, xw, r, rb, h, c, cell):
        """One time step of a batch: xw [B, GH] = x W^T + Wb, r [GH, H], rb [GH], h and c [B, H]."""
        raise NotImplementedError

    def _step_int8(self, hq, gx, r, bias, h, c):
        """One time step of one sequence: gx [GH] requantized x W^T, r [GH, H], bias [4H], h [H] Q0.15,
        c [H] Q16.15; hq the direction's hidden requantization (multipliers, shifts)."""
        raise NotImplementedError


@register
class Lstm(_Rnn):
    """ONNX LSTM, gates i, o, f, c: c' = f c + i g, h' = o tanh(c')."""

    name = "lstm"
    gates = 4
    n_states = 2
    # f32: c, h, h_next (3 floats); s8: c int32, h and h_next int16 (the old h feeds every unit).
    scratch_f32, scratch_s8 = 12, 8

    def _bias_real(self, b, hidden):
        gh = 4 * hidden
        return b[:gh] + b[gh:]  # Wb + Rb, one Q3.12 bias per gate row

    # Rule "tflm" (from an int8 .tflite): attrs["tflm"] holds the file's integers (w, r, bias) and TFLM's
    # precomputed multipliers; the node computes what TFLM's integer LSTM does (tflm_lstm_ref).
    def output_qparams(self, node, g, calibrated):
        if node.attrs.get("rule") == "tflm":
            return calibrated  # y holds TFLM's int8 hidden state, on the file's output parameters
        return super().output_qparams(node, g, calibrated)

    def quantize(self, node, g):
        if node.attrs.get("rule") != "tflm":
            return super().quantize(node, g)
        t = dict(node.attrs["tflm"])
        w = g.add_const(node.inputs[1] + "_q", t.pop("w")[None], "int8")
        r = g.add_const(node.inputs[2] + "_q", t.pop("r")[None], "int8")
        b = g.add_const(node.inputs[3] + "_q", t.pop("bias"), "int32")
        attrs = {k: v for k, v in node.attrs.items() if k != "tflm"}
        return Node(node.name, node.op, [node.inputs[0], w, r, b], list(node.outputs), dict(attrs, int8=t))

    def ref_int8(self, node, xs):
        if node.attrs.get("rule") != "tflm":
            return super().ref_int8(node, xs)
        x, w, r, b = xs[:4]
        y = tflm_lstm_ref(node.attrs["int8"], x, w[0], r[0], b)
        return [y[:, None]]

    def kernel(self, node, g):
        if node.attrs.get("rule") != "tflm" or g.tensors[node.first_output].dtype == "float32":
            return super().kernel(node, g)
        steps, batch, n_in = g.tensors[node.inputs[0]].shape
        hidden = node.attrs["hidden_size"]
        p = node.attrs["int8"]
        params = {"dims": {"seq_len": steps, "input_size": n_in, "hidden_size": hidden}, "batch": batch,
                  **{k: (np.asarray(v, np.int32) if k.endswith(("_multiplier", "_shift")) and np.ndim(v) else int(v))
                     for k, v in p.items()}}
        return KernelCall("tinyc_lstm_tflm_s8", "tinyc_rnn", "tinyc_lstm_tflm_s8_params", params,
                          list(node.inputs[:4]) + [node.outputs[0]], 11 * hidden)

    def _step_float(self, node, xw, r, rb, h, c, cell):
        hid = h.shape[1]
        (f_act, g_act, h_act), clip, peep = cell["acts"], cell["clip"], cell["peep"]
        g = xw + h @ r.T + rb
        gi, go, gf, gc = (g[:, k * hid:(k + 1) * hid] for k in range(4))
        if peep is not None:  # P = [Pi, Po, Pf]: i and f see c(t-1), o sees c(t)
            gi, gf = gi + peep[:hid] * c, gf + peep[2 * hid:] * c
        i = activate(f_act, self._clip(gi, clip))
        f = 1 - i if node.attrs.get("input_forget") else activate(f_act, self._clip(gf, clip))
        c = (f * c + i * activate(g_act, self._clip(gc, clip))).astype(np.float32)
        if peep is not None:
            go = go + peep[hid:2 * hid] * c
        o = activate(f_act, self._clip(go, clip))
        return (o * activate(h_act, c)).astype(np.float32), c

    def _step_int8(self, hq, gx, r, bias, h, c):
        hidden = h.shape[0]
        gate = sat16(gx + self._hidden_requant(hq, r @ h, slice(None)) + bias)
        i, o, f = (act_q15(SIGMOID_TABLE, gate[k * hidden:(k + 1) * hidden]) for k in range(3))
        g = act_q15(TANH_TABLE, gate[3 * hidden:])
        c = np.clip(_mul_q15(f, c) + _mul_q15(i, g), quant.INT32_MIN, quant.INT32_MAX)
        c12 = sat16((c + 4) >> (STATE_FRAC - GATE_FRAC))  # Q.15 -> Q3.12, rounding shift of 3
        return _mul_q15(o, act_q15(TANH_TABLE, c12)), c


@register
class Gru(_Rnn):
    """ONNX GRU, gates z, r, h: h' = (1 - z) tanh(n) + z h."""

    name = "gru"
    gates = 3
    # z, (r h) or n, and h: 3 floats or 3 int16 (h is updated in place in a second pass).
    scratch_f32, scratch_s8 = 12, 6

    def _bias_real(self, b, hidden):
        # Rows z, r: Wb + Rb. Row h: Wb_h; Rb_h follows in an extra H entries, because with
        # linear_before_reset=1 it sits inside the r product: n = Wx + Wb_h + r (R h + Rb_h).
        gh = 3 * hidden
        folded = b[:gh] + np.concatenate([b[gh:gh + 2 * hidden], np.zeros(hidden)])
        return np.concatenate([folded, b[gh + 2 * hidden:]])

    def _extra_params(self, node):
        return {"linear_before_reset": int(node.attrs.get("linear_before_reset", 0))}

    def _step_float(self, node, xw, r, rb, h, c, cell):
        hid = h.shape[1]
        (f_act, g_act), clip = cell["acts"], cell["clip"]
        zr = activate(f_act, self._clip(xw[:, :2 * hid] + h @ r[:2 * hid].T + rb[:2 * hid], clip))
        z, reset = zr[:, :hid], zr[:, hid:]
        r_h, rb_h = r[2 * hid:], rb[2 * hid:]
        if self._extra_params(node)["linear_before_reset"]:
            n = xw[:, 2 * hid:] + reset * (h @ r_h.T + rb_h)
        else:
            n = xw[:, 2 * hid:] + (reset * h) @ r_h.T + rb_h
        return ((1 - z) * activate(g_act, self._clip(n, clip)) + z * h).astype(np.float32), c

    def _step_int8(self, hq, gx, r, bias, h, c, linear_before_reset=0):
        hidden = h.shape[0]
        zr = sat16(gx[:2 * hidden] + self._hidden_requant(hq, r[:2 * hidden] @ h, slice(0, 2 * hidden))
                    + bias[:2 * hidden])
        z, reset = act_q15(SIGMOID_TABLE, zr[:hidden]), act_q15(SIGMOID_TABLE, zr[hidden:])
        rows = slice(2 * hidden, 3 * hidden)
        n_x = gx[rows] + bias[rows]
        if linear_before_reset:
            inner = sat16(self._hidden_requant(hq, r[rows] @ h, rows) + bias[3 * hidden:])
            n = sat16(n_x + _mul_q15(reset, inner))
        else:
            n = sat16(n_x + self._hidden_requant(hq, r[rows] @ _mul_q15(reset, h), rows) + bias[3 * hidden:])
        h_tilde = act_q15(TANH_TABLE, n)
        return ((32768 - z) * h_tilde + z * h + HALF) >> STATE_FRAC, c


@register
class Rnn(_Rnn):
    """ONNX RNN (vanilla): h' = f(x W^T + h R^T + Wb + Rb). float32 only."""

    name = "rnn"
    gates = 1
    scratch_f32 = 8  # h, h_next

    def quantize(self, node, g):
        return Op.quantize(self, node, g)  # no int8 form

    def _step_float(self, node, xw, r, rb, h, c, cell):
        return activate(cell["acts"][0], self._clip(xw + h @ r.T + rb, cell["clip"])), c
