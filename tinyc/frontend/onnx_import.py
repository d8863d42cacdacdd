"""ONNX -> IR: fold constants, lower each node (the file is read and checked in onnx_file.py).

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
from tinyc.errors import BadInput, DoesNotFit, TinycError, UnsupportedOp
from tinyc.frontend.onnx_file import MAX_ACTIVATION_BYTES, check_inputs, check_names, first_line, load, static_shape
from tinyc.ir import NP_DTYPE, Graph, Node, QParams, Tensor, verify

# What a lowering or an op's shape check raises on a model it cannot make sense of.
SHAPE_ERRORS = (AssertionError, ValueError, IndexError, KeyError, ZeroDivisionError, OverflowError, MemoryError)
# ONNX ops that pass the unsupported-op check without a lowering: they are folded when their inputs are constant
FOLDABLE = {"Constant", "Shape", "Gather", "Cast", "Concat", "Unsqueeze", "Squeeze", "Reshape", "Flatten", "Transpose",
            "Slice", "Mul", "Add", "Sub", "Div", "ConstantOfShape", "Range", "Identity", "DequantizeLinear",
            "ReduceProd", "Equal", "Where", "Expand", "Tile", "Neg", "Sqrt", "Pow", "QuantizeLinear"}


class Importer:
    """Builds the IR graph while lowering nodes; lowerings call its small API."""

    def __init__(self, model: onnx.ModelProto, name: str, held: dict[str, np.ndarray] | None = None):
        self.model = model
        self.held = held or {}  # large initializers load() took out of the model
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 13)
        self.name = name
        self.consts: dict[str, np.ndarray] = {}
        self.q: dict[str, QParams] = {}  # parameters recorded from QuantizeLinear/DequantizeLinear
        self.alias: dict[str, str] = {}  # Identity, Dropout, Q/DQ outputs -> the tensor they stand for
        self.tensors: dict[str, Tensor] = {}
        self.nodes: list[Node] = []
        self.onnx_shapes = {vi.name: static_shape(vi) for vi in
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
            if name not in self.consts:
                raise self.fail(f"input {name!r} is neither a graph input, an initializer nor an earlier "
                                "node's output", BadInput)
            data = self.consts[name]
            if data.dtype.kind not in "fiu":
                raise self.fail(f"constant {name!r} has unsupported type {data.dtype}")
            if data.dtype.kind == "f" and not np.isfinite(data).all():
                where = [int(i) for i in np.argwhere(~np.isfinite(data))[0]]
                raise self.fail(f"constant {name!r} holds {data[tuple(where)]} at index {where}: weights must be "
                                "finite", BadInput)
            self.tensors[name] = Tensor(name, tuple(data.shape), "float32", np.asarray(data, np.float32),
                                        self.q.get(name))
        return name

    def emit(self, op: str, inputs: list[str], outputs: list[str], attrs: dict | None = None, name: str = "") -> None:
        """Add an IR node; output shapes come from the op and must agree with ONNX's inference."""
        ins = [self.tensor(i) if i else "" for i in inputs]
        node = Node(self._unique(name or self.node.name or next(o for o in self.node.output if o)), op, ins,
                    list(outputs), dict(attrs or {}))
        in_shapes = [self.tensors[i].shape if i else None for i in ins]
        in_dtypes = [self.tensors[i].dtype if i else None for i in ins]
        if not ops.get(op).accepts(node, in_dtypes):
            odd = [i for i in ins if i and self.tensors[i].dtype in ("int64", "bool")]
            if not odd:
                raise self.fail(f"inputs of types {[d for d in in_dtypes if d]} unsupported")
            raise self.fail(f"input {odd[0]!r} holds {self.tensors[odd[0]].dtype} values (indices): tinyc takes them "
                            "only as a Gather's indices or as graph outputs")
        dtypes = ops.get(op).output_dtypes(node, in_dtypes)
        try:
            shapes = ops.get(op).infer_shape(node, in_shapes)
        except SHAPE_ERRORS as e:  # an op's shape check: here it meets a user's model
            raise self.fail(f"inputs of shapes {[list(s) if s else None for s in in_shapes]} do not fit: "
                            f"{first_line(e)}", BadInput) from None
        for out, shape, dtype in zip(outputs, shapes, dtypes):
            if not out:
                continue
            if any(int(d) < 0 for d in shape):
                raise self.fail(f"output {out!r} would have shape {list(shape)}: a dimension is negative", BadInput)
            size = int(np.prod(shape, dtype=np.int64)) * 4
            if size > MAX_ACTIVATION_BYTES:
                raise self.fail(f"output {out!r} of shape {list(shape)} needs {size:,} bytes; tinyc's limit for "
                                f"one activation is {MAX_ACTIVATION_BYTES:,}", DoesNotFit)
            known = self.onnx_shapes.get(out)
            if known is not None and np.prod(known) != np.prod(shape):
                raise self.fail(f"output {out!r} has shape {list(shape)} here but ONNX infers {list(known)}", BadInput)
            self.tensors[out] = Tensor(out, tuple(shape), dtype, None, self.q.get(out))
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
        from tinyc.frontend.onnx_ops.qoperator import MICROSOFT

        g = self.model.graph
        check_names(g)
        self.consts.update(self.held)
        for init in g.initializer:
            try:
                self.consts[init.name] = numpy_helper.to_array(init)
            except Exception as e:  # truncated raw data, a bad data type: onnx raises several types
                raise BadInput(f"initializer {init.name!r} cannot be read: {first_line(e)}") from None
        for name, data in self.consts.items():
            if data.dtype.kind == "f" and np.isnan(data).any():
                where = [int(i) for i in np.argwhere(np.isnan(data))[0]]
                raise BadInput(f"initializer {name!r} holds nan at index {where}: weights must be finite")
        inputs = [i for i in g.input if i.name not in self.consts]
        check_inputs(g, skip=self.consts)
        for vi in inputs:
            index = vi.type.tensor_type.elem_type == onnx.TensorProto.INT64  # token ids for a Gather (Embedding)
            self.tensors[vi.name] = Tensor(vi.name, static_shape(vi), "int64" if index else "float32")
            if self.tensors[vi.name].size == 0:  # an empty input has no values: what it feeds is known
                self.consts[vi.name] = np.zeros(self.tensors[vi.name].shape, np.float32)
        folds = _constant_nodes(g, set(self.consts), set(self.tensors))
        unsupported = [n for i, n in enumerate(g.node) if n.domain not in ("", "ai.onnx", "com.microsoft")
                       or n.domain == "com.microsoft" and n.op_type not in MICROSOFT
                       or n.op_type not in LOWERINGS and n.op_type not in FOLDABLE and i not in folds]
        if unsupported:
            listed = ", ".join(f"{n.name or n.output[0]!r} ({n.op_type})" for n in unsupported)
            raise UnsupportedOp(f"{len(unsupported)} unsupported node(s): {listed}")
        uses = {}  # how many nodes still read each name: a constant is freed after its last reader
        for node in g.node:
            for i in node.input:
                uses[i] = uses.get(i, 0) + 1
        for node in g.node:
            self.node = node
            if not self._fold(node):
                self._lower(node, LOWERINGS)
            for i in node.input:
                uses[i] -= 1
                if not uses[i] and i in self.consts and i not in self.tensors and i not in self.alias.values():
                    del self.consts[i]
        return self._finish(inputs)

    def _lower(self, node: onnx.NodeProto, lowerings: dict) -> None:
        """One ONNX node through its lowering; what goes wrong becomes one line naming the node."""
        if node.op_type not in lowerings:
            raise self.fail("only supported when every input is constant")
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        attrs = {k: (v.decode(errors="replace") if isinstance(v, bytes) else v) for k, v in attrs.items()}
        for k, v in attrs.items():
            if any(isinstance(x, float) and np.isnan(x) for x in (v if isinstance(v, list) else [v])):
                raise self.fail(f"attribute {k}={v} is not a number", BadInput)
        args = list(node.input)
        try:
            lowerings[node.op_type](self, node, *args, **attrs)
        except SHAPE_ERRORS as e:  # a lowering reading a model that does not make sense
            raise self.fail(f"cannot be lowered with inputs {self._shapes_of(args)}: {first_line(e)}",
                            BadInput) from None
        except TypeError as e:  # the lowering's signature is the list of what is supported
            if "unexpected keyword argument" in str(e):
                attr = str(e).split("argument")[-1].strip(" '")
                raise self.fail(f"attribute {attr!r} is not supported") from None
            if "positional argument" in str(e):
                raise self.fail(f"{len(args)} inputs is not a supported form of this op") from None
            raise

    def _finish(self, inputs: list) -> Graph:
        g = self.model.graph
        outputs = []
        for o in g.output:
            name = self.resolve(o.name)
            if o.name not in {vi.name for vi in inputs} and name in self.consts:
                self._constant_output(o.name, name)
                outputs.append(o.name)
                continue
            if o.name in {vi.name for vi in inputs}:
                raise BadInput(f"output {o.name!r} is a graph input: nothing to compute")
            if name not in self.tensors:
                raise BadInput(f"output {o.name!r} is produced by no node")
            if name != o.name:  # an aliased graph output keeps its ONNX name through a view
                self.node = onnx.helper.make_node("Identity", [name], [o.name], name=o.name)
                self.emit("reshape", [name], [o.name], {"shape": self.shape(name)})
            outputs.append(o.name)
        used = {i for n in self.nodes for i in n.inputs} | {o for n in self.nodes for o in n.outputs}
        tensors = {k: t for k, t in self.tensors.items() if k in used or not t.is_const}
        graph = Graph(self.name, tensors, self.nodes, [vi.name for vi in inputs], outputs)
        if any(t.q is not None for t in tensors.values() if not t.is_const):
            graph.requantization = "once"  # a file onnxruntime quantized: its requantizations round once
        verify(graph)
        return graph

    def _constant_output(self, output: str, name: str) -> None:
        """A graph output known at compile time (a Dropout mask, a result of constants only): a node
        copies it from flash, in its own type (bool and int64 included)."""
        data = np.asarray(self.consts[name])
        kind = data.dtype.kind
        if kind == "b":
            dtype = "bool"
        elif kind in "iu":
            dtype = "int64" if data.dtype.itemsize == 8 or kind == "u" and data.dtype.itemsize == 4 else "int32"
        elif kind == "f":
            dtype = "float32"
        else:
            raise BadInput(f"output {output!r} is a constant of type {data.dtype}: unsupported")
        value = self.fresh(output + "_value")
        self.tensors[value] = Tensor(value, tuple(data.shape), dtype, data.astype(NP_DTYPE[dtype]))
        self.tensors.pop(output, None)
        self.node = onnx.helper.make_node("Identity", [value], [output], name=output)
        self.emit("constant", [value], [output])
        self.tensors[output].dtype = dtype

    def _shapes_of(self, names: list[str]) -> list:
        shapes = []
        for i in names:
            try:
                shapes.append(list(self.shape(i)) if i else None)
            except KeyError:
                shapes.append("?")
        return shapes

    def _fold(self, node: onnx.NodeProto) -> bool:
        """Evaluate a node whose inputs are all constant (a Reshape of a weight, say)."""
        if node.op_type == "Constant":
            self.consts[node.output[0]] = numpy_helper.to_array(node.attribute[0].t) \
                if node.attribute[0].name == "value" else np.array(helper.get_attribute_value(node.attribute[0]))
            return True
        if node.op_type == "Shape" and node.input[0] and self.resolve(node.input[0]) in self.tensors:
            self.consts[node.output[0]] = np.array(self.shape(node.input[0]), np.int64)
            return True
        if any(i and self.const(i) is None for i in node.input) or not any(node.input) and node.op_type != \
                "ConstantOfShape":
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
        try:
            results = ReferenceEvaluator(model).run(None, feeds)
        except Exception as e:  # onnx's evaluator raises whatever numpy raises on a bad model
            raise self.fail(f"cannot be evaluated at compile time: {first_line(e)}", BadInput) from None
        for out, value in zip([o for o in node.output if o], results):
            self.consts[out] = np.asarray(value)
        return True


def _constant_nodes(g: onnx.GraphProto, consts: set[str], activations: set[str]) -> set[int]:
    """Indices of the nodes whose inputs are all known at compile time (constants, or results of such
    nodes): they are folded whatever their op, so an op tinyc has no kernel for may still appear there."""
    known, folds = set(consts) - set(activations) | {""}, set()
    for i, node in enumerate(g.node):
        if node.op_type == "Constant" or node.input and all(x in known for x in node.input):
            folds.add(i)
            known.update(node.output)
    return folds


def import_model(path: str | Path, name: str | None = None) -> Graph:
    """The float32 IR graph of an ONNX file (a .tflite file goes to the TFLite frontend)."""
    if Path(path).suffix.lower() == ".tflite":
        from tinyc.frontend import tflite_import
        return tflite_import.import_model(path, name)
    held: dict[str, np.ndarray] = {}
    model = load(path, held)
    return Importer(model, name or Path(path).stem, held).run()
