"""CSR and N:M kernels as bare-metal firmware under QEMU: bit-exact with the reference on a batch
of random layers (one firmware per board) and on the shared models pruned."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.host.test_sparse_kernels import (CONV_SHAPES, DENSE_SHAPES, assert_outputs_equal, csr_variants,
                                            int8_bundle, layer_cases, nm_variants)
from tests.models import model_path, sample_inputs
from tests.qemu.test_dense_fast_qemu import FLAGS
from tinyc import interpreter, pipeline, runners
from tinyc.board import load_board
from tinyc.compress import Compression
from tinyc.passes.formats import choose_formats
from tinyc.passes.plan import plan_memory
from tinyc.passes.prune import prune_unstructured, uniform_ratios
from tinyc.passes.quantize import quantize

BOARDS = ("mps2-an386", "mps2-an385")  # Cortex-M4 and M3; the kernels are portable C on both
# the random layers also on the Cortex-M55 (Helium: gathered CSR and N:M rows) and the M55 built +nomve
LAYER_BOARDS = ("mps3-an547", "mps3-an547+nomve", *BOARDS)
MODELS = ("kws_dscnn", "ad_fc_autoencoder", "vww_mobilenetv1")
MODEL_SAMPLES = 2  # a full emulation each


@pytest.fixture(autouse=True)
def _tools():
    need_tool("arm-none-eabi-gcc")
    need_tool("qemu-system-arm")


def compiled_for(g, name: str, board: str) -> pipeline.Compiled:
    planned, plan = plan_memory(g)
    return pipeline.Compiled(name, g, planned, plan, [], load_board(FLAGS.get(board, (board,))[0]))


@pytest.mark.parametrize("board", LAYER_BOARDS)
def test_random_sparse_layers_on_board_equal_the_reference(board):
    cases = (layer_cases(DENSE_SHAPES, csr_variants) + layer_cases(DENSE_SHAPES, nm_variants)
             + layer_cases(CONV_SHAPES, csr_variants, seed=1) + layer_cases(CONV_SHAPES, nm_variants, seed=1))
    q, calib = int8_bundle(cases, samples=2)
    c = compiled_for(q, "sparse_cases", board)
    feeds = runners.feeds_for(c.graph, calib)
    got, measured = runners.run_board(c, feeds, FLAGS.get(board, (board, []))[1])
    assert_outputs_equal(got, interpreter.run_samples(c.graph, feeds), c.graph, cases)
    assert measured["instructions"] > 0


def _feeds(c: pipeline.Compiled, name: str) -> dict[str, np.ndarray]:
    g = c.float_graph
    x = sample_inputs(name, g.inputs[0], g.tensors[g.inputs[0]].shape)
    return {k: v[:MODEL_SAMPLES] for k, v in runners.feeds_for(c.graph, x).items()}


def _assert_board_equals_reference(c: pipeline.Compiled, name: str) -> None:
    formats = [c.graph.tensors[n.inputs[1]].format for n in c.graph.nodes if n.op in ("conv2d", "dense")]
    assert any(f != "dense" for f in formats), f"{name}: no layer stored sparse: {formats}"
    feeds = _feeds(c, name)
    got, _ = runners.run_board(c, feeds)
    want = interpreter.run_samples(c.graph, feeds)
    for out in c.graph.outputs:
        assert np.array_equal(got[out], want[out]), f"{name}: {np.sum(got[out] != want[out])} values differ"


@pytest.mark.parametrize("name", MODELS)
def test_models_pruned_2_4_on_board_equal_the_reference(name):
    """The pipeline path of --sparsity 2:4: N:M layers where the reduction divides by 4, dense elsewhere."""
    path = model_path(name)
    g = pipeline.frontend(path)
    calib = sample_inputs(name, g.inputs[0], g.tensors[g.inputs[0]].shape)
    c = pipeline.build(path, pipeline.Options(calib=calib, board="mps2-an386",
                                              compression=Compression(sparsity="2:4")))
    _assert_board_equals_reference(c, name)


@pytest.mark.parametrize("name", MODELS)
def test_models_pruned_half_and_stored_sparse_on_board_equal_the_reference(name):
    """--prune 0.5 on every layer, every weight stored sparse (CSR or N:M, whichever is smaller):
    at 50 % the format pass alone would keep most layers dense."""
    g = pipeline.frontend(model_path(name))
    calib = sample_inputs(name, g.inputs[0], g.tensors[g.inputs[0]].shape)
    pruned = prune_unstructured(g, uniform_ratios(g, 0.5))
    q = choose_formats(quantize(pruned, calib), allow=("csr", "nm"))
    c = compiled_for(q, name, "mps2-an386")
    c.float_graph = pruned
    _assert_board_equals_reference(c, name)
