"""Compressed weight encodings, defined once: CSR and N:M for an int8 weight matrix, and their sizes.

A weight matrix is [rows, cols] = [output channels, reduction length]: a dense layer's W as is,
a conv's W [Co, Ci/group, KH, KW] flattened to [Co, Ci/group*KH*KW] (the reduction runs over
input channel, then kernel row, then kernel column). Nothing here reads graphs or files.
"""

from __future__ import annotations

import numpy as np

FORMATS = ("dense", "csr", "nm")  # Tensor.format is "dense", "csr" or "N:M" such as "2:4"
MAX_M = 16


def index_dtype(largest: int) -> np.dtype:
    """The narrowest unsigned integer type holding 0..largest."""
    for dt in (np.uint8, np.uint16, np.uint32):
        if largest <= np.iinfo(dt).max:
            return np.dtype(dt)
    raise AssertionError(f"index {largest} does not fit 32 bits")


def weight_matrix(w: np.ndarray) -> np.ndarray:
    """[output channels, reduction length] view of a dense or conv weight."""
    return w.reshape(w.shape[0], -1)


def parse_nm(text: str) -> tuple[int, int]:
    """'2:4' -> (2, 4); the caller validates ranges."""
    n, m = text.split(":")
    return int(n), int(m)


def encode_csr(w: np.ndarray) -> dict[str, np.ndarray]:
    """Nonzeros row by row: values (int8), cols (column of each), row_ptr (rows + 1 offsets)."""
    rows, cols = np.nonzero(w)
    counts = np.bincount(rows, minlength=w.shape[0])
    row_ptr = np.concatenate([[0], np.cumsum(counts)])
    return {"values": w[rows, cols].astype(w.dtype),
            "cols": cols.astype(index_dtype(max(w.shape[1] - 1, 0))),
            "row_ptr": row_ptr.astype(index_dtype(int(row_ptr[-1])))}


def nm_bits(m: int) -> int:
    """Bits per position in a group of m: 1, 2 or 4, so a position never straddles a byte."""
    assert 2 <= m <= MAX_M, f"M={m} outside 2..{MAX_M}"
    return 1 if m <= 2 else (2 if m <= 4 else 4)


def fits_nm(w: np.ndarray, n: int, m: int) -> bool:
    """True when cols divide by m and every group of m along a row holds at most n nonzeros."""
    rows, cols = w.shape
    if cols % m:
        return False
    return bool(np.all(np.count_nonzero(w.reshape(rows, cols // m, m), axis=2) <= n))


def encode_nm(w: np.ndarray, n: int, m: int) -> dict[str, np.ndarray]:
    """Exactly n (value, position) pairs per group of m, groups in row order.

    values: int8 [rows * cols/m * n]; a group with fewer nonzeros is padded with value 0 at
    position 0 (it adds nothing). positions: uint8, nm_bits(m) bits each, least significant
    first, every row starting on a byte boundary.
    """
    assert fits_nm(w, n, m), f"weights are not {n}:{m} sparse"
    rows, cols = w.shape
    groups = w.reshape(rows, cols // m, m)
    order = np.argsort(groups == 0, axis=2, kind="stable")[:, :, :n]  # nonzeros first, in position order
    order = np.sort(order, axis=2)
    values = np.take_along_axis(groups, order, axis=2)
    positions = np.where(values != 0, order, 0)
    bits = nm_bits(m)
    per_row = positions.reshape(rows, -1).astype(np.uint32)
    per_byte = 8 // bits
    padded = np.zeros((rows, -(-per_row.shape[1] // per_byte) * per_byte), np.uint32)
    padded[:, :per_row.shape[1]] = per_row
    shifts = (np.arange(per_byte) * bits).astype(np.uint32)
    packed = (padded.reshape(rows, -1, per_byte) << shifts).sum(axis=2).astype(np.uint8)
    return {"values": values.reshape(-1).astype(w.dtype), "positions": packed.reshape(-1)}


def decode_nm(enc: dict[str, np.ndarray], rows: int, cols: int, n: int, m: int) -> np.ndarray:
    """The dense matrix back from encode_nm (for tests and checks)."""
    bits, per_byte = nm_bits(m), 8 // nm_bits(m)
    packed = enc["positions"].reshape(rows, -1).astype(np.uint32)
    shifts = (np.arange(per_byte) * bits).astype(np.uint32)
    pos = ((packed[:, :, None] >> shifts) & ((1 << bits) - 1)).reshape(rows, -1)[:, : cols // m * n]
    values = enc["values"].reshape(rows, cols // m, n).astype(np.int32)
    dense = np.zeros((rows, cols // m, m), np.int32)
    r, g = np.indices((rows, cols // m))
    for k in range(n):  # padding pairs add 0, so adding every pair rebuilds the matrix
        np.add.at(dense, (r, g, pos.reshape(rows, cols // m, n)[:, :, k]), values[:, :, k])
    return dense.reshape(rows, cols).astype(enc["values"].dtype)


def encoded_bytes(w: np.ndarray, fmt: str) -> int:
    """Flash bytes of matrix w (int8) stored in fmt ("dense", "csr" or "N:M"), indices included."""
    if fmt == "dense":
        return int(w.size * w.itemsize)
    if fmt == "csr":
        return sum(int(a.nbytes) for a in encode_csr(w).values())
    n, m = parse_nm(fmt)
    return sum(int(a.nbytes) for a in encode_nm(w, n, m).values())


def kernel_weights(w: np.ndarray, fmt: str) -> dict:
    """The tinyc_csr_s8 / tinyc_nm_s8 struct (runtime_c/tinyc_sparse.h) of int8 weight w stored in fmt.

    CSR: index arrays in the narrowest type encode_csr chose, under a field named by it
    (cols_u8 or cols_u16, row_ptr_u8/_u16/_u32); the other pointers stay NULL.
    """
    mat = weight_matrix(w)
    if fmt == "csr":
        enc = encode_csr(mat)
        cols, ptr = enc["cols"], enc["row_ptr"]
        assert cols.dtype != np.uint32, f"CSR columns need {cols.dtype}; the kernels read uint8 or uint16"
        return {"values": enc["values"], f"cols_{_suffix(cols)}": cols, f"row_ptr_{_suffix(ptr)}": ptr}
    n, m = parse_nm(fmt)
    enc = encode_nm(mat, n, m)
    return {"values": enc["values"], "positions": enc["positions"], "n": n, "m": m}


def _suffix(a: np.ndarray) -> str:
    return {np.dtype(np.uint8): "u8", np.dtype(np.uint16): "u16", np.dtype(np.uint32): "u32"}[a.dtype]
