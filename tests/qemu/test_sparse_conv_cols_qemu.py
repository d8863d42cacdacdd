"""The sparse conv kernels of tests/host/test_sparse_conv_cols.py as bare-metal firmware: column and direct
kernels, DSP paths on mps2-an386 (Cortex-M4) and portable paths on mps2-an385 (Cortex-M3), equal ref_int8
bit for bit on every geometry, one firmware per board and kernel."""

from __future__ import annotations

import pytest

from tests.conftest import need_tool
from tests.host.test_sparse_conv_cols import cases
from tests.host.test_sparse_kernels import int8_bundle
from tests.qemu.test_dense_fast_qemu import run_on
from tinyc.ops import conv as conv_op


@pytest.fixture(autouse=True)
def _tools():
    need_tool("arm-none-eabi-gcc")
    need_tool("qemu-system-arm")


@pytest.mark.parametrize("min_cout", [1, 10**9], ids=["columns", "direct"])
@pytest.mark.parametrize("board", ("mps3-an547", "mps2-an386", "mps2-an385"))  # no Helium path: the M55 = its DSP
def test_sparse_conv_kernels_on_board_equal_the_reference(monkeypatch, board, min_cout):
    monkeypatch.setattr(conv_op, "SPARSE_COLUMNS_MIN_COUT", min_cout)
    run_on(*int8_bundle(cases(), samples=2, seed=3), board)
