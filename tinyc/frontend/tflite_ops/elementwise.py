"""Elementwise builtins and softmax (see tflite_ops/common.py for the lowering conventions)."""

from __future__ import annotations

from tinyc.frontend.tflite_ops.common import fused


def _binary(kind: str):
    def lower(b, op):
        a, c = (b.input(i) for i in op.inputs[:2])
        b.result(kind, [a, c], op.outputs[0], {"act": fused(b, op.options)})
    lower.__name__ = kind.upper()
    return lower


def _unary(fn: str, **attrs):
    def lower(b, op):
        b.result("unary", [b.input(op.inputs[0])], op.outputs[0], {"fn": fn, "rule": "tflm", **attrs})
    lower.__name__ = fn.upper()
    return lower


def LEAKY_RELU(b, op):
    b.result("unary", [b.input(op.inputs[0])], op.outputs[0],
             {"fn": "leaky_relu", "alpha": op.options.Alpha(), "rule": "tflm"})


def _clamp(lo: float, hi: float):
    def lower(b, op):
        # TFLM clamps the input's integers and ignores the output's parameters: so does tinyc.
        x = b.input(op.inputs[0])
        out = b.output(op.outputs[0])
        b.emit("unary", [x], [out], {"fn": "clip", "min": lo, "max": hi}, {}, {out: b.tensors[x].q})
    return lower


def SOFTMAX(b, op):
    rank = len(b.shape(op.inputs[0]))
    axis = 1 if rank == 4 else rank - 1  # the file's last axis; channels of an NCHW tensor
    beta = op.options.Beta() if op.options is not None else 1.0
    b.result("softmax", [b.input(op.inputs[0])], op.outputs[0], {"axis": axis, "beta": float(beta), "rule": "tflm"})


def LOG_SOFTMAX(b, op):
    rank = len(b.shape(op.inputs[0]))
    axis = 1 if rank == 4 else rank - 1  # as SOFTMAX; int8 is TFLM's rule whatever the source
    b.result("log_softmax", [b.input(op.inputs[0])], op.outputs[0], {"axis": axis})


LOWERINGS = {"ADD": _binary("add"), "SUB": _binary("sub"), "MUL": _binary("mul"),
             "RELU": _unary("relu"), "RELU6": _clamp(0.0, 6.0),
             "RELU_N1_TO_1": _clamp(-1.0, 1.0), "LOGISTIC": _unary("sigmoid"),
             "TANH": _unary("tanh"), "HARD_SWISH": _unary("hard_swish"), "LEAKY_RELU": LEAKY_RELU,
             "SOFTMAX": SOFTMAX, "LOG_SOFTMAX": LOG_SOFTMAX}
