"""Helpers the TFLite lowerings share: fused activations, SAME/VALID padding.

Each lowering is named after its builtin: `b` is the Importer (tinyc/frontend/tflite_import.py), `op` the
operator (file tensor indices in op.inputs/op.outputs, -1 when absent; its options table in op.options).
What tinyc does not implement raises UnsupportedOp through b.fail.
"""

from __future__ import annotations

# ActivationFunctionType -> the real clamp (lo, hi) of a fused activation.
ACTIVATIONS = {0: None, 1: (0.0, None), 2: (-1.0, 1.0), 3: (0.0, 6.0)}
ACT_NAMES = {4: "TANH", 5: "SIGN_BIT"}


def fused(b, options) -> tuple | None:
    f = options.FusedActivationFunction() if options is not None else 0
    if f not in ACTIVATIONS:
        raise b.fail(f"fused activation {ACT_NAMES.get(f, f)} unsupported; only NONE, RELU, RELU_N1_TO_1, RELU6")
    return ACTIVATIONS[f]


def padding(b, options, in_hw: tuple, kernel: tuple, strides: tuple, dilations: tuple = (1, 1)) -> tuple:
    """(top, left, bottom, right) of TFLite's SAME (extra pad at the end) or VALID padding."""
    same = options.Padding() == 0  # Padding.SAME = 0, VALID = 1
    pads = []
    for size, k, s, d in zip(in_hw, kernel, strides, dilations):
        if not same:
            pads.append((0, 0))
            continue
        out = -(-size // s)
        total = max((out - 1) * s + d * (k - 1) + 1 - size, 0)
        pads.append((total // 2, total - total // 2))
    (t, bottom), (left, r) = pads
    return t, left, bottom, r
