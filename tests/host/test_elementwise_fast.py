"""The fast same-shape int8 add/sub/mul loops of runtime_c/tinyc_elementwise.c against ref_int8, bit for bit:
the larger-scale input second or first (swapped), equal scales, sub, fused activations, odd lengths (so
the 4-element passes leave a remainder), calibrated apart from the samples so some inputs saturate."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.helpers import quantize_graph, run_c_host, run_ref
from tinyc.ir import Graph, Node, Tensor, verify
from tinyc.passes.plan import plan_memory
from tinyc.resources import runtime_dir
from tinyc.toolchain.host import SANITIZE, WARNINGS, compiler

pytestmark = pytest.mark.host

# (op, a, b, act): inputs named x0.. get the ranges below; "x1" twice gives equal scales.
CASES = [
    ("add", "x0", "x1", None),         # b has the larger scale: the specialised loop
    ("add", "x1", "x0", None),         # a has the larger scale: swapped into it
    ("add", "x0", "x0", None),         # equal scales, both rescales exact
    ("add", "x2", "x1", (0.0, None)),  # relu: clamp above -128
    ("add", "x0", "x2", (-1.0, 1.5)),  # clamp narrowed after quantization (fast_bundle)
    ("sub", "x0", "x1", None),
    ("sub", "x1", "x2", (0.0, 6.0)),
    ("mul", "x0", "x1", None),
    ("mul", "x2", "x2", (0.0, None)),
]
RANGES = [(-0.3, 4.0), (-5.0, 0.4), (-1.0, 1.0)]


def fast_bundle(shape: tuple, count: int, seed: int = 0) -> tuple[Graph, dict[str, np.ndarray]]:
    """One int8 graph with every case of CASES on inputs of `shape`, and its samples."""
    tensors = {f"x{i}": Tensor(f"x{i}", shape, "float32") for i in range(len(RANGES))}
    nodes, outputs = [], []
    for k, (op, a, b, act) in enumerate(CASES):
        y = f"y{k}"
        nodes.append(Node(f"n{k}", op, [a, b], [y], {"act": act}))
        tensors[y] = Tensor(y, shape, "float32")
        outputs.append(y)
    g = Graph("elementwise_fast", tensors, nodes, list(tensors)[:len(RANGES)], outputs)
    verify(g)
    rng = np.random.default_rng(seed)
    calib = {f"x{i}": rng.uniform(lo, hi, (count, *shape)).astype(np.float32) for i, (lo, hi) in enumerate(RANGES)}
    samples = {n: 1.1 * x for n, x in calib.items()}  # beyond the calibrated range: saturating inputs
    q = quantize_graph(g, calib)
    # Calibrated after the activation, outputs use all of int8; narrow one clamp as a model with
    # a preset output range would, so the loops' clamp (not only SSAT's) runs too.
    q.nodes[4].attrs["int8"].update(clamp_min=-100, clamp_max=90)
    return q, samples


@pytest.mark.parametrize("shape", [(1, 5, 3, 7), (1, 1, 1, 1), (1, 3, 1, 2), (1, 16, 4, 4)])
def test_fast_binary_loops_equal_the_reference(shape):
    need_tool("cc")
    q, samples = fast_bundle(shape, 4)
    want, got = run_ref(q, samples), run_c_host(q, samples, sanitize=True)
    for name in q.outputs:
        assert np.array_equal(got[name], want[name]), f"{name}: {np.sum(got[name] != want[name])} differ"


def test_the_cases_reach_the_fast_paths():
    q, _ = fast_bundle((1, 5, 3, 7), 2)
    p = [n.attrs["int8"] for n in q.nodes]
    assert p[0]["b_multiplier"] == 1 << 30 and p[0]["b_shift"] == 0 and p[0]["a_shift"] < 0
    assert p[1]["a_multiplier"] == 1 << 30 and p[1]["a_shift"] == 0 and p[1]["b_shift"] < 0
    assert p[2]["a_shift"] == p[2]["b_shift"] == 0
    assert all(-23 <= x["output_shift"] <= -1 for x in p[:7])
    assert (p[4]["clamp_min"], p[4]["clamp_max"]) != (-128, 127)  # an activation the SSAT path must not take


RESCALE_CHECK = r"""
#include "tinyc_elementwise.c"
/* The rewritten rescales against tinyc_requantize: every input difference d in [-255, 255] with
 * input shifts 0..-31 and multipliers at the ends and inside [2^30, 2^31); sums s of both signs up to
 * 2^29 with output shifts -1..-23 and the zero point folded into the bias. Counts the mismatches. */
static int32_t rescale_mismatches(void)
{
    static const int32_t mults[] = {0, 1073741824, 1073741825, 1431655765, 1717986918, 2147483647};
    int32_t bad = 0, d, k, sh, i;
    for (k = 0; k < 6; ++k) {
        for (sh = 0; sh >= -31; --sh) {
            const rescale r = rescale_of(mults[k], sh);
            for (d = -255; d <= 255; ++d) {
                const int32_t want = tinyc_requantize(d * (1 << 20), mults[k], sh);
                const int32_t h = mulhi_round(d * (1 << 21), mults[k]);
                bad += rescale_x2(d * (1 << 21), r) != want;
                bad += sh < 0 && ((h + r.bias + (h >> 31)) >> r.right) != want;
                bad += sh == 0 && mults[k] == (1 << 30) && d * (1 << 19) != want;
            }
        }
    }
    for (k = 1; k < 6; ++k) {
        for (sh = -1; sh >= -23; --sh) {
            for (i = 0; i < 40000; ++i) {
                /* dense near 0 (ties at small |s|), then spread to the 2^29 limit */
                const int32_t s = (i % 2 ? -1 : 1) * (i < 20000 ? i / 2 : (int32_t)((i * 26843ll) % 536870912));
                const int32_t zp = (i % 256) - 128, ro = -sh;
                const int32_t bo = ((int32_t)1 << (ro - 1)) + zp * ((int32_t)1 << ro);
                const int32_t h = mulhi_round(2 * s, mults[k]);
                bad += ((h + bo + (h >> 31)) >> ro) != tinyc_requantize(s, mults[k], sh) + zp;
            }
        }
    }
    return bad;
}
"""
RESCALE_PROGRAM = "#include <stdio.h>\n" + RESCALE_CHECK + r"""
int main(void)
{
    printf("%ld\n", (long)rescale_mismatches());
    return 0;
}
"""


def test_rewritten_rescales_equal_tinyc_requantize_exhaustively(tmp_path):
    need_tool("cc")
    (tmp_path / "main.c").write_text(RESCALE_PROGRAM)
    exe = tmp_path / "rescale"
    subprocess.run([compiler(), *WARNINGS, "-O2", *SANITIZE, "-I", str(runtime_dir()), "-o", str(exe),
                    str(tmp_path / "main.c"), "-lm"], check=True)
    assert subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.strip() == "0"


def in_place_chain(count: int, seed: int = 1, dtype: str = "int8") -> tuple[Graph, dict[str, np.ndarray]]:
    """x0, x1 -> m = x0 * x1 -> s = m + x1 -> t = relu(s) -> y = t - x0: s, t and y may each take
    the bytes of the tensor before them (the graph inputs stay untouched)."""
    shape = (1, 5, 3, 7)
    tensors = {n: Tensor(n, shape, "float32") for n in ("x0", "x1", "m", "s", "t", "y")}
    nodes = [Node("mul", "mul", ["x0", "x1"], ["m"], {"act": None}),
             Node("add", "add", ["m", "x1"], ["s"], {"act": None}),
             Node("relu", "unary", ["s"], ["t"], {"fn": "relu"}),
             Node("sub", "sub", ["t", "x0"], ["y"], {"act": None})]
    g = Graph("in_place_chain", tensors, nodes, ["x0", "x1"], ["y"])
    verify(g)
    rng = np.random.default_rng(seed)
    calib = {n: rng.uniform(lo, hi, (count, *shape)).astype(np.float32) for n, (lo, hi) in zip(g.inputs, RANGES)}
    return (quantize_graph(g, calib) if dtype == "int8" else g), calib


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_a_chain_planned_in_place_equals_the_reference(dtype):
    need_tool("cc")
    q, samples = in_place_chain(4, dtype=dtype)
    _, mem = plan_memory(q)
    assert mem.offsets["m"] == mem.offsets["s"] == mem.offsets["t"] == mem.offsets["y"]
    size = -(-q.tensors["m"].nbytes // 4) * 4  # x0, x1 and one block for m, s, t, y instead of x0, x1, m, s
    assert mem.savings["in_place"] == size and mem.arena == 3 * size == mem.classic_lower_bound - size
    want, got = run_ref(q, samples), run_c_host(q, samples, sanitize=True)
    np.testing.assert_allclose(got["y"], want["y"], rtol=1e-5, atol=1e-6)
    assert np.array_equal(got["y"], want["y"]) or dtype == "float32"
