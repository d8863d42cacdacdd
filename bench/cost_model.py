"""Measure the kernels under QEMU and refit the latency cost model (tinyc/data/cost_model.json).

    .venv/bin/python bench/cost_model.py [--board mps2-an386] [--out tinyc/data/cost_model.json]

Every layer of FIT_SET runs as a one-node int8 firmware (seeded weights and calibration), stored dense,
CSR at several sparsities, N:M or Kronecker-factorised, under QEMU -icount (instruction counts, not
cycles). Each kernel's row of coefficients is the non-negative least-squares fit of its counts on the
features of tinyc.cost_model (calls, MACs done, outputs, inputs, patch); `*` is the fit on every
measurement, for kernels not in the set. Other boards' rows in the file are kept; --board replaces one.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from sparse import measure_layer, one_node  # bench/sparse.py
from tinyc import cost_model
from tinyc.passes.kronecker import kronecker
from tinyc.passes.prune import prune_nm, prune_unstructured
from tinyc.passes.quantize import quantize
from tinyc.runners import feeds_for

HERE = Path(__file__).resolve().parent
BOARD = "mps2-an386"
CALIB = 8
SPARSE = (0.5, 0.75, 0.9, 0.95)
PATTERNS = ((1, 4), (2, 4))


def dense(i: int, o: int) -> tuple:
    return ("dense", (1, i), (o, i), {"act": None})


def conv(ci: int, h: int, w: int, co: int, k: int = 3, group: int = 1, stride: int = 1,
         pads: tuple | None = None) -> tuple:
    p = (k // 2,) * 4 if pads is None else pads
    attrs = {"strides": (stride, stride), "pads": p, "dilations": (1, 1), "group": group, "act": (0.0, None)}
    return ("conv2d", (1, ci, h, w), (co, ci // group, k, k if isinstance(k, int) else k), attrs)


def kws_first(co: int, h: int = 49, w: int = 10) -> tuple:
    attrs = {"strides": (2, 2), "pads": (4, 1, 5, 1), "dilations": (1, 1), "group": 1, "act": (0.0, None)}
    return ("conv2d", (1, 1, h, w), (co, 1, 10, 4), attrs)


def pool(op: str, c: int, h: int, w: int, k: int | None = None) -> tuple:
    k = (h, w) if k is None else (k, k)
    return (op, (1, c, h, w), None, {"kernel": k, "strides": k, "pads": (0, 0, 0, 0)})


# Shapes spread over each kernel's range, the shipped models' own layers among them.
DENSE = [dense(64, 12), dense(64, 64), dense(100, 40), dense(128, 32), dense(256, 64), dense(512, 64),
         dense(256, 256), dense(640, 128), dense(200, 10), dense(48, 100)]
CONV = [conv(16, 8, 8, 32), conv(8, 16, 16, 16), conv(16, 16, 16, 16), conv(32, 8, 8, 32), conv(3, 32, 32, 16),
        conv(12, 10, 10, 24), conv(11, 8, 8, 22), conv(24, 6, 6, 40), conv(4, 12, 12, 8),
        # first layers (tinyc_conv2d_first_s8): vww's, and a spread of Ci, Co, strides and planes
        conv(3, 96, 96, 8, stride=2, pads=(0, 0, 1, 1)), conv(3, 24, 24, 16), conv(2, 16, 16, 8),
        conv(4, 20, 20, 12, stride=2), conv(3, 17, 13, 6)]
POINTWISE = [conv(64, 25, 5, 64, 1), conv(32, 25, 5, 32, 1), conv(48, 12, 12, 48, 1), conv(16, 16, 16, 32, 1),
             conv(64, 8, 8, 128, 1), conv(45, 25, 5, 45, 1), conv(51, 25, 5, 38, 1), conv(24, 10, 10, 8, 1),
             conv(12, 9, 9, 20, 1), conv(40, 5, 5, 30, 1), conv(28, 11, 11, 14, 1), conv(8, 15, 15, 25, 1),
             conv(32, 12, 12, 64, 1), conv(20, 9, 7, 44, 1), conv(96, 6, 6, 48, 1), conv(36, 9, 9, 36, 1),
             conv(35, 25, 5, 35, 1), conv(44, 10, 10, 20, 1), conv(60, 8, 8, 30, 1), conv(37, 6, 6, 50, 1),
             conv(16, 7, 7, 24, 1), conv(24, 5, 9, 40, 1), conv(8, 11, 11, 16, 1)]
DEPTHWISE = [conv(64, 25, 5, 64, group=64), conv(32, 25, 5, 32, group=32), conv(16, 16, 16, 16, group=16),
             conv(48, 25, 5, 48, group=48), conv(45, 25, 5, 45, group=45), conv(96, 10, 10, 96, group=96),
             conv(1, 8, 8, 16), conv(1, 8, 8, 8), conv(1, 12, 12, 12), conv(1, 6, 6, 20)]
FIRST = [kws_first(64), kws_first(32), kws_first(45), kws_first(51), kws_first(20)]
POOLS = [pool("avgpool", 64, 25, 5), pool("avgpool", 32, 25, 5), pool("avgpool", 45, 10, 10),
         pool("avgpool", 16, 8, 8), pool("maxpool", 32, 8, 8, 2), pool("maxpool", 16, 16, 16, 2),
         pool("maxpool", 22, 8, 8, 2), pool("maxpool", 8, 24, 24, 2)]
SOFTMAX = [("softmax", (1, n), None, {"axis": 1}) for n in (10, 12, 32, 100, 5)]
# pruned and factorised formats: a few shapes each (the kernels read the weight the same way at any size)
SPARSE_SET = [dense(256, 256), dense(512, 64), dense(64, 64), dense(200, 40), conv(16, 16, 16, 16),
              conv(16, 8, 8, 32), conv(64, 25, 5, 64, 1), conv(32, 12, 12, 32, 1)]
KRONECKER_SET = [dense(256, 256), dense(640, 128), dense(512, 64), dense(256, 128)]


def float_graph(spec: tuple, seed: int):
    op, x_shape, w_shape, attrs = spec
    rng = np.random.default_rng(seed)
    if w_shape is None:
        return _no_weight(op, x_shape, attrs)
    w = rng.normal(0, 0.1, w_shape).astype(np.float32)
    b = rng.normal(0, 0.1, w_shape[0]).astype(np.float32)
    return one_node(op, x_shape, w, b, attrs)


def _no_weight(op: str, x_shape: tuple, attrs: dict):
    from tinyc import ops
    from tinyc.ir import Graph, Node, Tensor, verify

    node = Node("layer", op, ["x"], ["y"], dict(attrs))
    (y_shape,) = ops.get(op).infer_shape(node, [x_shape])
    g = Graph(op, {"x": Tensor("x", x_shape), "y": Tensor("y", tuple(y_shape))}, [node], ["x"], ["y"])
    verify(g)
    return g


def stored(q, fmt: str):
    h = q.copy()
    h.tensors[h.nodes[0].inputs[1]].format = fmt
    return h


def variants(spec: tuple, seed: int, formats: str) -> list:
    """Int8 one-node graphs of spec: dense only, or its pruned forms (sparse: CSR and N:M; csr: CSR only),
    or its Kronecker forms."""
    g = float_graph(spec, seed)
    rng = np.random.default_rng(seed + 1)
    calib = {"x": rng.uniform(-1, 1, (CALIB, *g.tensors["x"].shape)).astype(np.float32)}
    if formats == "dense":
        return [(quantize(g, calib), calib)]
    if formats == "kronecker":
        return [(quantize(kronecker(g, layers=["layer"], doped=d), calib), calib) for d in (False, True)]
    rows = [(stored(quantize(prune_unstructured(g, {"layer": s}), calib), "csr"), calib) for s in SPARSE]
    for n, m in PATTERNS if formats == "sparse" else ():
        pruned, skipped = prune_nm(g, n, m)
        if not skipped:
            rows.append((stored(quantize(pruned, calib), f"{n}:{m}"), calib))
    return rows


def measurements(board: str, sets: dict[str, tuple[list, str]] | None = None) -> list[dict]:
    """{"kernel", "features", "instructions", "shape"} for every layer of the sets on board."""
    sets = sets if sets is not None else FIT_SET
    rows = []
    for label, (specs, formats) in sets.items():
        for i, spec in enumerate(specs):
            for q, calib in variants(spec, i, formats):
                node = q.nodes[0]
                feeds = {k: v[:1] for k, v in feeds_for(q, calib).items()}
                count = measure_layer(q, feeds, board)
                f = cost_model.features(node, q)
                rows.append({"set": label, "kernel": cost_model.cost_key(node, q), "features": f,
                             "instructions": count, "shape": [list(spec[1]), list(spec[2] or [])]})
                print(f"{label:10} {rows[-1]['kernel']:32} {count:>10,}", file=sys.stderr)
    return rows


FIT_SET = {"dense": (DENSE, "dense"), "conv": (CONV, "dense"), "pointwise": (POINTWISE, "dense"),
           "depthwise": (DEPTHWISE + FIRST, "dense"), "pool": (POOLS, "dense"), "softmax": (SOFTMAX, "dense"),
           "sparse": (SPARSE_SET, "sparse"), "kronecker": (KRONECKER_SET, "kronecker")}


# The counts that can matter to each kernel's loops (the rest stay 0): few features per kernel, so a fit
# on a handful of shapes does not chase noise.
_DENSE = ("calls", "macs", "outputs", "inputs", "tail")
_SPARSE_CONV = ("calls", "macs", "outputs", "patch", "rows")
KERNEL_FEATURES = {"tinyc_dense_s8": _DENSE, "tinyc_dense_csr_s8": _DENSE, "tinyc_dense_nm_s8": _DENSE,
                   "tinyc_dense_nm_table_s8": _DENSE, "tinyc_dense_kp_s8": _DENSE, "tinyc_dense_dkp_s8": _DENSE,
                   "tinyc_conv2d_s8": ("calls", "macs", "outputs", "patch", "rows", "tail"),
                   "tinyc_conv2d_smallk_s8": ("calls", "macs", "outputs", "patch", "rows", "tail"),
                   "tinyc_conv2d_first_s8": ("calls", "macs", "outputs", "patch", "rows", "tail"),
                   "tinyc_conv2d_1x1_s8": ("calls", "macs", "outputs", "inputs", "tail", "edge"),
                   "tinyc_conv2d_1x1_s8/blocks4": ("calls", "macs", "outputs", "inputs", "tail", "edge", "lanes"),
                   "tinyc_conv2d_1x1_wide_s8": ("calls", "macs", "outputs", "inputs", "tail", "edge"),
                   "tinyc_conv2d_csr_cols_s8": _SPARSE_CONV, "tinyc_conv2d_nm_cols_s8": _SPARSE_CONV,
                   "tinyc_conv2d_csr_s8": _SPARSE_CONV, "tinyc_conv2d_nm_s8": _SPARSE_CONV,
                   "tinyc_depthwise_3x3_small_s8": ("calls", "macs", "outputs", "rows", "lanes"),
                   "tinyc_depthwise_3x3_s8": ("calls", "macs", "outputs", "rows", "lanes"),
                   "tinyc_depthwise_cols_small_s8": ("calls", "macs", "outputs", "rows", "lanes"),
                   "tinyc_depthwise_cols_s8": ("calls", "macs", "outputs", "rows", "lanes")}
SIMPLE = ("calls", "outputs", "inputs")  # pools, softmax, elementwise: a pass over the data


def nonnegative_fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least squares with coefficients >= 0 (a count never lowers the time): drop the most negative
    feature and refit until none is negative. Rows are weighted by 1/y, so the fit is in relative error."""
    weight = 1.0 / np.maximum(y, 1.0)
    active = [j for j in range(x.shape[1]) if np.any(x[:, j])]
    while active:
        coef, *_ = np.linalg.lstsq(x[:, active] * weight[:, None], y * weight, rcond=None)
        if coef.min() >= 0:
            out = np.zeros(x.shape[1])
            out[active] = coef
            return out
        active.pop(int(np.argmin(coef)))
    return np.zeros(x.shape[1])


def fit(rows: list[dict]) -> dict:
    """{kernel: {feature: coefficient}}, `*` over every row, and each kernel's worst relative error."""
    kernels: dict[str, dict] = {}
    by_kernel: dict[str, list[dict]] = {}
    for r in rows:
        by_kernel.setdefault(r["kernel"], []).append(r)
    by_kernel[cost_model.GENERIC] = rows
    for kernel, rs in sorted(by_kernel.items()):
        use = cost_model.FEATURES if kernel == cost_model.GENERIC else KERNEL_FEATURES.get(kernel, SIMPLE)
        x = np.array([[r["features"][k] if k in use else 0.0 for k in cost_model.FEATURES] for r in rs])
        y = np.array([r["instructions"] for r in rs], dtype=np.float64)
        coef = nonnegative_fit(x, y)
        err = np.abs(x @ coef - y) / y
        kernels[kernel] = {**{k: round(float(c), 4) for k, c in zip(cost_model.FEATURES, coef)},
                           "points": len(rs), "worst_error": round(float(err.max()), 4)}
    return kernels


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--board", default=BOARD)
    ap.add_argument("--out", type=Path, default=HERE.parent / "tinyc" / "data" / "cost_model.json")
    args = ap.parse_args()
    rows = measurements(args.board)
    doc = json.loads(args.out.read_text()) if args.out.is_file() else {"boards": {}}
    doc["note"] = ("Instructions per kernel call = sum of coefficient x feature (tinyc/cost_model.py), fitted by "
                   "bench/cost_model.py to QEMU -icount counts of one-node int8 firmwares (arm-none-eabi-gcc -O2, "
                   "the board's normal build). worst_error: the largest relative error on the fit points.")
    doc["features"] = list(cost_model.FEATURES)
    doc["boards"][args.board] = {"kernels": fit(rows), "invoke": 0}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    (HERE / f"results_cost_model_{args.board}.json").write_text(json.dumps(rows, indent=1) + "\n")
    for kernel, row in doc["boards"][args.board]["kernels"].items():
        print(f"{kernel:32} {row['points']:>3} points, worst error {row['worst_error']:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
