"""The IR: a Graph of Tensors and Nodes in schedule order. Nothing here knows ONNX or C.

Activations are NCHW (ONNX's layout) with the batch dimension kept as in the model (1).
A node's `op` is a canonical op name, a key of `tinyc.ops.REGISTRY`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

# bool (one byte, 0 or 1) and int64 hold graph outputs that are not arithmetic (a Dropout mask, indices)
DTYPES = ("float32", "int8", "int16", "int32", "int64", "bool")
NP_DTYPE = {"float32": np.float32, "int8": np.int8, "int16": np.int16, "int32": np.int32, "int64": np.int64,
            "bool": np.bool_}
C_TYPE = {"float32": "float", "int8": "int8_t", "int16": "int16_t", "int32": "int32_t", "int64": "int64_t",
          "bool": "uint8_t"}
ITEMSIZE = {"float32": 4, "int8": 1, "int16": 2, "int32": 4, "int64": 8, "bool": 1}


@dataclass
class QParams:
    """Affine quantization: real = scale * (q - zero_point); per channel along `axis` when set."""

    scale: np.ndarray  # float64, shape (1,) or (channels,)
    zero_point: np.ndarray  # int32, same shape as scale
    axis: int | None = None

    @staticmethod
    def per_tensor(scale: float, zero_point: int) -> QParams:
        return QParams(np.array([scale], np.float64), np.array([zero_point], np.int32))


@dataclass
class Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: str = "float32"
    data: np.ndarray | None = None  # constant value (weights live in flash)
    q: QParams | None = None
    format: str = "dense"  # storage format of constant weights

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        """Number of elements."""
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * ITEMSIZE[self.dtype]


@dataclass
class Node:
    name: str
    op: str
    inputs: list[str]  # tensor names; "" marks an absent optional input
    outputs: list[str]
    attrs: dict = field(default_factory=dict)

    @property
    def first_output(self) -> str:
        """The first output that is present (an RNN may leave out Y and keep Y_h)."""
        return next(o for o in self.outputs if o)


@dataclass
class Graph:
    name: str
    tensors: dict[str, Tensor]
    nodes: list[Node]  # topological order: this is the schedule
    inputs: list[str]
    outputs: list[str]
    # How multipliers are chosen (tinyc/quant.py quantize_multiplier): "tflite" (normalized, TFLite's: the
    # product is rounded twice when it shifts right) or "once" (a file onnxruntime quantized: it rounds once)
    requantization: str = "tflite"
    # Compiled for a core with Helium (tinyc.board.has_helium): conv2d takes the weight layout its Helium
    # path reads fastest (tinyc_conv2d_chunked_s8; a build without Helium runs it too, slower, the same bits)
    helium: bool = False

    def copy(self) -> Graph:
        """A deep copy that shares constant arrays (passes replace data, never mutate it)."""
        memo = {id(t.data): t.data for t in self.tensors.values() if t.data is not None}
        return copy.deepcopy(self, memo)

    def consumers(self, tensor: str) -> list[Node]:
        return [n for n in self.nodes if tensor in n.inputs]

    def producer(self, tensor: str) -> Node | None:
        for n in self.nodes:
            if tensor in n.outputs:
                return n
        return None

    def add_const(self, name: str, data: np.ndarray, dtype: str | None = None, q: QParams | None = None) -> str:
        """Add a constant tensor under a fresh name derived from `name`; return that name."""
        base, i = name, 1
        while name in self.tensors:
            name, i = f"{base}_{i}", i + 1
        dtype = dtype or str(data.dtype)
        self.tensors[name] = Tensor(name, tuple(data.shape), dtype, np.array(data, NP_DTYPE[dtype], order="C"), q)
        return name

    @property
    def is_int8(self) -> bool:
        """int8 arithmetic: an int8 input, or an int8 output (token ids in, a float32 embedding first)."""
        return any(self.tensors[i].dtype == "int8" for i in (*self.inputs, *self.outputs))

    def node_dtype(self, node: Node) -> str:
        """What a node computes in: its first output's dtype (a boundary `dequantize` is float32);
        an op that makes indices (int64) counts as the graph's arithmetic."""
        dtype = self.tensors[node.first_output].dtype
        return dtype if dtype in ("int8", "float32") else ("int8" if self.is_int8 else "float32")

    @property
    def is_mixed(self) -> bool:
        """An int8 model with float32 layers inside (--float-layers)."""
        return self.is_int8 and any(self.node_dtype(n) == "float32" for n in self.nodes)


def verify(g: Graph) -> None:
    """Check the invariants every pass must keep; raises AssertionError naming the fault."""
    known = {n for n, t in g.tensors.items() if t.is_const} | set(g.inputs)
    names = [node.name for node in g.nodes]
    assert len(set(names)) == len(names), "node names are not unique"
    for node in g.nodes:
        for i in node.inputs:
            assert i == "" or i in known, f"node {node.name!r} ({node.op}) reads {i!r} before it is produced"
        for o in filter(None, node.outputs):
            assert o in g.tensors, f"node {node.name!r} writes unknown tensor {o!r}"
            known.add(o)
    for o in g.outputs:
        assert o in known, f"graph output {o!r} is never produced"
    for t in g.tensors.values():
        assert t.dtype in DTYPES, f"tensor {t.name!r} has dtype {t.dtype}"
        if t.data is not None:
            assert tuple(t.data.shape) == tuple(t.shape), f"tensor {t.name!r}: data {t.data.shape} vs {t.shape}"
        if t.dtype == "int8" and not t.is_const:
            assert t.q is not None, f"int8 tensor {t.name!r} has no quantization parameters"
