"""Shape and layout builtins (see tflite_ops/common.py for the lowering conventions)."""

from __future__ import annotations


def RESHAPE(b, op):
    b.from_native(b.native(op.inputs[0]), op.outputs[0])


LOWERINGS = {"RESHAPE": RESHAPE, "SQUEEZE": RESHAPE, "EXPAND_DIMS": RESHAPE}
