"""The boundary ops of a mixed-precision model (`--float-layers`): `quantize` (float32 -> int8) and
`dequantize` (int8 -> float32), with the int8 side's scale and zero point in attrs["scale"] (a
float32 value) and attrs["zero_point"].

TFLite's QUANTIZE and DEQUANTIZE, computed in single precision as TFLite's reference kernels do
(the division x / scale in float, ties away from zero; (x - zero_point) * scale rounded once to
float), so numpy here and the C (runtime_c/tinyc_quantize.c) agree bit for bit. passes/quantize.py
inserts them; nothing imports them from a model file.
"""

from __future__ import annotations

import numpy as np

from tinyc import quant
from tinyc.ir import Graph, Node, QParams
from tinyc.ops import KernelCall, Op, register

LIMIT = np.float32(512.0)  # x / scale beyond this saturates whatever the zero point (as the C)


def attrs_of(q: QParams) -> dict:
    """The attrs of a boundary op converting to or from an int8 tensor with per-tensor `q`."""
    return {"scale": float(np.float32(q.scale[0])), "zero_point": int(q.zero_point[0])}


def quantize_f32(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    v = np.asarray(x, np.float32) / np.float32(scale)  # float32 division, as the C
    v = np.clip(np.where(np.isnan(v), np.float32(0), v), -LIMIT, LIMIT)
    return quant.saturate(quant.round_half_away(v) + zero_point)


def dequantize_f32(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return (np.asarray(x, np.int32) - zero_point).astype(np.float32) * np.float32(scale)


class _Boundary(Op):
    params = "tinyc_quantize_params"

    def infer_shape(self, node, in_shapes):
        return [in_shapes[0]]

    def macs(self, node, in_shapes, out_shapes):
        return 0

    def quantize(self, node, g):
        return node  # already the int8 model's own op

    def ref_int8(self, node, xs):
        return self.ref_float(node, xs)

    def _call(self, kernel: str, node: Node, g: Graph) -> KernelCall:
        params = {"size": g.tensors[node.inputs[0]].size, "scale": node.attrs["scale"],
                  "zero_point": node.attrs["zero_point"]}
        return KernelCall(kernel, "tinyc_quantize", self.params, params, [node.inputs[0], node.outputs[0]])


@register
class Quantize(_Boundary):
    """y (int8) = clamp(round(x / scale) + zero_point): a float32 layer's result into the int8 model."""

    name = "quantize"

    def output_dtypes(self, node, in_dtypes):
        return ["int8"]

    def ref_float(self, node, xs):
        return [quantize_f32(xs[0], node.attrs["scale"], node.attrs["zero_point"])]

    def kernel(self, node, g):
        return self._call("tinyc_quantize_f32_s8", node, g)


@register
class Dequantize(_Boundary):
    """y (float32) = (x - zero_point) * scale: an int8 activation into a float32 layer."""

    name = "dequantize"

    def accepts(self, node, in_dtypes):
        return in_dtypes[0] == "int8"

    def ref_float(self, node, xs):
        return [dequantize_f32(xs[0], node.attrs["scale"], node.attrs["zero_point"])]

    def kernel(self, node, g):
        return self._call("tinyc_dequantize_s8_f32", node, g)
