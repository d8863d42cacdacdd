"""The fit check (tinyc.fit): planned flash and RAM against a board, and the one-line DoesNotFit."""

import dataclasses
import re

import pytest

from tests.conftest import need_tool
from tests.models import model_path
from tinyc import fit, ops, pipeline
from tinyc.board import gcc_flags, load_board
from tinyc.errors import DoesNotFit
from tinyc.toolchain.arm import family_bytes
from tinyc.report import build_report
from tinyc.resources import runtime_dir


@pytest.fixture(scope="module")
def int8_reports():
    """report.json documents (no board) of two shared models, int8, randomly calibrated."""
    docs = {}
    for name in ("kws_dscnn", "vww_mobilenetv1"):
        c = pipeline.build(model_path(name), pipeline.Options(dtype="int8"))
        docs[name] = build_report(c.graph, c.plan, c.name)
    return docs


def report(weights=1000, arena=500, code=None, dtype="int8", ops_=("conv2d", "reshape", "dense")) -> dict:
    """The parts of a report the fit check reads."""
    layers = [{"name": f"n{i}", "op": op, "weights": 10 * i, "output": 4 * i} for i, op in enumerate(ops_)]
    return {"name": "m", "dtype": dtype, "layers": layers, "flash": {"weights": weights, "code": code},
            "ram": {"total": arena}}


def board(flash: int, ram: int, name="mps2-an386", **changes):
    return dataclasses.replace(load_board(name), flash_size=flash, ram_size=ram, **changes)


def test_vww_int8_does_not_fit_a_blue_pill_and_says_by_how_much(int8_reports):
    doc = int8_reports["vww_mobilenetv1"]
    b = load_board("stm32f103c8")
    code = fit.estimated_code_bytes(doc, b)
    flash, ram = doc["flash"]["weights"] + code, doc["ram"]["total"] + fit.STACK_BYTES
    with pytest.raises(DoesNotFit) as e:
        fit.check_fit(doc, b)
    message = str(e.value)
    assert "\n" not in message
    assert message.startswith("vww_mobilenetv1 does not fit stm32f103c8: ")
    assert (f"flash needs {flash:,} B of 65,536 B ({flash - 65_536:,} B over; "
            f"weights {doc['flash']['weights']:,} B are the largest part") in message
    assert f"code ~{code:,} B is an estimate" in message
    assert (f"RAM needs {ram:,} B of 20,480 B ({ram - 20_480:,} B over; "
            f"arena {doc['ram']['total']:,} B is the largest part") in message
    assert f"stack allowance {fit.STACK_BYTES:,} B" in message
    # the largest layer is named (cut to 40 characters): where compressing helps most
    assert re.search(r"largest layer '.{1,40}' [\d,]+ B", message)
    assert fit.fits(doc, b) == {"flash": False, "ram": False}


def test_kws_int8_fits_nucleo_l4r5zi(int8_reports):
    doc = int8_reports["kws_dscnn"]
    b = load_board("nucleo-l4r5zi")
    assert fit.check_fit(doc, b) == {"flash": True, "ram": True}
    p = fit.plan(doc, b)
    assert p.code_estimated and p.flash == doc["flash"]["weights"] + fit.estimated_code_bytes(doc, b)
    assert p.ram == doc["ram"]["arena"] + fit.STACK_BYTES


def test_a_users_board_file_is_checked_by_path(tmp_path, int8_reports):
    text = load_board("nucleo-l4r5zi").path.read_text()
    path = tmp_path / "tiny.toml"
    path.write_text(text.replace('name = "nucleo-l4r5zi"', 'name = "tiny"').replace("size = 0xA0000", "size = 0x4000"))
    with pytest.raises(DoesNotFit, match=r"kws_dscnn does not fit tiny: RAM needs 18,048 B of 16,384 B \(1,664 B over"):
        fit.check_fit(int8_reports["kws_dscnn"], load_board(str(path)))


def test_exactly_full_fits_and_one_byte_more_does_not():
    doc = report(code=200)
    assert fit.check_fit(doc, board(1200, 500 + fit.STACK_BYTES)) == {"flash": True, "ram": True}
    with pytest.raises(DoesNotFit, match=r"flash needs 1,200 B of 1,199 B \(1 B over;") as e:
        fit.check_fit(doc, board(1199, 500 + fit.STACK_BYTES))
    assert "RAM" not in str(e.value)
    with pytest.raises(DoesNotFit, match=r"m does not fit mps2-an386: RAM needs 2,548 B of 2,547 B \(1 B over;") as e:
        fit.check_fit(doc, board(1200, 2547))
    assert "flash" not in str(e.value)


def test_a_built_firmwares_code_replaces_the_estimate():
    with pytest.raises(DoesNotFit) as e:
        fit.check_fit(report(weights=1000, code=3000), board(3999, 10_000))
    message = str(e.value)
    assert "code 3,000 B is the largest part; code 3,000 B)" in message and "estimate" not in message
    assert fit.plan(report(code=3000), board(1, 1)).code_estimated is False


def test_the_largest_part_can_be_the_stack():
    with pytest.raises(DoesNotFit, match="the stack allowance 2,048 B is the largest part"):
        fit.check_fit(report(arena=8, code=0), board(10_000, 100))


def test_estimate_counts_each_family_once_layers_startup_and_not_views():
    b = load_board("mps2-an386")
    one = fit.estimated_code_bytes(report(ops_=("conv2d",)), b)
    table = fit.family_bytes(b.core)
    conv = sum(table[f]["int8"] for f in ("tinyc_conv", "tinyc_depthwise", "tinyc_pointwise"))
    assert one == conv + fit.STARTUP_BYTES + fit.PER_LAYER_BYTES
    two = fit.estimated_code_bytes(report(ops_=("conv2d", "conv2d", "reshape")), b)
    assert two == one + fit.PER_LAYER_BYTES  # the family once, the view not at all
    both = fit.estimated_code_bytes(report(ops_=("add", "mul")), b)
    assert both == table["tinyc_elementwise"]["int8"] + fit.STARTUP_BYTES + 2 * fit.PER_LAYER_BYTES


def test_estimate_adds_float_support_for_float32_only():
    hard, soft = load_board("mps2-an386"), load_board("mps2-an385")

    def dense(b, dt):  # each core's own kernel sizes
        return fit.family_bytes(b.core)["tinyc_dense"][dt] + fit.STARTUP_BYTES + fit.PER_LAYER_BYTES

    assert fit.estimated_code_bytes(report(ops_=("dense",)), soft) == dense(soft, "int8")
    assert fit.estimated_code_bytes(report(ops_=("dense",), dtype="float32"), hard) == dense(hard, "float32")
    assert fit.estimated_code_bytes(report(ops_=("dense",), dtype="float32"), soft) == \
        dense(soft, "float32") + fit.SOFT_FLOAT_BYTES
    with_exp = fit.estimated_code_bytes(report(ops_=("dense", "softmax"), dtype="float32"), hard)
    assert with_exp == dense(hard, "float32") + fit.family_bytes(hard.core)["tinyc_softmax"]["float32"] + \
        fit.PER_LAYER_BYTES + fit.LIBM_BYTES


def test_the_estimate_is_the_boards_core_own():
    """An M3 does not carry the M4's DSP paths nor the M55's Helium ones: its estimate is smaller."""
    ops_ = ("conv2d", "dense", "softmax")
    m3, m4, m55 = (fit.estimated_code_bytes(report(ops_=ops_), load_board(n))
                   for n in ("mps2-an385", "mps2-an386", "mps3-an547"))
    assert m3 < m4 < m55


def test_an_op_the_estimate_does_not_know_counts_as_the_largest_family():
    b = load_board("mps2-an386")
    largest = max(sizes["int8"] for sizes in fit.family_bytes(b.core).values())
    assert fit.estimated_code_bytes(report(ops_=("conv2d_csr_future",)), b) == \
        largest + fit.STARTUP_BYTES + fit.PER_LAYER_BYTES


def test_every_registered_kernel_op_has_a_family():
    kernel_ops = {name for name, op in ops.REGISTRY.items() if not op.is_view}
    assert kernel_ops == set(fit.OP_FAMILY)
    families = {f for value in fit.OP_FAMILY.values() for f in fit._as_tuple(value)}
    families |= set(fit.HELIUM_OP_FAMILY.values())  # a Helium core's conv
    assert families | {"tinyc_sparse", "tinyc_sparse_conv"} == set(fit.FAMILY_BYTES)  # sparse: by format, not op
    assert {p.stem for p in runtime_dir().glob("tinyc_*.c")} == set(fit.FAMILY_BYTES)


@pytest.mark.qemu
def test_family_table_is_still_an_upper_bound_of_the_compiled_kernels(tmp_path):
    """The estimate's kernel sizes, re-measured on every core; when a kernel grows, run
    scripts/family_bytes.py (it rewrites tinyc/data/family_bytes.json)."""
    need_tool("arm-none-eabi-gcc")
    sources = fit.family_sources()
    assert {p.stem for p in sources} == set(fit.FAMILY_BYTES)
    for core, board in fit.measured_boards().items():
        table = fit.family_bytes(core)
        measured = {p.stem: family_bytes(p, gcc_flags(board), tmp_path) for p in sources}
        too_small = {f: m for f, m in measured.items() if any(m[k] > table[f][k] for k in m)}
        assert not too_small, f"{core}: the table under-counts; measured now: {too_small}"
        too_large = {f: m for f, m in measured.items() if any(table[f][k] > 1.25 * m[k] + 64 for k in m)}
        assert not too_large, f"{core}: the table over-counts by more than 25 %; measured now: {too_large}"
