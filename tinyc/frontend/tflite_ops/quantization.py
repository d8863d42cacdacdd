"""QUANTIZE and DEQUANTIZE (see tflite_ops/common.py for the lowering conventions).

A float32 model input feeding QUANTIZE, and DEQUANTIZE writing a model output, are the int8 model's
boundary: the importer (Importer.boundary) drops them, so the generated code takes and gives the int8
tensors and its header carries their scale and zero point. What remains here is int8 -> int8.
"""

from __future__ import annotations

import numpy as np


def QUANTIZE(b, op):
    if b.dtype(op.inputs[0]) != np.int8 or b.dtype(op.outputs[0]) != np.int8:
        raise b.fail("only int8 -> int8 inside the model; float -> int8 only right at a model input")
    # TFLM's Requantize, as the table of an identity under TFLM's rule (tinyc/ops/tflm_unary.py).
    b.result("unary", [b.input(op.inputs[0])], op.outputs[0], {"fn": "clip", "min": None, "max": None,
                                                                 "rule": "tflm"})


def DEQUANTIZE(b, op):
    if b.value(op.inputs[0]) is not None:  # quantized constant weights of a float model
        b.names[op.outputs[0]] = b.input(op.inputs[0])
        return
    raise b.fail("int8 -> float32 only right at a model output (mixed precision inside a model unsupported)")


LOWERINGS = {"QUANTIZE": QUANTIZE, "DEQUANTIZE": DEQUANTIZE}
