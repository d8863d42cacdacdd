"""dense (x @ w.T + b with a constant w) and matmul (two activations, broadcast batch), float32 and int8.

Semantics only; ONNX Gemm/MatMul lowering (transposes, constant operands) lives in the frontend.
"""

from __future__ import annotations

import numpy as np

from tinyc import quant
from tinyc.errors import UnsupportedOp
from tinyc.ir import Graph, Node
from tinyc.ops import KernelCall, Op, common, register
from tinyc.sparse import kernel_weights


def folded_bias(w: np.ndarray, b: np.ndarray | None, input_zp: int) -> np.ndarray | None:
    """bias[m] - input_zp * sum_k w[m][k] (int32), the constant a dense kernel adds to sum_k x * w, or None when
    a sum could reach the int32 limits (|x| <= 128), where the reference saturates bias + sum (x - zp) * w."""
    w2 = w.reshape(w.shape[0], -1)  # no int64 copy of a large weight: sums accumulate in int64
    folded = (b.astype(np.int64) if b is not None else 0) - int(input_zp) * w2.sum(axis=1, dtype=np.int64)
    bound = np.abs(folded) + 128 * np.abs(w2.astype(np.int16 if w2.dtype == np.int8 else np.int64)).sum(
        axis=1, dtype=np.int64)
    return folded.astype(np.int32) if np.all(bound <= quant.INT32_MAX) else None


DENSE_BLOCK = 6  # TINYC_DENSE_BLOCK in runtime_c/tinyc_dense.h


def dense_block_layout(w: np.ndarray, block: int = DENSE_BLOCK) -> np.ndarray:
    """W (M, K) as tinyc_dense_s8 reads it (same bytes): rows in blocks of `block`, each block interleaved by
    16 inputs (row 0's w[k:k+16], row 1's, ...: one Helium load per row), then by 4 inputs over the K % 16 next
    (row 0's 4, row 1's, ...: one word per row for SMLAD), then every row's K % 4 last weights; the last
    M % block rows row-major."""
    m, k = w.shape
    full, k16, k4 = m - m % block, k - k % 16, k - k % 4
    if full == 0:
        return np.ascontiguousarray(w.reshape(-1))

    def interleaved(cols: np.ndarray, step: int) -> np.ndarray:  # (blocks, block, n * step) -> (blocks, -1)
        n = cols.shape[2] // step
        return cols.reshape(full // block, block, n, step).transpose(0, 2, 1, 3).reshape(full // block, -1)

    blocks = w[:full].reshape(full // block, block, k)
    parts = np.concatenate([interleaved(blocks[:, :, :k16], 16), interleaved(blocks[:, :, k16:k4], 4),
                            blocks[:, :, k4:].reshape(full // block, block * (k - k4))], axis=1)
    return np.ascontiguousarray(np.concatenate([parts.reshape(-1), w[full:].reshape(-1)]).astype(w.dtype))


NM_TABLE_MIN_OUT = 8  # output features from which the pair table (~5 instructions per input) pays
NM24_SLOTS = {(0, 0): 0, (0, 1): 1, (0, 2): 2, (0, 3): 3, (1, 2): 4, (1, 3): 5, (2, 3): 6}  # TINYC_NM24_P0/P1


def nm_table_pays(fmt: str, m: int, k: int) -> bool:
    """True when an N:M dense layer (M, K) runs tinyc_dense_nm_table_s8: 1:4 with K >= 16 (one unit of 4 groups)
    or 2:4 with K >= 32 (one block of 8 groups), and enough outputs to amortise the table built per x row."""
    return m >= NM_TABLE_MIN_OUT and ((fmt == "1:4" and k >= 16) or (fmt == "2:4" and k >= 32))


def nm_table_scratch(fmt: str, k: int) -> int:
    """Bytes of tinyc_dense_nm_table_s8's pair table: 1:4, 512 per started block of 4 units (16 groups of 4);
    2:4, 256 per whole block of 8 groups."""
    return 512 * (-(-(k // 16) // 4)) if fmt == "1:4" else 256 * (k // 32)


def nm_table_values(values: np.ndarray, m: int, count: int) -> np.ndarray:
    """N:M values (M rows of `count`) as tinyc_dense_nm_table_s8 reads them: in each row every 4 values (one
    position byte of 1:4, two groups of 2:4) as v0 v2 v1 v3 (SXTB16 pairs); a row's last count % 4 as they are."""
    rows = values.reshape(m, count).copy()
    full = count - count % 4
    rows[:, :full] = rows[:, :full].reshape(m, -1, 4)[:, :, [0, 2, 1, 3]].reshape(m, full)
    return rows.reshape(-1)


def nm24_table_positions(weights: dict, m: int, k: int) -> dict:
    """2:4 weights with each group's positions (p0, p1) as a slot of NM24_SLOTS (same bytes: one nibble per
    group); a pair stored high-low is swapped, values too (the same sum)."""
    groups = k // 4
    packed = weights["positions"].reshape(m, -1)
    nib = np.stack([packed & 15, packed >> 4], axis=2).reshape(m, -1)[:, :groups].astype(np.int64)
    p0, p1 = nib & 3, nib >> 2
    values = weights["values"].reshape(m, groups, 2).copy()
    swap = p0 > p1
    values[swap] = values[swap][:, ::-1]
    p0, p1 = np.minimum(p0, p1), np.maximum(p0, p1)
    lut = np.full(16, -1, np.int64)
    for (a, b), slot in NM24_SLOTS.items():
        lut[a + 4 * b] = slot
    slots = lut[p0 + 4 * p1]
    assert np.all(slots >= 0), "2:4 group with two equal nonzero positions"
    padded = np.zeros((m, packed.shape[1] * 2), np.int64)
    padded[:, :groups] = slots
    positions = (padded[:, 0::2] | padded[:, 1::2] << 4).astype(np.uint8).reshape(-1)
    return dict(weights, values=values.reshape(-1), positions=positions)


def _rows(x_shape: tuple[int, ...]) -> int:
    return int(np.prod(x_shape[:-1], dtype=np.int64))


@register
class Dense(Op):
    """y = x @ w.T + b, then the fused clamp; x (..., K), w (M, K), b (M,), y (..., M)."""

    name = "dense"

    def infer_shape(self, node, in_shapes):
        x, w = in_shapes[0], in_shapes[1]
        assert len(w) == 2 and x[-1] == w[1], f"node {node.name!r} (dense): x {x}, w {w}"
        bias = in_shapes[2] if len(in_shapes) > 2 else None
        assert bias in (None, (w[0],)), f"node {node.name!r} (dense): w {w}, bias {bias}"
        return [tuple(x[:-1]) + (w[0],)]

    def macs(self, node, in_shapes, out_shapes):
        m, k = in_shapes[1]
        return _rows(in_shapes[0]) * m * k

    def ref_float(self, node, xs):
        x, w, b = xs
        y = x.astype(np.float64) @ w.astype(np.float64).T
        if b is not None:
            y += b.astype(np.float64)
        return [common.apply_act_float(node, y)]

    def quantize(self, node: Node, g: Graph) -> Node:
        return common.quantize_weighted(node, g)

    def ref_int8(self, node, xs):
        x, w, b = xs
        p = node.attrs["int8"]
        # float64 BLAS on integer values is exact below 2**53.
        acc = np.rint((x.astype(np.float64) - p["input_zp"]) @ w.astype(np.float64).T).astype(np.int64)
        if b is not None:  # added with int32 saturation, as the C kernel: a clipped bias must not wrap
            acc = np.clip(acc + b.astype(np.int64), quant.INT32_MIN, quant.INT32_MAX)
        v = quant.requantize(acc, p["multiplier"], p["shift"])
        return [quant.saturate(v + p["output_zp"], p["act_min"], p["act_max"])]

    def kernel(self, node, g):
        x, w, b = node.inputs
        y = node.outputs[0]
        m, k = g.tensors[w].shape
        shape = {"rows": _rows(g.tensors[x].shape), "in_features": k, "out_features": m}
        if common.out_dtype(node, g) == "float32":
            params = dict(shape, clamp=common.act_clamp_f32(node))
            return KernelCall("tinyc_dense_f32", "tinyc_dense", "tinyc_dense_f32_params", params, [x, w, b, y])
        p = node.attrs["int8"]
        params = dict(shape, input_zp=p["input_zp"], output_zp=p["output_zp"],
                      requant={"multiplier": p["multiplier"], "shift": p["shift"]},
                      clamp={"min": p["act_min"], "max": p["act_max"]})
        fmt = g.tensors[w].format
        if fmt != "dense":  # the encoding goes in params; the dense weight is neither passed nor emitted
            kind = "csr" if fmt == "csr" else "nm"
            params["weights"] = kernel_weights(g.tensors[w].data, fmt)
            folded = folded_bias(g.tensors[w].data, g.tensors[b].data if b else None, p["input_zp"])
            if folded is not None:  # as the dense kernel: the bias is inside bias_folded, not emitted
                params["bias_folded"] = folded
            args = [x, None if folded is not None else b, y]
            if nm_table_pays(fmt, m, k):
                wts = params["weights"] if fmt == "1:4" else nm24_table_positions(params["weights"], m, k)
                params["weights"] = dict(wts, values=nm_table_values(wts["values"], m, wts["n"] * (k // 4)))
                return KernelCall("tinyc_dense_nm_table_s8", "tinyc_sparse", "tinyc_dense_nm_s8_params", params, args,
                                  scratch_bytes=nm_table_scratch(fmt, k))
            return KernelCall(f"tinyc_dense_{kind}_s8", "tinyc_sparse", f"tinyc_dense_{kind}_s8_params", params, args)
        wq = g.tensors[w].data
        params["weights"] = dense_block_layout(wq)  # same bytes, reordered; the plain weight is not emitted
        folded = folded_bias(wq, g.tensors[b].data if b else None, p["input_zp"])
        if folded is not None:  # the bias is inside bias_folded: the kernel gets NULL and it is not emitted
            return KernelCall("tinyc_dense_s8", "tinyc_dense", "tinyc_dense_s8_params",
                              dict(params, bias_folded=folded), [x, None, y])
        # sum_k w[m][k] at compile time: the kernel computes sum x*w - input_zp * weight_sums (exact in int32)
        params["weight_sums"] = wq.astype(np.int64).sum(axis=1).astype(np.int32)
        return KernelCall("tinyc_dense_s8", "tinyc_dense", "tinyc_dense_s8_params", params, [x, b, y])


def _matmul_shape(node: Node, a: tuple[int, ...], b: tuple[int, ...]) -> dict:
    """The tinyc_matmul_shape struct: two outer (batch) loops of the output and each operand's matrix
    stride along them (elements; 0 where numpy broadcasting repeats it). Any number of batch dims
    whose strides merge into two loops (as broadcast_loops in binary.py)."""
    where = f"node {node.name!r} (matmul): {tuple(a)} @ {tuple(b)}"
    if len(a) < 2 or len(b) < 2 or a[-1] != b[-2]:
        raise UnsupportedOp(f"{where}; needs ranks >= 2 with matching K")
    try:
        outer = tuple(np.broadcast_shapes(a[:-2], b[:-2]))
    except ValueError:
        raise UnsupportedOp(f"{where}; batch dims do not broadcast") from None

    def strides(s: tuple[int, ...]) -> list[int]:
        lead = (1,) * (len(outer) - len(s[:-2])) + tuple(s[:-2])
        step, out = s[-2] * s[-1], [0] * len(outer)
        for k in reversed(range(len(outer))):
            out[k] = 0 if lead[k] == 1 else step
            step *= lead[k]
        return out

    sa, sb = strides(a), strides(b)
    loops: list[list[int]] = []  # [size, a_stride, b_stride], outermost first
    for k, size in enumerate(outer):
        if size == 1:
            continue
        if loops and loops[-1][1] == sa[k] * size and loops[-1][2] == sb[k] * size:
            loops[-1] = [loops[-1][0] * size, sa[k], sb[k]]
        else:
            loops.append([size, sa[k], sb[k]])
    if len(loops) > 2:
        raise UnsupportedOp(f"{where}; the batch broadcast needs {len(loops)} loops, at most 2")
    loops = [[1, 0, 0]] * (2 - len(loops)) + loops
    return {"outer0": loops[0][0], "outer1": loops[1][0], "a_stride0": loops[0][1], "a_stride1": loops[1][1],
            "b_stride0": loops[0][2], "b_stride1": loops[1][2], "m": a[-2], "k": a[-1], "n": b[-1]}


@register
class MatMul(Op):
    """y = a @ b with numpy broadcasting of the leading dims; a (..., M, K), b (..., K, N), ranks >= 2."""

    name = "matmul"

    def infer_shape(self, node, in_shapes):
        a, b = in_shapes
        _matmul_shape(node, a, b)
        return [tuple(np.broadcast_shapes(a[:-2], b[:-2])) + (a[-2], b[-1])]

    def macs(self, node, in_shapes, out_shapes):
        return int(np.prod(out_shapes[0])) * in_shapes[0][-1]

    def ref_float(self, node, xs):
        a, b = xs
        return [common.apply_act_float(node, a.astype(np.float64) @ b.astype(np.float64))]

    def quantize(self, node: Node, g: Graph) -> Node:
        a, b = node.inputs
        for name in (a, b):
            if g.tensors[name].is_const:
                raise UnsupportedOp(f"node {node.name!r} (matmul): constant operand {name!r} in int8; "
                                    "only two activations (a constant weight is a dense node)")
        s_a, zp_a = common.scale_zp(g, a)
        s_b, zp_b = common.scale_zp(g, b)
        s_out, zp_out = common.scale_zp(g, node.outputs[0])
        mult, shift = quant.quantize_multiplier(s_a * s_b / s_out)  # one per-tensor multiplier
        clamp = common.act_clamp_s8(node, g.tensors[node.outputs[0]].q)
        int8 = {"a_zp": zp_a, "b_zp": zp_b, "output_zp": zp_out, "multiplier": mult, "shift": shift,
                "act_min": clamp["min"], "act_max": clamp["max"]}
        return Node(node.name, node.op, [a, b], list(node.outputs), dict(node.attrs, int8=int8))

    def ref_int8(self, node, xs):
        a, b = xs
        p = node.attrs["int8"]
        acc = (a.astype(np.float64) - p["a_zp"]) @ (b.astype(np.float64) - p["b_zp"])
        v = quant.requantize(np.rint(acc).astype(np.int64), p["multiplier"], p["shift"])
        return [quant.saturate(v + p["output_zp"], p["act_min"], p["act_max"])]

    def kernel(self, node, g):
        a, b = node.inputs
        y = node.outputs[0]
        shape = _matmul_shape(node, g.tensors[a].shape, g.tensors[b].shape)
        if common.out_dtype(node, g) == "float32":
            params = {"shape": shape, "clamp": common.act_clamp_f32(node)}
            return KernelCall("tinyc_matmul_f32", "tinyc_dense", "tinyc_matmul_f32_params", params, [a, b, y])
        p = node.attrs["int8"]
        params = {"shape": shape, "a_zp": p["a_zp"], "b_zp": p["b_zp"], "output_zp": p["output_zp"],
                  "multiplier": p["multiplier"], "shift": p["shift"],
                  "clamp": {"min": p["act_min"], "max": p["act_max"]}}
        return KernelCall("tinyc_matmul_s8", "tinyc_dense", "tinyc_matmul_s8_params", params, [a, b, y])
