"""CSR and N:M kernels (runtime_c/tinyc_sparse.c, tinyc_sparse_conv.c) on the host: int8 outputs equal ref_int8 bit for
bit on seeded random shapes and sparsities; built with -fsanitize=address,undefined, so a tap read
outside the input or an encoding read past its end fails the test too.

Many layers go into one graph (one input and output each), so one build runs a whole batch.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.helpers import quantize_graph, random_samples, run_c_host, run_ref
from tinyc import ops
from tinyc.ir import Graph, Node, Tensor, verify
from tinyc.passes.formats import choose_formats
from tinyc.passes.prune import keep_n_of_m
from tinyc.sparse import weight_matrix

pytestmark = pytest.mark.host


def conv(strides=(1, 1), pads=(0, 0, 0, 0), dilations=(1, 1), group=1, act=None) -> dict:
    return {"strides": strides, "pads": pads, "dilations": dilations, "group": group, "act": act}


# (id, x shape, w shape, attrs, bias?)
DENSE_SHAPES = [
    ("37x13", (1, 37), (13, 37), {"act": None}, True),
    ("1x5", (1, 1), (5, 1), {"act": None}, True),
    ("300x7_wide_columns", (1, 300), (7, 300), {"act": (0.0, None)}, True),
    ("rows3_64x9", (3, 64), (9, 64), {"act": None}, False),
    ("rank3_24x11", (1, 2, 24), (11, 24), {"act": (0.0, 6.0)}, True),
]
CONV_SHAPES = [
    ("3x3_pad1_relu", (1, 3, 9, 8), (5, 3, 3, 3), conv(pads=(1, 1, 1, 1), act=(0.0, None)), True),
    ("wide_rows_runs", (1, 4, 5, 37), (3, 4, 3, 3), conv(pads=(1, 1, 1, 1)), True),
    ("groups2", (1, 6, 7, 7), (10, 3, 3, 3), conv(group=2, pads=(1, 0, 1, 2)), True),
    ("depthwise", (1, 7, 8, 9), (7, 1, 3, 3), conv(group=7, pads=(1, 1, 1, 1)), True),
    ("depthwise_mult2_4x4", (1, 5, 9, 7), (10, 1, 4, 4), conv(group=5, pads=(1, 2, 2, 1)), True),
    ("depthwise_dilated_asym", (1, 3, 8, 9), (6, 1, 3, 2),
     conv(group=3, strides=(1, 2), dilations=(2, 3), pads=(2, 0, 1, 3)), True),
    ("stride2_asym", (1, 3, 9, 9), (7, 3, 3, 3), conv(strides=(2, 2), pads=(0, 0, 1, 1)), False),
    ("dilation2", (1, 3, 11, 10), (5, 3, 3, 3), conv(dilations=(2, 2), pads=(2, 2, 2, 2)), True),
    ("mixed_stride_dilation", (1, 2, 13, 10), (3, 2, 4, 3),
     conv(strides=(2, 1), dilations=(1, 2), pads=(2, 1, 1, 2)), True),
    ("1x1_stride2", (1, 8, 8, 8), (3, 8, 1, 1), conv(strides=(2, 2)), True),
    ("1x1_single_channel", (1, 1, 5, 3), (1, 1, 1, 1), conv(), True),
    ("pads_wider_than_kernel", (1, 2, 4, 4), (3, 2, 2, 2), conv(pads=(3, 3, 3, 2)), True),
    ("u16_columns_many_chunks", (1, 32, 6, 7), (3, 32, 3, 3), conv(pads=(1, 1, 1, 1)), True),
    ("conv1d", (1, 4, 20), (5, 4, 1, 4), conv(strides=(1, 2), dilations=(1, 2), pads=(0, 1, 0, 2)), True),
]
SPARSITIES = (0.0, 0.3, 0.7, 0.95)
PATTERNS = ("1:2", "1:3", "1:4", "2:4", "3:4", "2:5", "1:8", "3:8", "2:6", "1:16", "2:16", "7:16")


def _prune_to(w: np.ndarray, sparsity: float) -> np.ndarray:
    """w with a seeded random `sparsity` share of its entries set to 0 (not by magnitude: any pattern)."""
    rng = np.random.default_rng(int(sparsity * 1000) + w.size)
    out = w.copy()
    out.reshape(-1)[rng.permutation(w.size)[: int(round(sparsity * w.size))]] = 0
    return out


def _nm(w: np.ndarray, pattern: str) -> np.ndarray:
    n, m = (int(v) for v in pattern.split(":"))
    return keep_n_of_m(w, n, m)


def layer_cases(shapes, fmt_of, seed: int = 0) -> list[tuple]:
    """(id, op, x shape, float w, float b or None, attrs, format) for every shape and format that applies."""
    op = "conv2d" if len(shapes[0][2]) == 4 else "dense"
    rng = np.random.default_rng(seed)
    cases = []
    for name, xs, ws, attrs, has_bias in shapes:
        w = rng.normal(0, 0.5, ws).astype(np.float32)
        b = rng.normal(0, 0.5, ws[0]).astype(np.float32) if has_bias else None
        for fmt, pruned in fmt_of(w):
            cases.append((f"{name}_{fmt}", op, xs, pruned, b, attrs, fmt))
    return cases


def csr_variants(w):
    return [(f"csr{int(s * 100)}", _prune_to(w, s)) for s in SPARSITIES]


def nm_variants(w):
    k = weight_matrix(w).shape[1]
    return [(p, _nm(w, p)) for p in PATTERNS if k % int(p.split(":")[1]) == 0]


def bundle(cases: list[tuple]) -> Graph:
    """One float graph holding every case as its own layer: input x_i -> layer i -> output y_i."""
    tensors, nodes, inputs, outputs = {}, [], [], []
    for i, (name, op, xs, w, b, attrs, _) in enumerate(cases):
        x, wn, bn, y = f"x{i}", f"w{i}", f"b{i}" if b is not None else "", f"y{i}"
        tensors[x] = Tensor(x, tuple(xs))
        tensors[wn] = Tensor(wn, w.shape, "float32", w)
        if b is not None:
            tensors[bn] = Tensor(bn, b.shape, "float32", b)
        node = Node(name, op, [x, wn, bn], [y], dict(attrs))
        (shape,) = ops.get(op).infer_shape(node, [xs, w.shape, b.shape if b is not None else None])
        tensors[y] = Tensor(y, tuple(shape))
        nodes.append(node)
        inputs.append(x)
        outputs.append(y)
    g = Graph("sparse_cases", tensors, nodes, inputs, outputs)
    verify(g)
    return g


def stored_as(q: Graph, cases: list[tuple]) -> Graph:
    """Int8 graph q with layer i's weight stored in cases[i]'s format (what choose_formats would set)."""
    h = q.copy()
    for node, case in zip(h.nodes, cases):
        fmt = "csr" if case[6].startswith("csr") else case[6]
        h.tensors[node.inputs[1]].format = fmt
    return h


def int8_bundle(cases: list[tuple], samples: int = 3, seed: int = 0) -> tuple[Graph, dict]:
    g = bundle(cases)
    calib = random_samples(g, samples, seed)
    return stored_as(quantize_graph(g, calib), cases), calib


def assert_outputs_equal(got: dict, want: dict, g: Graph, cases: list[tuple]) -> None:
    for node, case in zip(g.nodes, cases):
        y = node.outputs[0]
        diff = np.argwhere(got[y] != want[y])
        assert diff.size == 0, (f"{case[0]}: {len(diff)} int8 mismatches, first at {tuple(diff[0])}: "
                                f"C {got[y][tuple(diff[0])]}, ref {want[y][tuple(diff[0])]}")
        if np.count_nonzero(case[3]) >= 3 and want[y].size >= 8:  # else few distinct outputs are expected
            assert len(np.unique(want[y])) > 3, f"{case[0]}: degenerate test, the output barely varies"


@pytest.fixture(autouse=True)
def _compiler():
    need_tool("gcc")


@pytest.mark.parametrize("shapes,variants", [(DENSE_SHAPES, csr_variants), (DENSE_SHAPES, nm_variants),
                                             (CONV_SHAPES, csr_variants), (CONV_SHAPES, nm_variants)],
                         ids=["dense_csr", "dense_nm", "conv_csr", "conv_nm"])
def test_sparse_kernels_equal_the_reference(shapes, variants):
    cases = layer_cases(shapes, variants)
    q, calib = int8_bundle(cases)
    for node, case in zip(q.nodes, cases):  # every layer really runs a sparse kernel
        kind = "csr" if case[6].startswith("csr") else "nm"
        kernel = ops.get(case[1]).kernel(node, q).kernel
        assert kernel in (f"tinyc_{case[1]}_{kind}_s8", f"tinyc_{case[1]}_{kind}_cols_s8",
                          "tinyc_dense_nm_table_s8")
    assert_outputs_equal(run_c_host(q, calib, sanitize=True), run_ref(q, calib), q, cases)


def test_csr_with_32_bit_row_pointers_and_an_empty_row():
    w = np.random.default_rng(1).normal(0, 0.5, (260, 300)).astype(np.float32)
    w[7] = 0.0  # a row with no nonzeros
    cases = [("u32_row_ptr", "dense", (1, 300), w, None, {"act": None}, "csr")]
    q, calib = int8_bundle(cases)
    call = ops.get("dense").kernel(q.nodes[0], q)
    assert "row_ptr_u32" in call.params["weights"] and "cols_u16" in call.params["weights"]
    assert_outputs_equal(run_c_host(q, calib, sanitize=True), run_ref(q, calib), q, cases)


def test_all_zero_weights_give_the_bias_alone():
    cases = [("zero_dense", "dense", (1, 12), np.zeros((5, 12), np.float32), np.linspace(-1, 1, 5).astype(np.float32),
              {"act": None}, "csr"),
             ("zero_conv", "conv2d", (1, 2, 5, 5), np.zeros((3, 2, 3, 3), np.float32),
              np.linspace(-1, 1, 3).astype(np.float32), conv(pads=(1, 1, 1, 1)), "1:2")]
    q, calib = int8_bundle(cases)
    got, want = run_c_host(q, calib, sanitize=True), run_ref(q, calib)
    for y in q.outputs:
        assert np.array_equal(got[y], want[y])


def test_formats_chosen_automatically_run_bit_exact():
    """choose_formats on a mix: dense, CSR and N:M layers in one model, each as the pipeline stores it."""
    rng = np.random.default_rng(5)
    w_dense = rng.normal(0, 0.5, (9, 40)).astype(np.float32)
    cases = [("keeps_dense", "dense", (1, 40), w_dense, None, {"act": None}, "auto"),
             ("to_csr", "dense", (1, 40), _prune_to(w_dense, 0.9), None, {"act": None}, "auto"),
             ("to_1_4", "conv2d", (1, 4, 6, 6), _nm(rng.normal(0, 0.5, (5, 4, 3, 3)).astype(np.float32), "1:4"),
              None, conv(pads=(1, 1, 1, 1)), "auto")]
    g = bundle(cases)
    calib = random_samples(g, 3)
    q = choose_formats(quantize_graph(g, calib))
    formats = [q.tensors[n.inputs[1]].format for n in q.nodes]
    assert formats == ["dense", "csr", "1:4"]
    assert_outputs_equal(run_c_host(q, calib, sanitize=True), run_ref(q, calib), q, cases)
