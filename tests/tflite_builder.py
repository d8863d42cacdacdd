"""Small .tflite models for per-builtin tests, written with the `tflite` package's flatbuffer builders.

    model([Tensor((1, 8, 8, 3), "int8", scale=0.05, zp=3), Tensor(...)], [Op("RELU", [0], [1])], [0], [1])

returns the file's bytes. A tensor with `data` is a constant (its own buffer); options are given as the
options table's name and its fields, e.g. Op("ADD", [0, 1], [2], "AddOptions", {"FusedActivationFunction": 1}).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import flatbuffers
import numpy as np
import tflite
from tflite.utils import BUILTIN_OPCODE2NAME

CODES = {v: k for k, v in BUILTIN_OPCODE2NAME.items()}
TYPES = {"float32": tflite.TensorType.FLOAT32, "int8": tflite.TensorType.INT8, "int32": tflite.TensorType.INT32,
         "int16": tflite.TensorType.INT16, "int64": tflite.TensorType.INT64}
NP = {"float32": np.float32, "int8": np.int8, "int32": np.int32, "int16": np.int16, "int64": np.int64}


@dataclass
class Tensor:
    shape: tuple
    dtype: str = "int8"
    scale: float | list | None = None  # a list: per channel along `axis`
    zp: int | list = 0
    axis: int = 0
    data: np.ndarray | None = None
    variable: bool = False  # a TFLite variable (an LSTM's state): no data, starts at zero


@dataclass
class Op:
    code: str
    inputs: list[int]
    outputs: list[int]
    options: str | None = None  # e.g. "Conv2DOptions"
    fields: dict = field(default_factory=dict)


def _vector(b, start, values, kind: str) -> int:
    start(b, len(values))
    for v in reversed(list(values)):
        getattr(b, "Prepend" + kind)(v)
    return b.EndVector()


def model(tensors: list[Tensor], ops: list[Op], inputs: list[int], outputs: list[int]) -> bytes:
    b = flatbuffers.Builder(1024)
    buffers = [None] + [t.data for t in tensors if t.data is not None]  # buffer 0 is the empty one
    buf_offsets = []
    for data in buffers:
        raw = b"" if data is None else np.ascontiguousarray(data).tobytes()
        vec = b.CreateByteVector(raw) if raw else None
        tflite.BufferStart(b)
        if vec is not None:
            tflite.BufferAddData(b, vec)
        buf_offsets.append(tflite.BufferEnd(b))
    t_offsets, buffer_index = [], 1
    for k, t in enumerate(tensors):
        name = b.CreateString(f"t{k}")
        shape = _vector(b, tflite.TensorStartShapeVector, t.shape, "Int32")
        quant = None
        if t.scale is not None:
            scales = np.atleast_1d(np.asarray(t.scale, np.float32))
            zps = np.broadcast_to(np.atleast_1d(np.asarray(t.zp, np.int64)), scales.shape)
            sv = _vector(b, tflite.QuantizationParametersStartScaleVector, scales, "Float32")
            zv = _vector(b, tflite.QuantizationParametersStartZeroPointVector, zps, "Int64")
            tflite.QuantizationParametersStart(b)
            tflite.QuantizationParametersAddScale(b, sv)
            tflite.QuantizationParametersAddZeroPoint(b, zv)
            tflite.QuantizationParametersAddQuantizedDimension(b, t.axis)
            quant = tflite.QuantizationParametersEnd(b)
        tflite.TensorStart(b)
        tflite.TensorAddShape(b, shape)
        tflite.TensorAddType(b, TYPES[t.dtype])
        tflite.TensorAddName(b, name)
        if t.data is not None:
            tflite.TensorAddBuffer(b, buffer_index)
            buffer_index += 1
        if quant is not None:
            tflite.TensorAddQuantization(b, quant)
        if t.variable:
            tflite.TensorAddIsVariable(b, True)
        t_offsets.append(tflite.TensorEnd(b))
    codes = sorted({op.code for op in ops})
    code_offsets = []
    for c in codes:
        tflite.OperatorCodeStart(b)
        tflite.OperatorCodeAddBuiltinCode(b, CODES[c])
        tflite.OperatorCodeAddDeprecatedBuiltinCode(b, min(CODES[c], 127))
        tflite.OperatorCodeAddVersion(b, 1)
        code_offsets.append(tflite.OperatorCodeEnd(b))
    op_offsets = []
    for op in ops:
        opts = None
        if op.options:
            getattr(tflite, op.options + "Start")(b)
            for key, value in op.fields.items():
                getattr(tflite, op.options + "Add" + key)(b, value)
            opts = getattr(tflite, op.options + "End")(b)
        ins = _vector(b, tflite.OperatorStartInputsVector, op.inputs, "Int32")
        outs = _vector(b, tflite.OperatorStartOutputsVector, op.outputs, "Int32")
        tflite.OperatorStart(b)
        tflite.OperatorAddOpcodeIndex(b, codes.index(op.code))
        tflite.OperatorAddInputs(b, ins)
        tflite.OperatorAddOutputs(b, outs)
        if opts is not None:
            tflite.OperatorAddBuiltinOptionsType(b, getattr(tflite.BuiltinOptions, op.options))
            tflite.OperatorAddBuiltinOptions(b, opts)
        op_offsets.append(tflite.OperatorEnd(b))
    tv = _vector_of_offsets(b, tflite.SubGraphStartTensorsVector, t_offsets)
    iv = _vector(b, tflite.SubGraphStartInputsVector, inputs, "Int32")
    ov = _vector(b, tflite.SubGraphStartOutputsVector, outputs, "Int32")
    opv = _vector_of_offsets(b, tflite.SubGraphStartOperatorsVector, op_offsets)
    tflite.SubGraphStart(b)
    tflite.SubGraphAddTensors(b, tv)
    tflite.SubGraphAddInputs(b, iv)
    tflite.SubGraphAddOutputs(b, ov)
    tflite.SubGraphAddOperators(b, opv)
    sg = tflite.SubGraphEnd(b)
    codes_v = _vector_of_offsets(b, tflite.ModelStartOperatorCodesVector, code_offsets)
    sgs = _vector_of_offsets(b, tflite.ModelStartSubgraphsVector, [sg])
    bufs = _vector_of_offsets(b, tflite.ModelStartBuffersVector, buf_offsets)
    desc = b.CreateString("tinyc test")
    tflite.ModelStart(b)
    tflite.ModelAddVersion(b, 3)
    tflite.ModelAddOperatorCodes(b, codes_v)
    tflite.ModelAddSubgraphs(b, sgs)
    tflite.ModelAddDescription(b, desc)
    tflite.ModelAddBuffers(b, bufs)
    b.Finish(tflite.ModelEnd(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def _vector_of_offsets(b, start, offsets) -> int:
    start(b, len(offsets))
    for o in reversed(offsets):
        b.PrependUOffsetTRelative(o)
    return b.EndVector()
