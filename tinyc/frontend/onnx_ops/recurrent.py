"""Recurrent lowerings: RNN, LSTM and GRU.

Each lowering is named after its ONNX op: `b` is the Importer (tinyc/frontend/onnx_import.py), `n` the
ONNX node, positional arguments the node's input names ("" when absent), attributes keyword
arguments with ONNX's defaults. What tinyc does not implement raises UnsupportedOp through b.fail.
"""

from __future__ import annotations

import numpy as np

from tinyc.ops.rnn import ACTIVATIONS, DEFAULT_ACTS, USES_ALPHA, USES_BETA


def _acts(b, op: str, dirs: int, names, alphas, betas) -> tuple:
    """(name, alpha, beta) per function and direction; alphas and betas are consumed in order by the
    functions that take them (onnxruntime's rule), the others get the ONNX defaults."""
    if names is None:
        names = list(DEFAULT_ACTS[op]) * dirs
    if len(names) != len(DEFAULT_ACTS[op]) * dirs:
        raise b.fail(f"{len(names)} activations; {op.upper()} with {dirs} direction(s) takes "
                     f"{len(DEFAULT_ACTS[op]) * dirs}")
    canonical = {k.lower(): k for k in ACTIVATIONS}
    alphas, betas = list(alphas or []), list(betas or [])
    acts = []
    for name in names:
        name = name.decode() if isinstance(name, bytes) else str(name)
        key = canonical.get(name.lower())
        if key is None:
            raise b.fail(f"activation {name!r} unsupported; one of {', '.join(ACTIVATIONS)}")
        _, alpha, beta = ACTIVATIONS[key]
        if key in USES_ALPHA and alphas:
            alpha = alphas.pop(0)
        if key in USES_BETA and betas:
            beta = betas.pop(0)
        acts.append((key, float(alpha), float(beta)))
    return tuple(acts)


def _rnn(b, n, op, X, W, R, B, sequence_lens, initial_h, initial_c, P, attrs):
    direction = attrs.pop("direction", "forward")
    if direction not in ("forward", "reverse", "bidirectional"):
        raise b.fail(f"direction={direction!r} unsupported")
    dirs = 2 if direction == "bidirectional" else 1
    hidden = attrs.pop("hidden_size", None)
    if hidden is None:
        raise b.fail("hidden_size is required")
    layout = int(attrs.pop("layout", 0))
    clip = attrs.pop("clip", None)
    acts = _acts(b, op, dirs, attrs.pop("activations", None), attrs.pop("activation_alpha", None),
                 attrs.pop("activation_beta", None))
    extra = {}
    if op == "gru":
        extra["linear_before_reset"] = int(attrs.pop("linear_before_reset", 0))
    if op == "lstm":
        extra["input_forget"] = int(attrs.pop("input_forget", 0))
    if attrs:
        raise b.fail(f"attribute {sorted(attrs)[0]!r} is not supported")
    x_shape = b.shape(X)
    T, batch = (x_shape[1], x_shape[0]) if layout else (x_shape[0], x_shape[1])
    if sequence_lens and (b.const(sequence_lens) is None or np.any(b.const(sequence_lens) != T)):
        raise b.fail("sequence_lens must be constant and equal the sequence length")
    for name in (W, R, B, initial_h, initial_c, P):
        if name and b.const(name) is None:
            raise b.fail(f"input {name!r} must be constant")
    if layout:  # [B, T, ...] -> [T, B, ...]; initial states [B, D, H] -> [D, B, H]
        Xt = b.fresh(X + "_tbi")
        b.emit("transpose", [X], [Xt], {"perm": (1, 0, 2)}, name=b.fresh(n.output[0] or n.name + "_layout"))
        X = Xt
        states = []
        for name in (initial_h, initial_c):
            if name:
                new = b.fresh(name + "_dbh")
                b.consts[new] = np.ascontiguousarray(np.transpose(b.const(name), (1, 0, 2)))
                name = new
            states.append(name)
        initial_h, initial_c = states
    outputs = list(n.output) + [""] * (3 - len(n.output))
    outputs = outputs[:3] if op == "lstm" else outputs[:2]
    final = list(outputs)
    if layout:
        outputs = [b.fresh(o + "_layout0") if o else "" for o in outputs]
    inputs = [X, W, R, B, "", initial_h, initial_c, P] if op == "lstm" else [X, W, R, B, "", initial_h]
    attrs = {"hidden_size": int(hidden), "direction": direction, "clip": None if clip is None else float(clip),
             "acts": acts, **extra}
    b.emit(op, inputs, outputs, attrs)
    if layout:  # Y [T, D, B, H] -> [B, T, D, H]; Y_h, Y_c [D, B, H] -> [B, D, H]
        for k, (tmp, out) in enumerate(zip(outputs, final)):
            if out:
                b.emit("transpose", [tmp], [out], {"perm": (2, 0, 1, 3) if k == 0 else (1, 0, 2)},
                       name=b.fresh(out + "_layout1"))


def LSTM(b, n, X, W, R, B="", sequence_lens="", initial_h="", initial_c="", P="", **attrs):
    _rnn(b, n, "lstm", X, W, R, B, sequence_lens, initial_h, initial_c, P, attrs)


def GRU(b, n, X, W, R, B="", sequence_lens="", initial_h="", **attrs):
    _rnn(b, n, "gru", X, W, R, B, sequence_lens, initial_h, "", "", attrs)


def RNN(b, n, X, W, R, B="", sequence_lens="", initial_h="", **attrs):
    _rnn(b, n, "rnn", X, W, R, B, sequence_lens, initial_h, "", "", attrs)


LOWERINGS = {"RNN": RNN, "LSTM": LSTM, "GRU": GRU}
