"""UNIDIRECTIONAL_SEQUENCE_LSTM (see tflite_ops/common.py for the lowering conventions).

float32 onto tinyc's lstm op (ONNX's LSTM: gates i, o, f, c). The state tensors are TFLite variables
that start at zero; tinyc's model starts every inference at zero (TFLM keeps the state between
invocations until reset). int8 (TFLM's 8x8->16 integer LSTM) is not implemented.
"""

from __future__ import annotations

import numpy as np

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
    if b.dtype(op.inputs[0]) != np.float32:
        raise b.fail("int8 LSTM (TFLM's integer LSTM) is not implemented; float32 only")
    for k, what in OPTIONAL.items():
        if _present(op, k):
            raise b.fail(f"{what} tensors unsupported")
    if not _present(op, X_W["i"]):
        raise b.fail("coupled input and forget gates (no input gate) unsupported")
    if o.CellClip() or o.ProjClip():
        raise b.fail("cell_clip and proj_clip unsupported")
    act = o.FusedActivationFunction()
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
    b.emit("lstm", [x, b.const(w[None], "W"), b.const(r[None], "R"), b.const(bias[None], "B")], [y],
           {"hidden_size": hidden, "direction": "forward", "clip": None, "input_forget": 0,
            "acts": [(name, *ACTIVATIONS[name][1:]) for name in ("Sigmoid", cell, cell)]})
    flat = b.fresh(y + "_3d")  # [T, 1, B, H] -> [T, B, H]
    b.emit("reshape", [y], [flat], {"shape": (steps, batch, hidden)})
    if steps_first:
        b.result("reshape", [flat], op.outputs[0], {"shape": (steps, batch, hidden)})
    elif batch == 1:
        b.result("reshape", [flat], op.outputs[0], {"shape": (batch, steps, hidden)})
    else:
        b.result("transpose", [flat], op.outputs[0], {"perm": (1, 0, 2)})


def _swap01(b, x: str, shape: tuple) -> str:
    """x with its first two axes swapped (a view when one of them is 1)."""
    out = b.fresh(x + "_tbi")
    if 1 in shape[:2]:
        b.emit("reshape", [x], [out], {"shape": shape})
    else:
        b.emit("transpose", [x], [out], {"perm": (1, 0, 2)})
    return out


LOWERINGS = {"UNIDIRECTIONAL_SEQUENCE_LSTM": UNIDIRECTIONAL_SEQUENCE_LSTM}
