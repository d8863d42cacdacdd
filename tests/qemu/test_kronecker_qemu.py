"""Kronecker kernels as firmware under QEMU: int8 bit-exact with the reference on mps3-an547 (M55, Helium, and
built +nomve), mps2-an386 (M4) and mps2-an385 (M3), float32 close, on one chain of dense_kp nodes covering every
variant and on the AD autoencoder compressed by the kronecker pass."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.helpers import random_samples
from tests.models import model_path, sample_inputs
from tests.qemu.test_dense_fast_qemu import BOARDS, FLAGS
from tinyc import interpreter, ir, ops, pipeline, runners
from tinyc.board import load_board
from tinyc.ir import Graph, Node, Tensor
from tinyc.ops.kronecker import a_first
from tinyc.passes.kronecker import kronecker
from tinyc.passes.plan import plan_memory
from tinyc.passes.quantize import quantize


@pytest.fixture(autouse=True)
def _tools():
    need_tool("arm-none-eabi-gcc")
    need_tool("qemu-system-arm")


# Each link: (shape_a, shape_b, bias, residual, act, layout); K of a link is M of the one before.
# "reshape" views (3, 13) as (1, 13, 3) so the last link runs the 1x1-conv (NCHW) layout.
LINKS = [
    ((3, 5), (7, 2), True, False, None, "dense"),  # A first
    ((5, 7), (2, 3), True, True, (0.0, None), "dense"),  # B first, doped
    ((1, 5), (13, 2), False, True, None, "dense"),
    "reshape",
    ((3, 13), (5, 1), True, True, (0.0, 6.0), "nchw"),
]


def kp_chain(seed: int = 0) -> Graph:
    rng = np.random.default_rng(seed)
    tensors = {"x": Tensor("x", (3, 10))}
    nodes: list[Node] = []
    prev = "x"
    for i, link in enumerate(LINKS):
        out = f"y{i}"
        if link == "reshape":
            node = Node(f"n{i}", "reshape", [prev], [out], {"shape": (1, 13, 3)})
        else:
            shape_a, shape_b, bias, residual, act, layout = link
            m, k = shape_a[0] * shape_b[0], shape_a[1] * shape_b[1]
            consts = {f"a{i}": rng.normal(size=shape_a), f"b{i}": rng.normal(size=shape_b)}
            if bias:
                consts[f"bias{i}"] = rng.normal(size=m)
            if residual:
                consts[f"r{i}"] = np.where(rng.random((m, k)) < 0.15, rng.normal(0, 0.3, (m, k)), 0)
            for name, value in consts.items():
                tensors[name] = Tensor(name, value.shape, "float32", value.astype(np.float32))
            inputs = [prev, f"a{i}", f"b{i}", f"bias{i}" if bias else "", f"r{i}" if residual else ""]
            attrs = {"shape_a": shape_a, "shape_b": shape_b, "act": act, "layout": layout,
                     "residual_nnz": int(np.count_nonzero(consts[f"r{i}"])) if residual else 0}
            node = Node(f"n{i}", "dense_kp", inputs, [out], attrs)
        shape = ops.get(node.op).infer_shape(node, [tensors[n].shape if n else None for n in node.inputs])[0]
        tensors[out] = Tensor(out, shape)
        nodes.append(node)
        prev = out
    g = Graph("kp_chain", tensors, nodes, ["x"], [prev])
    ir.verify(g)
    return g


def compiled(float_graph: Graph, graph: Graph, board: str) -> pipeline.Compiled:
    graph, plan = plan_memory(graph)
    return pipeline.Compiled(float_graph.name, float_graph, graph, plan, [], load_board(FLAGS.get(board, (board,))[0]))


def test_chain_covers_both_orders_and_both_layouts():
    links = [link for link in LINKS if link != "reshape"]
    assert {a_first(link[0], link[1]) for link in links} == {True, False}
    assert {link[5] for link in links} == {"dense", "nchw"}


@pytest.mark.parametrize("board", BOARDS)
def test_kp_chain_int8_on_qemu_equals_reference(board):
    g = kp_chain()
    q = quantize(g, random_samples(g, 16, seed=1))
    c = compiled(g, q, board)
    feeds = runners.feeds_for(q, random_samples(g, 6, seed=2, lo=-1.5, hi=1.5))
    on_board, measured = runners.run_board(c, feeds, FLAGS.get(board, (board, []))[1])
    ref = interpreter.run_samples(q, feeds)
    out = q.outputs[0]
    assert np.array_equal(on_board[out], ref[out]), f"{np.sum(on_board[out] != ref[out])} values differ"
    assert len(np.unique(ref[out])) > 10 and measured["instructions"] > 0


def test_kp_chain_float_on_qemu_matches_reference():
    g = kp_chain()
    feeds = random_samples(g, 3, seed=3)
    on_board, _ = runners.run_board(compiled(g, g, "mps2-an386"), feeds)
    ref = interpreter.run_samples(g, feeds)
    out = g.outputs[0]
    assert np.abs(on_board[out] - ref[out]).max() <= 1e-4 * max(1.0, float(np.abs(ref[out]).max()))


@functools.lru_cache(maxsize=None)
def ad_kp(doped: bool) -> tuple[Graph, Graph, dict]:
    """The AD autoencoder compressed by the kronecker pass (minutes of factor search: once per variant)."""
    g = pipeline.frontend(model_path("ad_fc_autoencoder"))
    calib = sample_inputs("ad_fc_autoencoder", g.inputs[0], g.tensors[g.inputs[0]].shape)
    h = kronecker(g, "auto", doped=doped)
    return h, quantize(h, calib), calib


@pytest.mark.parametrize("board", ["mps2-an386", "mps3-an547"])
@pytest.mark.parametrize("doped", [False, True], ids=["kp", "doped_kp"])
def test_ad_autoencoder_kp_on_qemu_equals_reference(doped, board):
    h, q, calib = ad_kp(doped)
    c = compiled(h, q, board)
    feeds = runners.feeds_for(q, {k: v[:6] for k, v in calib.items()})
    on_board, _ = runners.run_board(c, feeds)
    ref = interpreter.run_samples(q, feeds)
    out = q.outputs[0]
    assert np.array_equal(on_board[out], ref[out]), f"{np.sum(on_board[out] != ref[out])} values differ"


@pytest.mark.parametrize("shapes", [((2, 19), (3, 17)), ((3, 17), (2, 19))], ids=["19x17", "17x19"])
def test_long_factor_rows_on_the_m55_equal_the_reference(shapes):
    """Factor rows of 17 and 19 (Helium's 8-lane steps and a remainder in both stages), doped, on mps3-an547."""
    rng = np.random.default_rng(4)
    shape_a, shape_b = shapes
    m, k = shape_a[0] * shape_b[0], shape_a[1] * shape_b[1]
    consts = {"a": rng.normal(size=shape_a), "b": rng.normal(size=shape_b), "bias": rng.normal(size=m),
              "r": np.where(rng.random((m, k)) < 0.1, rng.normal(0, 0.3, (m, k)), 0)}
    tensors = {"x": Tensor("x", (2, k)), "y": Tensor("y", (2, m))}
    tensors.update({n: Tensor(n, v.shape, "float32", v.astype(np.float32)) for n, v in consts.items()})
    attrs = {"shape_a": shape_a, "shape_b": shape_b, "act": None, "layout": "dense",
             "residual_nnz": int(np.count_nonzero(consts["r"]))}
    g = Graph("kp_long", tensors, [Node("n", "dense_kp", ["x", "a", "b", "bias", "r"], ["y"], attrs)], ["x"], ["y"])
    ir.verify(g)
    q = quantize(g, random_samples(g, 16, seed=1))
    feeds = runners.feeds_for(q, random_samples(g, 4, seed=2, lo=-1.5, hi=1.5))
    on_board, _ = runners.run_board(compiled(g, q, "mps3-an547"), feeds)
    ref = interpreter.run_samples(q, feeds)
    assert np.array_equal(on_board["y"], ref["y"]), f"{np.sum(on_board['y'] != ref['y'])} values differ"
