"""The canonical ops. Each is defined once, in its own module: shape, MACs, float and int8
semantics (the reference interpreter), int8 preparation, and the C kernel call.

An op module never reads files or prints; the frontend lowers ONNX onto these ops and
nothing past the frontend sees ONNX.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tinyc.errors import UnsupportedOp
from tinyc.ir import Graph, Node, QParams


@dataclass
class KernelCall:
    """One C call `kernel(&params, args..., [scratch])` in the generated schedule.

    params: C struct fields -> int | float | np.ndarray (emitted as a const array and
    referenced by pointer) | dict (a nested struct). Field order is kept.
    args: tensor names, inputs then outputs; codegen turns constants into weight arrays
    and activations into arena pointers.
    """

    kernel: str  # tinyc_<op>[_<format>]_<type>, e.g. tinyc_conv2d_s8 (format omitted when dense)
    family: str  # runtime_c file stem that defines it, e.g. "tinyc_conv" -> tinyc_conv.h/.c
    params_type: str  # C struct type of the first argument
    params: dict = field(default_factory=dict)
    args: list[str] = field(default_factory=list)
    scratch_bytes: int = 0  # > 0: an arena pointer to this many bytes is passed last


class Op:
    """Base of every canonical op; subclasses override what applies to them."""

    name: str = ""
    is_view = False  # output shares the input's bytes (reshape): no kernel, no copy

    def infer_shape(self, node: Node, in_shapes: list[tuple[int, ...] | None]) -> list[tuple[int, ...]]:
        """Output shapes from input shapes (None for an absent optional input)."""
        raise NotImplementedError

    def output_dtypes(self, node: Node, in_dtypes: list[str | None]) -> list[str]:
        """IR dtypes of the outputs of a float graph: float32, unless the op makes indices (int64)
        or passes its input's bytes on (a view)."""
        return ["float32"] * len(node.outputs)

    def accepts(self, node: Node, in_dtypes: list[str | None]) -> bool:
        """Whether the op takes these input dtypes: none of int64 and bool (results that are not
        arithmetic: indices, masks) unless it says otherwise."""
        return not {"int64", "bool"} & set(in_dtypes)

    def macs(self, node: Node, in_shapes: list, out_shapes: list) -> int:
        """Multiply-accumulates per inference (0 for ops without)."""
        return 0

    def ref_float(self, node: Node, xs: list[np.ndarray | None]) -> list[np.ndarray]:
        """float32 semantics; xs in node.inputs order, constants included, None if absent."""
        raise NotImplementedError

    def output_qparams(self, node: Node, g: Graph, calibrated: list[QParams]) -> list[QParams]:
        """int8 parameters of the outputs: the calibrated ones unless the op fixes them."""
        return calibrated

    def quantize(self, node: Node, g: Graph) -> Node:
        """The int8 node: weights replaced by int8/int32 constants added to g, integer
        parameters in attrs["int8"]. Called once every activation of g is int8 with q set."""
        raise UnsupportedOp(f"node {node.name!r} ({self.name}): no int8 implementation")

    def ref_int8(self, node: Node, xs: list[np.ndarray | None]) -> list[np.ndarray]:
        """Exact integer semantics of the C kernel, on the quantized node."""
        raise NotImplementedError

    def kernel(self, node: Node, g: Graph) -> KernelCall:
        """The C call for this node, float32 or int8 according to its output dtype."""
        raise NotImplementedError

    def in_place_inputs(self, node: Node, g: Graph) -> tuple[int, ...]:
        """Indices of the inputs whose bytes output 0 may take if that input dies at this node:
        the kernel reads element i of it before writing element i and reads nothing else of
        it afterwards (same bytes count). None by default; the memory planner decides."""
        return ()


REGISTRY: dict[str, Op] = {}


def register(cls: type[Op]) -> type[Op]:
    assert cls.name and cls.name not in REGISTRY, f"op {cls.name!r} registered twice"
    REGISTRY[cls.name] = cls()
    return cls


def get(op: str) -> Op:
    return REGISTRY[op]


# One line per op module; each registers its ops on import.
from tinyc.ops import conv, dense, binary, unary, softmax, pool, tensor_ops, rnn, kronecker  # noqa: E402,F401
from tinyc.ops import reduce, normalization  # noqa: E402,F401
from tinyc.ops import conv_transpose  # noqa: E402,F401
from tinyc.ops import resize  # noqa: E402,F401
from tinyc.ops import arg  # noqa: E402,F401
from tinyc.ops import boundary  # noqa: E402,F401
from tinyc.ops import rnn_kp  # noqa: E402,F401
