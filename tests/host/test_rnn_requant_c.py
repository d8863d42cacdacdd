"""tinyc_rnn.c's own requantization (a left or a right shift per call) equals tinyc_requantize bit for bit:
the edge table, random values over every shift, saturating left shifts and rounding ties, with the sanitizers."""

from __future__ import annotations

import subprocess

import numpy as np

from tests.conftest import need_tool
from tests.unit.test_quant import EDGE_TABLE
from tinyc.resources import runtime_dir
from tinyc.toolchain.host import SANITIZE, WARNINGS, compiler

# tinyc_rnn_requant_x is static: the program includes the kernel file (host build: the portable path).
PROGRAM = r"""
#include <stdio.h>
#include "tinyc_rnn.c"
int main(void)
{
    long long acc, mult, shift;
    int bad = 0;
    while (scanf("%lld %lld %lld", &acc, &mult, &shift) == 3) {
        const int32_t m = (int32_t)mult, s = (int32_t)shift, row = 0;
        const tinyc_requant_pc q = {&m, &s};
        bad += tinyc_rnn_requant_x(&q, row, (int32_t)acc) != tinyc_requantize((int32_t)acc, m, s);
    }
    printf("%d\n", bad);
    return 0;
}
"""


def test_rnn_requant_equals_tinyc_requantize(tmp_path):
    need_tool("cc")
    (tmp_path / "main.c").write_text(PROGRAM)
    exe = tmp_path / "requant"
    subprocess.run([compiler(), *WARNINGS, "-O2", *SANITIZE, "-I", str(runtime_dir()), "-o", str(exe),
                    str(tmp_path / "main.c"), "-lm"], check=True)
    rng = np.random.default_rng(3)
    n = 40000
    cases = [(a, m, s) for a, m, s in EDGE_TABLE]
    cases += list(zip(rng.integers(-(2**31), 2**31, n).tolist(), rng.integers(0, 2**31, n).tolist(),
                      rng.integers(-31, 32, n).tolist()))
    edges = [0, 1, -1, 2**31 - 1, -(2**31), 2**30, -(2**30), 12345, -12345]
    cases += list(zip(rng.choice(edges, n).tolist(), rng.choice([1 << 30, 2**31 - 1, 1518500250, 0], n).tolist(),
                      rng.integers(-31, 32, n).tolist()))
    cases += list(zip(rng.integers(-(2**17), 2**17, n).tolist(), rng.choice([1 << 30, (1 << 30) + 1], n).tolist(),
                      rng.integers(-20, 4, n).tolist()))  # rounding ties
    text = "".join(f"{a} {m} {s}\n" for a, m, s in cases)
    out = subprocess.run([str(exe)], input=text, capture_output=True, text=True, check=True).stdout
    assert int(out) == 0
