"""ONNX -> IR: load and check the file, infer shapes, fold constants, lower each node.

The lowering of each ONNX op lives in tinyc/frontend/onnx_ops/ (one module per family);
nothing past this module sees ONNX.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from tinyc import ops
from tinyc.errors import BadInput, TinycError, UnsupportedOp
from tinyc.ir import Graph, Node, QParams, Tensor, verify

# ONNX ops whose result is always computed at compile time when every input is constant.
FOLDABLE = {"Constant", "Shape", "Gather", "Cast", "Concat", "Unsqueeze", "Squeeze", "Reshape", "Flatten", "Transpose",
            "Slice", "Mul", "Add", "Sub", "Div", "ConstantOfShape", "Range", "Identity", "DequantizeLinear",
            "ReduceProd", "Equal", "Where", "Expand", "Tile", "Neg", "Sqrt", "Pow", "QuantizeLinear"}


def load(path: str | Path) -> onnx.ModelProto:
    """Read and check an ONNX file; every failure is a one-line BadInput."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"{path}: no such file")
    try:
        model = onnx.load(str(path))
    except Exception as e:  # protobuf raises several unrelated types on bad bytes
        raise BadInput(f"{path}: not a readable ONNX model ({type(e).__name__})") from None
    if not model.graph.node and not model.graph.output:
        raise BadInput(f"{path}: not an ONNX model (no graph)")
    try:
        _check(model)
        _spell_out_defaults(model)
        model = onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    except Exception as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise BadInput(f"{path}: invalid ONNX model: {first}") from None
    return model


def _check(model: onnx.ModelProto) -> None:
    """onnx's model checker, except that GroupNormalization-18 passes: onnx deprecated it (its scale and
    bias are per group, which exporters misread) but onnxruntime runs it, and so does tinyc."""
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as e:
        if "registered for GroupNormalization is deprecated" not in str(e):
            raise


def _spell_out_defaults(model: onnx.ModelProto) -> None:
    """Write out attribute defaults that onnx's strict shape inference trips over when absent: a
    MeanVarianceNormalization without `axes` (its function body reads the attribute) is an error there."""
    for node in model.graph.node:
        if node.op_type == "MeanVarianceNormalization" and not any(a.name == "axes" for a in node.attribute):
            node.attribute.append(helper.make_attribute("axes", [0, 2, 3]))


class Importer:
    """Builds the IR graph while lowering nodes; lowerings call its small API."""

    def __init__(self, model: onnx.ModelProto, name: str):
        self.model = model
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 13)
        self.name = name
        self.consts: dict[str, np.ndarray] = {}
        self.q: dict[str, QParams] = {}  # parameters recorded from QuantizeLinear/DequantizeLinear
        self.alias: dict[str, str] = {}  # Identity, Dropout, Q/DQ outputs -> the tensor they stand for
        self.tensors: dict[str, Tensor] = {}
        self.nodes: list[Node] = []
        self.onnx_shapes = {vi.name: _static_shape(vi) for vi in
                            list(model.graph.value_info) + list(model.graph.output) + list(model.graph.input)}
        self.node: onnx.NodeProto | None = None
        self.graph_outputs = {o.name for o in model.graph.output}

    # --- the API lowerings use -------------------------------------------------------------------
    def resolve(self, name: str) -> str:
        while name in self.alias:
            name = self.alias[name]
        return name

    def const(self, name: str) -> np.ndarray | None:
        return self.consts.get(self.resolve(name)) if name else None

    def shape(self, name: str) -> tuple[int, ...]:
        name = self.resolve(name)
        if name in self.consts:
            return tuple(self.consts[name].shape)
        return self.tensors[name].shape

    def fail(self, what: str, cls: type[TinycError] = UnsupportedOp) -> TinycError:
        n = self.node
        return cls(f"node {n.name or n.output[0]!r} ({n.op_type}): {what}")

    def tensor(self, name: str) -> str:
        """The IR tensor for an input name: constants get a float32 IR tensor on first use."""
        name = self.resolve(name)
        if name not in self.tensors:
            data = self.consts[name]
            if data.dtype.kind not in "fiu":
                raise self.fail(f"constant {name!r} has unsupported type {data.dtype}")
            self.tensors[name] = Tensor(name, tuple(data.shape), "float32", data.astype(np.float32), self.q.get(name))
        return name

    def emit(self, op: str, inputs: list[str], outputs: list[str], attrs: dict | None = None, name: str = "") -> None:
        """Add an IR node; output shapes come from the op and must agree with ONNX's inference."""
        ins = [self.tensor(i) if i else "" for i in inputs]
        node = Node(self._unique(name or self.node.name or next(o for o in self.node.output if o)), op, ins,
                    list(outputs), dict(attrs or {}))
        shapes = ops.get(op).infer_shape(node, [self.tensors[i].shape if i else None for i in ins])
        for out, shape in zip(outputs, shapes):
            if not out:
                continue
            known = self.onnx_shapes.get(out)
            if known is not None and np.prod(known) != np.prod(shape):
                raise self.fail(f"output {out!r} has shape {list(shape)} here but ONNX infers {list(known)}", BadInput)
            self.tensors[out] = Tensor(out, tuple(shape), "float32", None, self.q.get(out))
        self.nodes.append(node)

    def _unique(self, name: str) -> str:
        taken = {n.name for n in self.nodes}
        base, i = name, 1
        while name in taken:
            name, i = f"{base}_{i}", i + 1
        return name

    def fresh(self, base: str) -> str:
        name, i = base, 1
        while name in self.tensors or name in self.consts:
            name, i = f"{base}_{i}", i + 1
        return name

    # --- driving the import --------------------------------------------------------------------
    def run(self) -> Graph:
        from tinyc.frontend.onnx_ops import LOWERINGS

        g = self.model.graph
        for init in g.initializer:
            self.consts[init.name] = numpy_helper.to_array(init)
        inputs = [i for i in g.input if i.name not in self.consts]
        for vi in inputs:
            shape = _static_shape(vi)
            if not vi.type.HasField("tensor_type"):
                raise BadInput(f"input {vi.name!r} has type {vi.type.WhichOneof('value')}; only tensors are supported")
            if any(d.HasField("dim_value") and d.dim_value == 0 for d in vi.type.tensor_type.shape.dim):
                raise BadInput(f"input {vi.name!r} has a zero dimension: empty tensors are unsupported")
            if shape is None:
                dims = [d.dim_param or "?" if not d.HasField("dim_value") or d.dim_value <= 0 else str(d.dim_value)
                        for d in vi.type.tensor_type.shape.dim]
                if any(d.HasField("dim_value") and d.dim_value == 0 for d in vi.type.tensor_type.shape.dim):
                    raise BadInput(f"input {vi.name!r} has a zero-size dimension "
                                   f"[{', '.join(str(d.dim_value) for d in vi.type.tensor_type.shape.dim)}]: "
                                   "tinyc does not support empty tensors")
                raise BadInput(f"input {vi.name!r} has unknown dimensions [{', '.join(dims)}]: "
                               "export the model with a fixed input shape")
            if vi.type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
                raise BadInput(f"input {vi.name!r}: only float32 model inputs are supported")
            self.tensors[vi.name] = Tensor(vi.name, shape, "float32")
        unsupported = [n for n in g.node if n.op_type not in LOWERINGS and n.op_type not in FOLDABLE
                       or n.domain not in ("", "ai.onnx")]
        if unsupported:
            listed = ", ".join(f"{n.name or n.output[0]!r} ({n.op_type})" for n in unsupported)
            raise UnsupportedOp(f"{len(unsupported)} unsupported node(s): {listed}")
        for node in g.node:
            self.node = node
            if self._fold(node):
                continue
            if node.op_type not in LOWERINGS:
                raise self.fail("only supported when every input is constant")
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in attrs.items()}
            args = list(node.input)
            try:
                LOWERINGS[node.op_type](self, node, *args, **attrs)
            except TypeError as e:  # the lowering's signature is the list of what is supported
                if "unexpected keyword argument" in str(e):
                    attr = str(e).split("argument")[-1].strip(" '")
                    raise self.fail(f"attribute {attr!r} is not supported") from None
                if "positional argument" in str(e):
                    raise self.fail(f"{len(args)} inputs is not a supported form of this op") from None
                raise
        outputs = []
        for o in g.output:
            name = self.resolve(o.name)
            if name in self.consts:
                raise BadInput(f"output {o.name!r} is a constant: nothing to compute")
            if name != o.name:  # an aliased graph output keeps its ONNX name through a view
                self.node = onnx.helper.make_node("Identity", [name], [o.name], name=o.name)
                self.emit("reshape", [name], [o.name], {"shape": self.shape(name)})
            outputs.append(o.name)
        used = {i for n in self.nodes for i in n.inputs} | {o for n in self.nodes for o in n.outputs}
        tensors = {k: t for k, t in self.tensors.items() if k in used or not t.is_const}
        graph = Graph(self.name, tensors, self.nodes, [vi.name for vi in inputs], outputs)
        verify(graph)
        return graph

    def _fold(self, node: onnx.NodeProto) -> bool:
        """Evaluate a node whose inputs are all constant (a Reshape of a weight, say)."""
        if node.op_type == "Constant":
            self.consts[node.output[0]] = numpy_helper.to_array(node.attribute[0].t) \
                if node.attribute[0].name == "value" else np.array(helper.get_attribute_value(node.attribute[0]))
            return True
        if node.op_type == "Shape" and node.input[0] and self.resolve(node.input[0]) in self.tensors:
            self.consts[node.output[0]] = np.array(self.shape(node.input[0]), np.int64)
            return True
        if node.op_type not in FOLDABLE or any(i and self.const(i) is None for i in node.input):
            return False
        if node.op_type in ("DequantizeLinear", "QuantizeLinear"):
            from tinyc.frontend.onnx_ops.quantization import fold_qdq
            fold_qdq(self, node)
            return True
        feeds = {i: self.const(i) for i in node.input if i}
        graph = helper.make_graph([node], "fold", [helper.make_tensor_value_info(
            i, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape) for i, v in feeds.items()],
            [helper.make_tensor_value_info(o, onnx.TensorProto.UNDEFINED, None) for o in node.output if o])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)])
        results = ReferenceEvaluator(model).run(None, feeds)
        for out, value in zip([o for o in node.output if o], results):
            self.consts[out] = np.asarray(value)
        return True


def _static_shape(vi: onnx.ValueInfoProto) -> tuple[int, ...] | None:
    if not vi.type.HasField("tensor_type") or not vi.type.tensor_type.HasField("shape"):
        return None
    dims = vi.type.tensor_type.shape.dim
    if any(not d.HasField("dim_value") or d.dim_value <= 0 for d in dims):
        return None
    return tuple(int(d.dim_value) for d in dims)


def import_model(path: str | Path, name: str | None = None) -> Graph:
    """The float32 IR graph of an ONNX file (a .tflite file goes to the TFLite frontend)."""
    if Path(path).suffix.lower() == ".tflite":
        from tinyc.frontend import tflite_import
        return tflite_import.import_model(path, name)
    model = load(path)
    return Importer(model, name or Path(path).stem).run()
