""".tflite -> IR: read the flatbuffer (the `tflite` package), lower each operator onto the canonical ops.

The IR is NCHW; a .tflite model is NHWC. Every rank-4 tensor of the file lives in the IR as NCHW: the
importer transposes at the model's inputs and outputs (so a user feeds and reads the file's own shapes)
and around the few operators whose meaning depends on the memory order (reshape, fully connected).
An int8 model keeps the file's scales and zero points on every tensor (tensor.q), per channel
included, so quantization reproduces the file's integers instead of calibrating.
The lowering of each builtin lives in tinyc/frontend/tflite_ops/ (one module per family).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tflite
from tflite.utils import BUILTIN_OPCODE2NAME

from tinyc import ops
from tinyc.errors import BadInput, TinycError, UnsupportedOp
from tinyc.ir import Graph, Node, QParams, Tensor, verify

TO_NCHW, TO_NHWC = (0, 3, 1, 2), (0, 2, 3, 1)
TYPES = {tflite.TensorType.FLOAT32: np.float32, tflite.TensorType.INT8: np.int8, tflite.TensorType.INT32: np.int32,
         tflite.TensorType.INT64: np.int64, tflite.TensorType.UINT8: np.uint8, tflite.TensorType.INT16: np.int16}
OPTION_CLASSES = {v: k for k, v in vars(tflite.BuiltinOptions).items() if not k.startswith("_")}


@dataclass
class Operator:
    """One operator of the file: its index, builtin name, tensor indices (-1 absent) and options table."""

    index: int
    code: str
    inputs: list[int]
    outputs: list[int]
    options: object | None


def load(path: str | Path) -> tflite.Model:
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"{path}: no such file")
    data = path.read_bytes()
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise BadInput(f"{path}: not a TensorFlow Lite model (no TFL3 identifier)")
    try:
        model = tflite.Model.GetRootAsModel(data, 0)
        if model.SubgraphsLength() < 1:
            raise BadInput(f"{path}: a TensorFlow Lite model without a subgraph")
    except TinycError:
        raise
    except Exception as e:  # flatbuffers raises assorted errors on damaged bytes
        raise BadInput(f"{path}: not a readable TensorFlow Lite model ({type(e).__name__})") from None
    return model


def nchw(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(shape[i] for i in TO_NCHW) if len(shape) == 4 else tuple(shape)


def same_order(shape: tuple[int, ...]) -> bool:
    """NHWC and NCHW hold a rank-4 tensor's elements in the same order (a view, no transpose)."""
    n, h, w, c = shape
    return c == 1 or h * w == 1


class Importer:
    """Builds the IR graph while lowering operators; lowerings call its small API."""

    def __init__(self, model: tflite.Model, name: str):
        self.model, self.name = model, name
        self.sg = model.Subgraphs(0)
        self.tensors: dict[str, Tensor] = {}
        self.nodes: list[Node] = []
        self.names: dict[int, str] = {}  # file tensor index -> IR tensor name (in IR layout)
        self.op: Operator | None = None
        self.int8 = False

    # --- what the file says about a tensor ----------------------------------------------------------
    def ftensor(self, i: int):
        return self.sg.Tensors(i)

    def shape(self, i: int) -> tuple[int, ...]:
        """The file's shape (NHWC for rank 4)."""
        return tuple(int(d) for d in self.ftensor(i).ShapeAsNumpy()) if self.ftensor(i).ShapeLength() else ()

    def dtype(self, i: int):
        t = self.ftensor(i).Type()
        if t not in TYPES:
            raise self.fail(f"tensor {self._fname(i)!r} has unsupported type {t}")
        return TYPES[t]

    def qparams(self, i: int, axis_map: tuple[int, ...] | None = None) -> QParams | None:
        """The file's quantization of tensor i (None for float); a per-channel axis goes through axis_map."""
        q = self.ftensor(i).Quantization()
        if q is None or q.ScaleLength() == 0 or self.dtype(i) == np.float32:
            return None
        scale = np.asarray(q.ScaleAsNumpy(), np.float32).astype(np.float64).reshape(-1)
        zp = np.asarray(q.ZeroPointAsNumpy(), np.int64).reshape(-1) if q.ZeroPointLength() else np.zeros(1, np.int64)
        zp = np.broadcast_to(zp, scale.shape).astype(np.int32)
        if scale.size == 1:
            return QParams(scale, zp)
        axis = int(q.QuantizedDimension())
        return QParams(scale, zp, axis_map.index(axis) if axis_map else axis)

    def value(self, i: int) -> np.ndarray | None:
        """The raw constant data of tensor i (file layout and type), or None for an activation."""
        t = self.ftensor(i)
        buf = self.model.Buffers(t.Buffer())
        if buf is None or buf.DataLength() == 0:
            return None
        raw = buf.DataAsNumpy().tobytes()
        return np.frombuffer(raw, self.dtype(i)).reshape(self.shape(i)).copy()

    def real(self, i: int) -> np.ndarray:
        """A constant as float32 real values: dequantized with the file's parameters when quantized."""
        v = self.value(i)
        if v is None:
            raise self.fail(f"tensor {self._fname(i)!r} must be constant")
        q = self.qparams(i)
        if q is None or v.dtype == np.float32:
            return v.astype(np.float32)
        shape = [1] * v.ndim
        if q.axis is not None:
            shape[q.axis] = -1
        return ((v.astype(np.float64) - q.zero_point.reshape(shape)) * q.scale.reshape(shape)).astype(np.float32)

    def _fname(self, i: int) -> str:
        return (self.ftensor(i).Name() or b"").decode(errors="replace") or f"tensor{i}"

    # --- the API lowerings use ------------------------------------------------------------------------
    def fail(self, what: str, cls: type[TinycError] = UnsupportedOp) -> TinycError:
        return cls(f"operator {self.op.index} ({self.op.code}): {what}")

    def fresh(self, base: str) -> str:
        name, k = base, 1
        while name in self.tensors:
            name, k = f"{base}_{k}", k + 1
        return name

    def input(self, i: int) -> str:
        """IR name of file tensor i in IR layout; a constant becomes a float32 IR constant on first use."""
        if i in self.names:
            return self.names[i]
        v = self.value(i)
        if v is None:
            raise self.fail(f"tensor {self._fname(i)!r} is read before any operator writes it", BadInput)
        data, q = self.real(i), self.qparams(i, TO_NCHW if v.ndim == 4 else None)
        if data.ndim == 4:
            data = np.ascontiguousarray(data.transpose(TO_NCHW))
        name = self.fresh(self._fname(i))
        self.tensors[name] = Tensor(name, tuple(data.shape), "float32", data, q)
        self.names[i] = name
        return name

    def const(self, data: np.ndarray, base: str, q: QParams | None = None) -> str:
        """A new float32 IR constant (weights in IR layout), with the file's q when it has one."""
        name = self.fresh(base)
        self.tensors[name] = Tensor(name, tuple(data.shape), "float32", np.ascontiguousarray(data, np.float32), q)
        return name

    def output(self, i: int) -> str:
        """IR name for file tensor i written by the current operator (in IR layout)."""
        if i in self.names:
            raise self.fail(f"tensor {self._fname(i)!r} is written twice", BadInput)
        name = self.fresh(self._fname(i))
        self.names[i] = name
        return name

    def emit(self, op: str, inputs: list[str], outputs: list[str], attrs: dict | None = None,
             shapes: dict[str, tuple] | None = None, qs: dict[str, QParams | None] | None = None) -> None:
        """Add an IR node; output shapes come from the op (checked against `shapes` where given)."""
        node = Node(self._unique(f"{self.op.index}_{self.op.code.lower()}"), op, list(inputs), list(outputs),
                    dict(attrs or {}))
        got = ops.get(op).infer_shape(node, [self.tensors[i].shape if i else None for i in inputs])
        for out, shape in zip(outputs, got):
            want = (shapes or {}).get(out)
            if want is not None and tuple(want) != tuple(shape):
                raise self.fail(f"output has shape {list(shape)} here but the file says {list(want)}", BadInput)
            self.tensors[out] = Tensor(out, tuple(shape), "float32", None, (qs or {}).get(out))
        self.nodes.append(node)

    def result(self, op: str, inputs: list[str], o: int, attrs: dict | None = None) -> None:
        """Emit `op` writing file tensor o in IR layout, with the file's shape and q."""
        out = self.output(o)
        self.emit(op, inputs, [out], attrs, {out: nchw(self.shape(o))}, {out: self.activation_q(o)})

    def activation_q(self, i: int) -> QParams | None:
        q = self.qparams(i)
        if q is not None and q.axis is not None:
            raise self.fail(f"tensor {self._fname(i)!r}: per-channel quantized activation unsupported")
        return q

    def native(self, i: int) -> str:
        """IR name of file tensor i in the file's own (NHWC) memory order."""
        name = self.input(i)
        shape = self.shape(i)
        if len(shape) != 4:
            return name
        out = self.fresh(name + "_nhwc")
        op, attrs = ("reshape", {"shape": shape}) if same_order(shape) else ("transpose", {"perm": TO_NHWC})
        self.emit(op, [name], [out], attrs, {out: shape}, {out: self.tensors[name].q})
        return out

    def from_native(self, src: str, o: int) -> None:
        """Write file tensor o from IR tensor src that holds it in the file's own memory order."""
        shape = self.shape(o)
        if len(shape) != 4:
            self.result("reshape", [src], o, {"shape": shape})
        elif same_order(shape):
            self.result("reshape", [src], o, {"shape": nchw(shape)})
        else:
            mid = self.fresh(src + "_4d")
            self.emit("reshape", [src], [mid], {"shape": shape}, {}, {mid: self.tensors[src].q})
            self.result("transpose", [mid], o, {"perm": TO_NCHW})

    def _unique(self, name: str) -> str:
        taken = {n.name for n in self.nodes}
        base, k = name, 1
        while name in taken:
            name, k = f"{base}_{k}", k + 1
        return name

    # --- driving the import ---------------------------------------------------------------------------
    def operators(self) -> list[Operator]:
        result = []
        for k in range(self.sg.OperatorsLength()):
            op = self.sg.Operators(k)
            oc = self.model.OperatorCodes(op.OpcodeIndex())
            code_id = max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())
            code = BUILTIN_OPCODE2NAME.get(code_id, f"BUILTIN_{code_id}")
            if code == "CUSTOM":
                code = f"CUSTOM {oc.CustomCode().decode(errors='replace')}"
            options = None
            table = op.BuiltinOptions()
            if table is not None and op.BuiltinOptionsType() in OPTION_CLASSES:
                options = getattr(tflite, OPTION_CLASSES[op.BuiltinOptionsType()])()
                options.Init(table.Bytes, table.Pos)
            result.append(Operator(k, code, [int(v) for v in op.InputsAsNumpy()] if op.InputsLength() else [],
                                   [int(v) for v in op.OutputsAsNumpy()], options))
        return result

    def boundary(self, operators: list[Operator], inputs: list[int], outputs: list[int]) -> tuple:
        """An int8 model with float32 inputs and outputs: QUANTIZE right after a float input and
        DEQUANTIZE right before a float output are dropped, and the int8 tensors they connect become
        the model's inputs and outputs (the generated code takes and gives int8, with their scales)."""
        readers: dict[int, int] = {}
        for op in operators:
            for i in op.inputs:
                readers[i] = readers.get(i, 0) + 1
        dropped = set()
        for op in operators:
            i, o = (op.inputs or [-1])[0], op.outputs[0]
            if (op.code == "QUANTIZE" and i in inputs and readers[i] == 1 and self.dtype(i) == np.float32
                    and self.dtype(o) == np.int8):
                inputs[inputs.index(i)] = o
                dropped.add(op.index)
            elif (op.code == "DEQUANTIZE" and o in outputs and self.dtype(o) == np.float32
                  and self.dtype(i) == np.int8 and self.value(i) is None and i not in outputs):
                outputs[outputs.index(o)] = i
                dropped.add(op.index)
        return [op for op in operators if op.index not in dropped], inputs, outputs

    def run(self) -> Graph:
        from tinyc.frontend.tflite_ops import LOWERINGS

        operators = self.operators()
        unsupported = [op for op in operators if op.code not in LOWERINGS]
        if unsupported:
            listed = ", ".join(f"{op.index} ({op.code})" for op in unsupported)
            raise UnsupportedOp(f"{len(unsupported)} unsupported TFLite operator(s): {listed}")
        inputs = [int(i) for i in self.sg.InputsAsNumpy()]
        outputs = [int(v) for v in self.sg.OutputsAsNumpy()]
        operators, inputs, outputs = self.boundary(operators, inputs, outputs)
        self.int8 = any(self.dtype(i) == np.int8 for i in inputs)
        graph_inputs = []
        for i in inputs:
            dt = self.dtype(i)
            if dt not in (np.float32, np.int8):
                raise BadInput(f"input {self._fname(i)!r}: only float32 and int8 model inputs are supported")
            if (dt == np.int8) != self.int8:
                raise BadInput(f"input {self._fname(i)!r}: inputs mix int8 and float32")
            shape = self.shape(i)
            if not shape or min(shape) <= 0:
                raise BadInput(f"input {self._fname(i)!r} has unknown dimensions {list(shape)}")
            name = self.fresh(self._fname(i))
            self.tensors[name] = Tensor(name, shape, "float32", None, self.activation_q(i) if self.int8 else None)
            graph_inputs.append(name)
            self.names[i] = name
            if len(shape) == 4:  # the IR holds it NCHW
                self.op = Operator(-1, "INPUT", [i], [], None)
                del self.names[i]
                ir = self.fresh(name + "_nchw")
                op, attrs = (("reshape", {"shape": nchw(shape)}) if same_order(shape)
                             else ("transpose", {"perm": TO_NCHW}))
                self.emit(op, [name], [ir], attrs, {}, {ir: self.tensors[name].q})
                self.names[i] = ir
        for op in operators:
            self.op = op
            LOWERINGS[op.code](self, op)
        ir_outputs = []
        for o in outputs:
            if o not in self.names:
                raise BadInput(f"output {self._fname(o)!r} is never written")
            self.op = Operator(-1, "OUTPUT", [o], [o], None)
            name, shape = self.names[o], self.shape(o)
            if len(shape) == 4 or name in graph_inputs:  # give the user the file's layout
                out = self.fresh(self._fname(o) + "_out")
                op, attrs = ("reshape", {"shape": shape}) if len(shape) != 4 or same_order(shape) \
                    else ("transpose", {"perm": TO_NHWC})
                self.emit(op, [name], [out], attrs, {out: shape}, {out: self.tensors[name].q})
                name = out
            ir_outputs.append(name)
        used = {i for n in self.nodes for i in n.inputs} | {o for n in self.nodes for o in n.outputs}
        tensors = {k: t for k, t in self.tensors.items() if k in used or k in graph_inputs}
        graph = Graph(self.name, tensors, self.nodes, graph_inputs, ir_outputs)
        verify(graph)
        return graph


def import_model(path: str | Path, name: str | None = None) -> Graph:
    """The float32 IR graph of a .tflite file; an int8 file's tensors carry its quantization (q)."""
    return Importer(load(path), name or Path(path).stem).run()
