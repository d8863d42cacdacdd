"""The generated C as bare-metal firmware under QEMU: bit-exact with the reference and the host on
every emulated core, deterministic instruction counts, measured sizes that agree with the plan."""

from __future__ import annotations

import subprocess
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.models import MODELS, model_path, sample_inputs
from tinyc import interpreter, pipeline, report, runners
from tinyc.board import known_boards, load_board
from tinyc.errors import DoesNotFit
from tinyc.resources import runtime_dir

RANDOM_INPUTS = 4  # per model on top of its samples: every board run is a full emulation
EMULATED = {"mps2-an385": ("int8",), "mps2-an386": ("int8", "float32"), "mps2-an500": ("int8", "float32"),
            "mps3-an547": ("int8", "float32")}


@pytest.fixture(autouse=True)
def _tools():
    need_tool("arm-none-eabi-gcc")
    need_tool("qemu-system-arm")


@lru_cache(maxsize=None)
def compiled(name: str, dtype: str, board: str) -> pipeline.Compiled:
    g = pipeline.frontend(model_path(name))
    calib = sample_inputs(name, g.inputs[0], g.tensors[g.inputs[0]].shape)
    return pipeline.build(model_path(name), pipeline.Options(dtype=dtype, calib=calib, board=board))


def feeds_of(c: pipeline.Compiled, name: str) -> dict[str, np.ndarray]:
    g = c.float_graph
    feeds = runners.feeds_for(c.graph, sample_inputs(name, g.inputs[0], g.tensors[g.inputs[0]].shape))
    rng = np.random.default_rng(99)
    for n in c.graph.inputs:
        t = c.graph.tensors[n]
        extra = (rng.integers(-128, 128, (RANDOM_INPUTS, *t.shape), dtype=np.int8) if t.dtype == "int8"
                 else rng.standard_normal((RANDOM_INPUTS, *t.shape)).astype(np.float32))
        feeds[n] = np.concatenate([feeds[n], extra])
    return feeds


CASES = [(m, b, d) for b, dtypes in EMULATED.items() for d in dtypes for m in MODELS]


@pytest.mark.parametrize("name,board,dtype", CASES)
def test_qemu_equals_host_and_reference(name, board, dtype):
    c = compiled(name, dtype, board)
    feeds = feeds_of(c, name)
    on_board, measured = runners.run_board(c, feeds)
    on_host = runners.run_host(c, feeds)
    ref = interpreter.run_samples(c.graph, feeds)
    for out in c.graph.outputs:
        if dtype == "int8":
            assert np.array_equal(on_board[out], ref[out]), f"{np.sum(on_board[out] != ref[out])} values differ"
            assert np.array_equal(on_host[out], ref[out])
        else:  # float: the same C on another compiler and FPU; exact equality is not promised
            scale = max(1.0, float(np.abs(ref[out]).max()))
            assert np.abs(on_board[out] - ref[out]).max() <= 1e-4 * scale
    assert measured["instructions"] > 0


@pytest.mark.parametrize("name", ["kws_dscnn", "vww_mobilenetv1", "ic_resnet8"])
def test_m55_built_without_helium_equals_the_reference(name):
    """The Cortex-M55 firmware built -mcpu=cortex-m55+nomve (DSP paths on the core whose default build takes
    the Helium paths, which test_qemu_equals_host_and_reference covers): the same bits as the reference."""
    c = compiled(name, "int8", "mps3-an547")
    feeds = feeds_of(c, name)
    on_board, _ = runners.run_board(c, feeds, ["-mcpu=cortex-m55+nomve"])
    ref = interpreter.run_samples(c.graph, feeds)
    for out in c.graph.outputs:
        assert np.array_equal(on_board[out], ref[out]), f"{np.sum(on_board[out] != ref[out])} values differ"


def test_instruction_counts_repeat_exactly():
    c = compiled("kws_dscnn", "int8", "mps2-an386")
    feeds = feeds_of(c, "kws_dscnn")
    first, second = runners.run_board(c, feeds)[1], runners.run_board(c, feeds)[1]
    assert first["instructions"] == second["instructions"]


def test_counter_reads_a_known_instruction_loop_exactly(tmp_path):
    """8,000,000 instructions (a 2-instruction loop run 4,000,000 times) read back as such."""
    from tinyc.toolchain import qemu

    main = tmp_path / "main.c"
    main.write_text(
        '#include <stdint.h>\n#include "tinyc_console.h"\n#include "tinyc_counter.h"\n#include "tinyc_semihost.h"\n'
        "int main(void)\n{\n    uint64_t a, b;\n    tinyc_counter_start();\n    a = tinyc_counter_ticks();\n"
        '    __asm__ volatile("ldr r0, =4000000\\n1: subs r0, r0, #1\\n bne 1b" ::: "r0", "cc");\n'
        "    b = tinyc_counter_ticks();\n"
        '    tinyc_print("tinyc: ticks "); tinyc_print_u64(b - a); tinyc_print("\\n");\n'
        '    tinyc_print("tinyc: stack 0\\n");\n    return 0;\n}\n')
    for board_name in ("mps2-an386", "mps3-an547"):
        board = load_board(board_name)
        ld = tmp_path / "fw.ld"
        from tinyc.codegen.emit import template_env
        ld.write_text(template_env().get_template("linker.ld.j2").render(name="fw", board=board, stack_size=1024))
        port = runtime_dir() / "port"
        elf = tmp_path / "fw.elf"
        from tinyc.board import gcc_flags
        from tinyc.toolchain import arm
        subprocess.run(["arm-none-eabi-gcc", *gcc_flags(board), "-O2", *arm.HARNESS_FLAGS, "-I", str(port),
                        str(main), *(str(port / f) for f in arm.HARNESS_PORT), "-nostartfiles", "--specs=nano.specs",
                        "--specs=nosys.specs", "-T", str(ld), "-o", str(elf)], check=True)
        (tmp_path / "output.bin").write_bytes(b"")
        run = qemu.run(elf, board.qemu_machine, b"")
        # the counter reads between two calls: a few instructions around the loop, and one tick
        assert 8_000_000 <= run.instructions[0] <= 8_000_000 + 100, board_name


@pytest.mark.parametrize("board", sorted(b for b in known_boards() if load_board(b).qemu_machine is None))
def test_firmware_for_every_real_board_builds_and_reports_its_sizes(board, tmp_path):
    c = compiled("kws_dscnn", "int8", board)
    out = tmp_path / "out"
    doc = pipeline.write(c, out)
    assert doc["fits"] == {"flash": True, "ram": True}
    subprocess.run(["make", "-C", str(out), "firmware"], check=True, capture_output=True)
    elf = out / "kws_dscnn.elf"
    assert elf.is_file() and (out / "kws_dscnn.map").is_file()
    from tinyc.toolchain import elf as elf_sizes
    sizes = elf_sizes.section_sizes(elf)
    assert sizes["rodata"] >= doc["flash"]["weights"]  # every weight byte is in flash
    assert sizes["bss"] >= doc["ram"]["arena"]


def test_measured_sizes_agree_with_the_plan():
    """Each gap between planned and measured bytes is one of the known parts, and small."""
    c = compiled("kws_dscnn", "int8", "mps2-an386")
    doc = report.build_report(c.graph, c.plan, c.name, board=c.board, dtype="int8")
    _, m = runners.run_board(c, feeds_of(c, "kws_dscnn"))
    # RAM: the arena is .bss; the rest of .bss/.data is the harness (a few words) and the stack is measured
    assert doc["ram"]["arena"] <= m["bss"] <= doc["ram"]["arena"] + 64
    assert m["data"] <= 64 and 0 < m["stack"] <= 2048
    # flash: weights and parameter arrays are .rodata, plus each layer's const params struct (< 100 B)
    assert doc["flash"]["weights"] <= m["rodata"] <= doc["flash"]["weights"] + 100 * len(doc["layers"])
    assert m["code"] <= m["text"] and m["code"] > 1000


def test_a_model_too_big_for_the_board_is_a_clear_error():
    with pytest.raises(DoesNotFit) as e:
        compiled_doc = compiled("vww_mobilenetv1", "int8", "stm32f103c8")
        pipeline.write(compiled_doc, Path("/nonexistent/never-written"))
    message = str(e.value)
    assert "stm32f103c8" in message and "weights" in message and "65,536 B of flash" in message
    assert not Path("/nonexistent/never-written").exists()


def test_kws_fits_the_mlperf_reference_board():
    c = compiled("kws_dscnn", "int8", "nucleo-l4r5zi")
    doc = report.build_report(c.graph, c.plan, c.name, board=c.board, dtype="int8")
    assert doc["fits"] == {"flash": True, "ram": True} and doc["board"] == "nucleo-l4r5zi"
