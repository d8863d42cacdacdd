"""UNIDIRECTIONAL_SEQUENCE_LSTM (see tflite_ops/common.py for the lowering conventions).

float32 onto tinyc's lstm op (ONNX's LSTM: gates i, o, f, c). The state tensors are TFLite variables
that start at zero; tinyc's model starts every inference at zero (TFLM keeps the state between
invocations until reset). int8 (TFLM's 8x8->16 integer LSTM: int8 x and h, int16 cell state, int32 biases)
becomes the lstm op's rule "tflm", which computes TFLM's integers bit for bit (tinyc/ops/rnn.py).
"""

from __future__ import annotations

import math

import numpy as np

from tinyc import quant

from tinyc.frontend.tflite_ops.common import ACT_NAMES
from tinyc.ops.rnn import ACTIVATIONS

# Input tensor positions: weights of x and of h per gate, peepholes, biases, projection, states, layer norm.
X_W = {"i": 1, "f": 2, "c": 3, "o": 4}
H_W = {"i": 5, "f": 6, "c": 7, "o": 8}
BIAS = {"i": 12, "f": 13, "c": 14, "o": 15}
OPTIONAL = {9: "peephole", 10: "peephole", 11: "peephole", 16: "projection", 17: "projection",
            20: "layer normalization", 21: "layer normalization", 22: "layer normalization",
            23: "layer normalization"}
CELL_ACTS = {4: "Tanh", 1: "Relu", 6: "Sigmoid"}  # fused activation -> the cell and hidden function


def _present(op, k: int) -> bool:
    return len(op.inputs) > k and op.inputs[k] >= 0


def UNIDIRECTIONAL_SEQUENCE_LSTM(b, op):
    o = op.options
    int8 = b.dtype(op.inputs[0]) != np.float32
    if int8 and b.dtype(op.inputs[0]) != np.int8:
        raise b.fail("only float32 or int8 input")
    for k, what in OPTIONAL.items():
        if _present(op, k):
            raise b.fail(f"{what} tensors unsupported")
    if not _present(op, X_W["i"]):
        raise b.fail("coupled input and forget gates (no input gate) unsupported")
    if (o.CellClip() and not int8) or o.ProjClip():
        raise b.fail("cell_clip (float32) and proj_clip unsupported")
    act = o.FusedActivationFunction()
    if int8 and act != 4:
        raise b.fail(f"int8 activation {ACT_NAMES.get(act, act)} unsupported; TANH only (TFLM's integer LSTM)")
    if act not in CELL_ACTS:
        raise b.fail(f"activation {ACT_NAMES.get(act, act)} unsupported; TANH, RELU or SIGMOID")
    for k in (18, 19):
        if b.value(op.inputs[k]) is not None and np.any(b.value(op.inputs[k])):
            raise b.fail("a nonzero initial state unsupported")
    order = "iofc"  # tinyc's lstm (ONNX) gate order
    w = np.concatenate([b.real(op.inputs[X_W[g]]) for g in order])
    r = np.concatenate([b.real(op.inputs[H_W[g]]) for g in order])
    hidden = r.shape[1]
    bias = np.concatenate([b.real(op.inputs[BIAS[g]]) for g in order] + [np.zeros(4 * hidden, np.float32)])
    x = b.input(op.inputs[0])
    steps_first = bool(o.TimeMajor())
    shape = b.tensors[x].shape  # [B, T, I] (or [T, B, I] time major)
    batch, steps = (shape[1], shape[0]) if steps_first else shape[:2]
    if not steps_first:
        x = _swap01(b, x, (steps, batch, shape[2]))
    y = b.fresh(x + "_lstm")
    cell = CELL_ACTS[act]
    attrs = {"hidden_size": hidden, "direction": "forward", "clip": None, "input_forget": 0,
             "acts": [(name, *ACTIVATIONS[name][1:]) for name in ("Sigmoid", cell, cell)]}
    out_q = b.activation_q(op.outputs[0]) if int8 else None
    if int8:
        attrs.update(rule="tflm", tflm=_tflm_params(b, op, order, act))
        attrs["acts"][2] = ("Tanh", *ACTIVATIONS["Tanh"][1:])  # TFLM's integer h = o tanh(c) whatever the act
    b.emit("lstm", [x, b.const(w[None], "W"), b.const(r[None], "R"), b.const(bias[None], "B")], [y], attrs,
           qs={y: out_q})
    flat = b.fresh(y + "_3d")  # [T, 1, B, H] -> [T, B, H]
    b.emit("reshape", [y], [flat], {"shape": (steps, batch, hidden)}, qs={flat: out_q})
    if steps_first:
        b.result("reshape", [flat], op.outputs[0], {"shape": (steps, batch, hidden)})
    elif batch == 1:
        b.result("reshape", [flat], op.outputs[0], {"shape": (batch, steps, hidden)})
    else:
        b.result("transpose", [flat], op.outputs[0], {"perm": (1, 0, 2)})


def _swap01(b, x: str, shape: tuple) -> str:
    """x with its first two axes swapped (a view when one of them is 1)."""
    out = b.fresh(x + "_tbi")
    qs = {out: b.tensors[x].q}
    if 1 in shape[:2]:
        b.emit("reshape", [x], [out], {"shape": shape}, qs=qs)
    else:
        b.emit("transpose", [x], [out], {"perm": (1, 0, 2)}, qs=qs)
    return out


def _scale(b, op, k: int, what: str) -> tuple[float, int]:
    q = b.qparams(op.inputs[k])
    if q is None:
        raise b.fail(f"int8 LSTM: {what} tensor {k} has no quantization parameters")
    if q.scale.size != 1:
        raise b.fail(f"int8 LSTM: {what} tensor {k} is quantized per channel; TFLM's LSTM takes per-tensor only")
    return float(q.scale[0]), int(q.zero_point[0])


def _tflm_params(b, op, order: str, act: int) -> dict:
    """TFLM's integer LSTM (lstm_eval_common.cc PrepareGateParametersInteger): the file's integers and the
    multipliers TFLM derives from its scales, per gate in tinyc's order."""
    s_x, z_x = _scale(b, op, 0, "input")
    s_h, z_h = _scale(b, op, 18, "hidden state")
    s_c, z_c = _scale(b, op, 19, "cell state")
    if b.dtype(op.inputs[18]) != np.int8 or b.dtype(op.inputs[19]) != np.int16 or z_c:
        raise b.fail("int8 LSTM needs an int8 hidden state and a symmetric int16 cell state (TFLM's 8x8->16)")
    for k in list(X_W.values()) + list(H_W.values()):
        if b.dtype(op.inputs[k]) != np.int8 or _scale(b, op, k, "weight")[1]:
            raise b.fail(f"int8 LSTM: weight tensor {k} must be int8 with zero point 0")
    for k in BIAS.values():
        if b.dtype(op.inputs[k]) != np.int32:
            raise b.fail(f"int8 LSTM: bias tensor {k} must be int32")
    mult = {}
    for key, s_in, ws in (("input", s_x, X_W), ("hidden", s_h, H_W)):
        m, s = quant.quantize_multipliers(np.array([s_in * _scale(b, op, ws[g], "weight")[0] / 2.0**-12
                                                    for g in order]))
        mult[key + "_multiplier"], mult[key + "_shift"] = m, s
    power = int(round(math.log2(s_c)))
    left = 15 + power - 3
    clip = float(op.options.CellClip())
    fc = quant.quantize_multiplier(2.0**-15 * s_c / s_c)
    ic = quant.quantize_multiplier(2.0**-15 * 2.0**-15 / s_c)
    oc = quant.quantize_multiplier(2.0**-15 * 2.0**-15 / s_h)
    return {"w": np.concatenate([b.value(op.inputs[X_W[g]]) for g in order]),
            "r": np.concatenate([b.value(op.inputs[H_W[g]]) for g in order]),
            "bias": np.concatenate([b.value(op.inputs[BIAS[g]]) for g in order]),
            "input_zp": z_x, "hidden_zp": z_h, **mult,
            "forget_cell_multiplier": fc[0], "forget_cell_shift": fc[1],
            "input_cell_multiplier": ic[0], "input_cell_shift": ic[1],
            "output_multiplier": oc[0], "output_shift": oc[1],
            "cell_tanh_multiplier": 3 if left < 0 else 0, "cell_tanh_shift": abs(left),
            "cell_gate_sigmoid": int(act == 6),
            "cell_clip": int(min(max(clip / s_c, -32768.0), 32767.0)) if clip > 0 else 0}


LOWERINGS = {"UNIDIRECTIONAL_SEQUENCE_LSTM": UNIDIRECTIONAL_SEQUENCE_LSTM}
