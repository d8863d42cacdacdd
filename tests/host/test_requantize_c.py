"""runtime_c's tinyc_requantize equals tinyc.quant.requantize on the edge table and random values."""

from __future__ import annotations

import subprocess

import numpy as np

from tests.conftest import need_tool
from tests.unit.test_quant import EDGE_TABLE
from tinyc.resources import runtime_dir
from tinyc.toolchain.host import SANITIZE, WARNINGS, compiler
from tinyc import quant

PROGRAM = r"""
#include <stdio.h>
#include "tinyc_common.h"
int main(void)
{
    long long acc, mult, shift;
    while (scanf("%lld %lld %lld", &acc, &mult, &shift) == 3) {
        printf("%ld\n", (long)tinyc_requantize((int32_t)acc, (int32_t)mult, (int32_t)shift));
    }
    return 0;
}
"""


def test_c_requantize_equals_python(tmp_path):
    need_tool("cc")
    (tmp_path / "main.c").write_text(PROGRAM)
    exe = tmp_path / "requant"
    subprocess.run([compiler(), *WARNINGS, "-O2", *SANITIZE, "-I", str(runtime_dir()), "-o", str(exe),
                    str(tmp_path / "main.c")], check=True)
    rng = np.random.default_rng(11)
    cases = list(EDGE_TABLE) + list(zip(rng.integers(-(2**31), 2**31, 3000).tolist(),
                                        rng.integers(1 << 30, 2**31, 3000).tolist(),
                                        rng.integers(-31, 12, 3000).tolist()))
    # Accumulators of real layers are small; multipliers of exactly 2^30 land on rounding ties.
    cases += list(zip(rng.integers(-(2**17), 2**17, 20000).tolist(),
                      rng.choice([1 << 30, (1 << 30) + 1, 2**31 - 1, 1518500250, 0], 20000).tolist(),
                      rng.integers(-20, 3, 20000).tolist()))
    text = "".join(f"{a} {m} {s}\n" for a, m, s in cases)
    out = subprocess.run([str(exe)], input=text, capture_output=True, text=True, check=True).stdout.split()
    acc, mult, shift = (np.array(col, np.int64) for col in zip(*cases))
    assert [int(v) for v in out] == quant.requantize(acc, mult, shift).tolist()
