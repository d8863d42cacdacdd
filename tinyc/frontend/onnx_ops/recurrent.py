"""Recurrent lowerings: LSTM and GRU.

Each lowering is named after its ONNX op: `b` is the Importer (tinyc/frontend/onnx_import.py), `n` the
ONNX node, positional arguments the node's input names ("" when absent), attributes keyword
arguments with ONNX's defaults. What tinyc does not implement raises UnsupportedOp through b.fail.
"""

from __future__ import annotations

import numpy as np


def _rnn(b, n, op, gates, X, W, R, B, sequence_lens, initial_h, initial_c, attrs):
    if attrs.pop("direction", "forward") != "forward":
        raise b.fail("only direction='forward' is supported")
    for key in ("activations", "activation_alpha", "activation_beta", "clip"):
        if attrs.pop(key, None) is not None:
            raise b.fail(f"attribute {key!r} unsupported; only the default activations, no clip")
    if attrs.pop("layout", 0) or attrs.pop("input_forget", 0):
        raise b.fail("layout=1 and input_forget=1 are unsupported")
    hidden = int(attrs.pop("hidden_size"))
    extra = {"linear_before_reset": int(attrs.pop("linear_before_reset", 0))} if op == "gru" else {}
    if attrs:
        raise b.fail(f"attribute {sorted(attrs)[0]!r} is not supported")
    T, batch, _ = b.shape(X)
    if batch != 1:
        raise b.fail(f"batch {batch}; only batch 1 is supported")
    if sequence_lens and (b.const(sequence_lens) is None or np.any(b.const(sequence_lens) != T)):
        raise b.fail("sequence_lens must be constant and equal the sequence length")
    for name in (W, R, B, initial_h, initial_c):
        if name and b.const(name) is None:
            raise b.fail(f"input {name!r} must be constant")
    outputs = list(n.output) + [""] * (3 - len(n.output))
    inputs = [X, W, R, B, "", initial_h, initial_c] if op == "lstm" else [X, W, R, B, "", initial_h]
    b.emit(op, inputs, outputs[:3] if op == "lstm" else outputs[:2], {"hidden_size": hidden, **extra})


def LSTM(b, n, X, W, R, B="", sequence_lens="", initial_h="", initial_c="", P="", **attrs):
    if P:
        raise b.fail("peepholes (input P) are unsupported")
    _rnn(b, n, "lstm", 4, X, W, R, B, sequence_lens, initial_h, initial_c, attrs)


def GRU(b, n, X, W, R, B="", sequence_lens="", initial_h="", **attrs):
    _rnn(b, n, "gru", 3, X, W, R, B, sequence_lens, initial_h, "", attrs)


LOWERINGS = {"LSTM": LSTM, "GRU": GRU}
