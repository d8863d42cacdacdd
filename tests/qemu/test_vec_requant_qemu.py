"""tinyc_requantize_x4 (runtime_c/tinyc_vec_requant.h, the Helium requantization of dense, elementwise and the
sparse kernels) and elementwise's rescale_right_x4 equal tinyc_requantize lane by lane on the Cortex-M55
(mps3-an547): accumulators at the int32 ends, near them, at rounding ties of every shift, and spread over
int32; multipliers at the ends and inside [2^30, 2^31) and 0; shifts -31..30 (left shifts that saturate)."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import need_tool
from tinyc.board import gcc_flags, load_board
from tinyc.codegen.emit import template_env
from tinyc.resources import runtime_dir
from tinyc.toolchain import arm, qemu

CHECK = r"""
#include "tinyc_console.h"
#include "tinyc_semihost.h"
#include "tinyc_elementwise.c"

static int32_t acc_at(int32_t i, int32_t sh)
{
    const int32_t right = sh < 0 ? -sh : 1;
    switch (i % 8) {
    case 0: return i % 16 ? INT32_MIN + i / 8 : INT32_MAX - i / 8;      /* the ends */
    case 1: return (int32_t)(((uint32_t)i * 2654435761u));             /* spread over int32 */
    case 2: return (int32_t)((i / 8) * ((int64_t)1 << (right - 1)));   /* ties of 2^-right after the multiply */
    case 3: return -(int32_t)((i / 8) * ((int64_t)1 << (right - 1)));
    case 4: return (i / 8) - 300;                                     /* small, both signs */
    case 5: return (int32_t)(((uint32_t)i * 40503u) >> (i % 31)) * (i % 16 ? 1 : -1);
    default: return (int32_t)((i * 7919) % 65536) - 32768;            /* a conv or dense sum */
    }
}

static int32_t mismatches(void)
{
    static const int32_t mults[] = {0, 1073741824, 1073741825, 1431655765, 1717986918, 2147483647};
    int32_t bad = 0, k, sh, i, j;
    for (k = 0; k < 6; ++k) {
        for (sh = -31; sh <= 30; ++sh) {
            for (i = 0; i < 2048; i += 4) {
                int32_t in[4], got[4], right[4];
                for (j = 0; j < 4; ++j) {
                    in[j] = acc_at(i + j, sh);
                }
                vst1q_s32(got, tinyc_requantize_x4(vld1q_s32(in), vdupq_n_s32(mults[k]), vdupq_n_s32(sh)));
                vst1q_s32(right, rescale_right_x4(vld1q_s32(in), mults[k], vdupq_n_s32(sh)));
                for (j = 0; j < 4; ++j) {
                    const int32_t want = tinyc_requantize(in[j], mults[k], sh);
                    bad += got[j] != want;
                    bad += sh <= 0 && right[j] != want;
                }
            }
        }
    }
    return bad;
}

int main(void)
{
    tinyc_print("tinyc: bad ");
    tinyc_print_u64((uint64_t)mismatches());
    tinyc_print("\n");
    return 0;
}
"""


@pytest.mark.parametrize("board_name", ["mps3-an547"])
def test_helium_requantization_equals_tinyc_requantize(board_name, tmp_path):
    need_tool("arm-none-eabi-gcc")
    need_tool("qemu-system-arm")
    board = load_board(board_name)
    (tmp_path / "main.c").write_text(CHECK)
    ld = tmp_path / "fw.ld"
    ld.write_text(template_env().get_template("linker.ld.j2").render(name="fw", board=board, stack_size=1024))
    port, elf = runtime_dir() / "port", tmp_path / "fw.elf"
    subprocess.run(["arm-none-eabi-gcc", *gcc_flags(board), "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2",
                    *arm.HARNESS_FLAGS, "-I", str(port), "-I", str(runtime_dir()), str(tmp_path / "main.c"),
                    *(str(port / f) for f in arm.HARNESS_PORT), "-nostartfiles", "--specs=nano.specs",
                    "--specs=nosys.specs", "-T", str(ld), "-o", str(elf), "-lm"], check=True)
    assert "tinyc: bad 0\n" in qemu.run(elf, board.qemu_machine, b"").console
