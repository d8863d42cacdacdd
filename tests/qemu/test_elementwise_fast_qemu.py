"""The fast int8 add/sub/mul loops, table lookups, their rescale identities, pooling and a chain planned in
place, as bare-metal firmware: the Helium paths (Cortex-M55, mps3-an547), the DSP paths (SMMULR, SSAT, USADA8;
the M55 built +nomve, Cortex-M4 mps2-an386) and the portable path (Cortex-M3, mps2-an385) equal ref_int8 bit for
bit on the cases of tests/host/test_elementwise_fast.py and tests/host/test_pool_fast.py (odd lengths, so the
4- and 16-element passes leave a remainder)."""

from __future__ import annotations

import subprocess

import pytest

import numpy as np

from tests.helpers import quantize_graph
from tests.host.test_elementwise_fast import RESCALE_CHECK, fast_bundle, in_place_chain
from tests.host.test_pool_fast import pool_bundle
from tests.qemu.test_dense_fast_qemu import BOARDS as KERNEL_BOARDS
from tests.qemu.test_dense_fast_qemu import run_on
from tinyc.ir import Graph, Node, Tensor, verify
from tinyc.board import gcc_flags, load_board
from tinyc.codegen.emit import template_env
from tinyc.resources import runtime_dir
from tinyc.toolchain import arm, qemu

BOARDS = ("mps2-an386", "mps2-an385")  # Cortex-M4 with DSP, M3 without


def lut_bundle(count: int, seed: int = 0) -> tuple[Graph, dict[str, np.ndarray]]:
    """Table lookups (sigmoid, tanh) over 1, 16 and 105 elements (16-lane steps and a remainder), inputs
    beyond the calibrated range at both int8 ends."""
    tensors, nodes, inputs, outputs = {}, [], [], []
    for k, shape in enumerate([(1, 1), (1, 16), (1, 5, 3, 7)]):
        x = f"x{k}"
        tensors[x] = Tensor(x, shape, "float32")
        inputs.append(x)
        for fn in ("sigmoid", "tanh"):
            y = f"{fn}{k}"
            nodes.append(Node(y, "unary", [x], [y], {"fn": fn}))
            tensors[y] = Tensor(y, shape, "float32")
            outputs.append(y)
    g = Graph("lut", tensors, nodes, inputs, outputs)
    verify(g)
    rng = np.random.default_rng(seed)
    calib = {x: rng.uniform(-3, 3, (count, *tensors[x].shape)).astype(np.float32) for x in inputs}
    return quantize_graph(g, calib), {x: 1.5 * v for x, v in calib.items()}


def broadcast_bundle(count: int, seed: int = 0) -> tuple[Graph, dict[str, np.ndarray]]:
    """add, sub, mul of a (1, 5, 3, 7) and a b repeated over the channels (rows contiguous, b's rows
    restart) or along the rows (b's stride 0: the row loops)."""
    tensors = {"a": Tensor("a", (1, 5, 3, 7), "float32"), "b": Tensor("b", (1, 1, 3, 7), "float32"),
               "c": Tensor("c", (1, 5, 3, 1), "float32")}
    nodes = []
    for k, (op, b) in enumerate([("add", "b"), ("sub", "b"), ("mul", "b"), ("add", "c"), ("mul", "c")]):
        nodes.append(Node(f"n{k}", op, ["a", b], [f"y{k}"], {"act": None}))
        tensors[f"y{k}"] = Tensor(f"y{k}", (1, 5, 3, 7), "float32")
    g = Graph("broadcast", tensors, nodes, ["a", "b", "c"], [n.outputs[0] for n in nodes])
    verify(g)
    rng = np.random.default_rng(seed)
    calib = {n: rng.uniform(lo, hi, (count, *tensors[n].shape)).astype(np.float32)
             for n, (lo, hi) in zip("abc", [(-0.3, 4.0), (-5.0, 0.4), (-1.0, 1.0)])}
    return quantize_graph(g, calib), {n: 1.1 * v for n, v in calib.items()}


@pytest.mark.parametrize("board", KERNEL_BOARDS)
def test_broadcast_binary_rows_on_board_equal_the_reference(board):
    run_on(*broadcast_bundle(3), board)


@pytest.mark.parametrize("board", KERNEL_BOARDS)
def test_fast_binary_loops_on_board_equal_the_reference(board):
    run_on(*fast_bundle((1, 5, 3, 7), 3), board)


@pytest.mark.parametrize("board", KERNEL_BOARDS)
def test_table_lookups_on_board_equal_the_reference(board):
    run_on(*lut_bundle(3), board)


@pytest.mark.parametrize("board", KERNEL_BOARDS)
def test_pool_windows_on_board_equal_the_reference(board):
    run_on(*pool_bundle(3), board)


@pytest.mark.parametrize("board", KERNEL_BOARDS)
def test_a_chain_planned_in_place_on_board_equals_the_reference(board):
    run_on(*in_place_chain(3), board)


@pytest.mark.parametrize("board_name", BOARDS)
def test_rewritten_rescales_equal_tinyc_requantize_on_board(board_name, tmp_path):
    """The exhaustive check of tests/host, run with SMMULR (Cortex-M4) and without (Cortex-M3)."""
    board = load_board(board_name)
    (tmp_path / "main.c").write_text('#include "tinyc_console.h"\n#include "tinyc_semihost.h"\n' + RESCALE_CHECK + r"""
int main(void)
{
    tinyc_print("tinyc: bad ");
    tinyc_print_u64((uint64_t)rescale_mismatches());
    tinyc_print("\n");
    return 0;
}
""")
    ld = tmp_path / "fw.ld"
    ld.write_text(template_env().get_template("linker.ld.j2").render(name="fw", board=board, stack_size=1024))
    port, elf = runtime_dir() / "port", tmp_path / "fw.elf"
    subprocess.run(["arm-none-eabi-gcc", *gcc_flags(board), "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2",
                    *arm.HARNESS_FLAGS, "-I", str(port), "-I", str(runtime_dir()), str(tmp_path / "main.c"),
                    *(str(port / f) for f in arm.HARNESS_PORT), "-nostartfiles", "--specs=nano.specs",
                    "--specs=nosys.specs", "-T", str(ld), "-o", str(elf), "-lm"], check=True)
    assert "tinyc: bad 0\n" in qemu.run(elf, board.qemu_machine, b"").console
