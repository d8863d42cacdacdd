"""C backend: lays a planned graph out as the generated folder (NAME.h, NAME.c, NAME_weights.c,
tinyc/, main_host.c, Makefile). Python computes the values; the Jinja templates hold all C text.
"""

from __future__ import annotations

import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import numpy as np

from tinyc import ops
from tinyc.errors import BadInput
from tinyc.codegen.c_literals import Namer, c_comment, c_float, c_int, c_type, c_value_chunks
from tinyc.ir import C_TYPE, Graph
from tinyc.resources import runtime_dir, templates_dir
from tinyc.toolchain import arm

COMMON_FILES = ("tinyc_arch.h", "tinyc_common.h")


@dataclass
class CArray:
    ident: str
    ctype: str
    length: int
    values: np.ndarray  # written out in chunks as the template streams: never one string
    comment: str = ""

    def chunks(self):
        return c_value_chunks(self.values)


@dataclass
class CCall:
    comment: str
    kernel: str
    params_type: str = ""
    params_ident: str = ""
    params_init: str = ""
    args: list[str] = field(default_factory=list)


def template_env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())),
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                              trim_blocks=True, lstrip_blocks=True)


def _initializer(params: dict, prefix: str, arrays: list[CArray], indent: str = "    ") -> str:
    """A C99 designated initializer; numpy arrays become const arrays referenced by pointer."""
    parts = []
    for key, value in params.items():
        if isinstance(value, dict):
            text = "{\n" + _initializer(value, f"{prefix}_{key}", arrays, indent + "    ") + "\n" + indent + "}"
        elif isinstance(value, np.ndarray):
            ident = f"{prefix}_{key}"
            arrays.append(CArray(ident, c_type(value), max(value.size, 1), value))
            text = ident
        elif isinstance(value, (bool, np.bool_)):
            text = "1" if value else "0"
        elif isinstance(value, (int, np.integer)):
            text = c_int(value)
        elif isinstance(value, (float, np.floating)):
            text = c_float(value)
        else:
            raise AssertionError(f"param {prefix}.{key}: cannot emit {type(value).__name__}")
        parts.append(f"{indent}.{key} = {text}")
    return ",\n".join(parts)


def emit(g: Graph, plan, out_dir: Path, name: str, board=None, selftest=None) -> list[str]:
    """Write the generated folder for planned graph g into out_dir; return the kernel families used.

    plan: offsets (tensor name or f"{node}#scratch" -> arena byte offset) and arena (bytes).
    board: a tinyc.board.Board: adds the firmware (port/ with the board's console driver, main_firmware.c,
    the QEMU test harness main_board.c, NAME.ld, Makefile targets).
    selftest: a tinyc.selftest.Selftest whose samples and expected outputs main_firmware.c embeds.
    """
    out_dir = Path(out_dir)
    (out_dir / "tinyc").mkdir(parents=True, exist_ok=True)
    weight_name = Namer(f"{name}_w_")
    params_name = Namer("p_")
    param_arrays: list[CArray] = []
    weights: dict[str, CArray] = {}
    calls: list[CCall] = []
    families: list[str] = []

    def pointer(tensor: str, writes: bool) -> str:
        """A weight array, or an arena pointer: const for what the kernel reads."""
        t = g.tensors[tensor]
        if t.is_const:
            if tensor not in weights:
                weights[tensor] = CArray(weight_name(tensor), C_TYPE[t.dtype], max(t.size, 1), t.data,
                                         c_comment(tensor))
            return weights[tensor].ident
        qualifier = "" if writes else "const "
        return f"({qualifier}{C_TYPE[t.dtype]} *)(arena.bytes + {plan.offsets[tensor]})"

    for node in g.nodes:
        op = ops.get(node.op)
        comment = c_comment(f"{node.name} ({node.op})")
        if op.is_view:
            calls.append(CCall(comment + ": a view, no code", ""))
            continue
        call = op.kernel(node, g)
        if call.family not in families:
            families.append(call.family)
        ident = params_name(node.name)
        args = [pointer(a, a in node.outputs) if a else "0" for a in call.args]
        if call.scratch_bytes:
            args.append(f"(void *)(arena.bytes + {plan.offsets[node.name + '#scratch']})")
        try:
            init = _initializer(call.params, ident, param_arrays)
        except BadInput as e:  # a NaN attribute, say
            raise BadInput(f"node {node.name!r} ({node.op}): {e}") from None
        calls.append(CCall(comment, call.kernel, call.params_type, ident, init, args))

    def io(names: list[str]) -> list[dict]:
        result = []
        for n in names:
            t = g.tensors[n]
            q = t.q
            result.append({"comment": c_comment(n), "ctype": C_TYPE[t.dtype], "size": t.size,
                           "offset": plan.offsets[n], "shape": ", ".join(map(str, t.shape)),
                           "scale": c_float(q.scale[0]) if q is not None and t.dtype == "int8" else None,
                           "zero_point": int(q.zero_point[0]) if q is not None and t.dtype == "int8" else None})
        return result

    ctx = {
        "name": name, "guard": name.upper() + "_H", "arena_bytes": max(int(plan.arena), 1),
        "inputs": io(g.inputs), "outputs": io(g.outputs), "calls": calls, "families": families,
        "param_arrays": param_arrays, "weights": list(weights.values()),
        "dtype": C_TYPE[g.tensors[g.inputs[0]].dtype], "board": board,
        "inputs_empty": all(g.tensors[i].size == 0 for i in g.inputs),
        "mixed_inputs": any(g.tensors[i].dtype != g.tensors[g.inputs[0]].dtype for i in g.inputs),
        "mixed_outputs": any(g.tensors[o].dtype != g.tensors[g.inputs[0]].dtype for o in g.outputs),
    }
    outputs = [("model.h.j2", f"{name}.h"), ("model.c.j2", f"{name}.c"), ("weights.c.j2", f"{name}_weights.c"),
               ("main_host.c.j2", "main_host.c"), ("Makefile.j2", "Makefile"), ("CMakeLists.txt.j2", "CMakeLists.txt"),
               ("library.json.j2", "library.json")]
    if board is not None:
        from tinyc.board import console_defines, gcc_flags
        from tinyc.fit import STACK_BYTES

        ctx.update(cpu_flags=" ".join(gcc_flags(board)), stack_size=STACK_BYTES, shell_quote=shlex.quote,
                   fw_cflags=" ".join(arm.WARNINGS + arm.COMMON), fw_ldflags=" ".join(arm.LINK))
        port = port_files(board)
        ctx.update(port_sources=[f"port/{f}" for f in port if f.endswith(".c")],
                   harness_flags=" ".join(arm.HARNESS_FLAGS), mhz=lambda hz: f"{hz / 1e6:g}",
                   console_baud=dict(board.console).get("baud", 115200),
                   console_defines=console_defines(board), **_firmware_context(g, ctx, selftest))
        outputs += [("main_board.c.j2", "main_board.c"), ("main_firmware.c.j2", "main_firmware.c"),
                    ("tinyc_board.h.j2", "port/tinyc_board.h"), ("linker.ld.j2", f"{name}.ld"),
                    ("arm-none-eabi.cmake.j2", "arm-none-eabi.cmake")]
        (out_dir / "port").mkdir(exist_ok=True)
        for fname in port:
            shutil.copyfile(runtime_dir() / "port" / fname, out_dir / "port" / fname)
        if board.boot2:  # a chip that boots from a USB drive: the host tool that writes its UF2 file
            (out_dir / "tools").mkdir(exist_ok=True)
            shutil.copyfile(runtime_dir() / "tools" / arm.UF2_TOOL, out_dir / "tools" / arm.UF2_TOOL)
    env = template_env()
    for template, target in outputs:
        with open(out_dir / target, "w") as f:  # streamed: a weight array is written chunk by chunk
            env.get_template(template).stream(ctx).dump(f)
    for fname in COMMON_FILES:
        shutil.copyfile(runtime_dir() / fname, out_dir / "tinyc" / fname)
    for fname in _with_includes([f + ext for f in families for ext in (".h", ".c")]):
        shutil.copyfile(runtime_dir() / fname, out_dir / "tinyc" / fname)
    return families


def port_files(board) -> list[str]:
    """runtime_c/port files a board's firmware needs: the common ones, its console's driver, and boot2 for
    a chip whose boot ROM runs one."""
    chosen = {f"console_{board.console_kind.replace('-', '_')}.c", board.boot2_source}
    return [p.name for p in sorted((runtime_dir() / "port").glob("*.[ch]"))
            if not p.name.startswith(("console_", "boot2_")) or p.name in chosen]


def _firmware_context(g: Graph, ctx: dict, selftest) -> dict:
    """What main_firmware.c.j2 needs beyond the model: the fingerprint, the class output, the self-test."""
    from tinyc.selftest import MIXED_STEPS, fingerprint, tolerance

    first = g.tensors[g.outputs[0]]
    found = {"fingerprint": fingerprint(g), "exact": g.is_int8 and not g.is_mixed, "selftest": None,
             "class_output": ctx["outputs"][0] if first.dtype in ("int8", "float32") and first.size > 1 else None}
    if selftest is None:
        return found
    arrays, inputs, expected = [], [], []
    for i, n in enumerate(g.inputs):
        arrays.append(CArray(f"selftest_input{i}", C_TYPE[g.tensors[n].dtype], max(selftest.feeds[n].size, 1),
                             selftest.feeds[n], f"input {i} of each sample: {c_comment(n)}"))
        inputs.append(arrays[-1].ident)
    bases, tolerances, base = [], [], 0
    for i, n in enumerate(g.outputs):
        y = selftest.expected[n]
        arrays.append(CArray(f"selftest_expected{i}", C_TYPE[g.tensors[n].dtype], max(y.size, 1), y,
                             f"output {i} the reference gives for each sample: {c_comment(n)}"))
        expected.append(arrays[-1].ident)
        bases.append(base)
        base += g.tensors[n].size
        if g.tensors[n].dtype == "float32":
            tolerances.append(c_float(np.float32(tolerance(y))))
        else:  # int8 of a mixed-precision model: within MIXED_STEPS (tinyc/selftest.py)
            tolerances.append(str(MIXED_STEPS) if g.is_mixed and g.tensors[n].dtype == "int8" else None)
    found["selftest"] = {"count": selftest.count, "arrays": arrays, "inputs": inputs, "expected": expected,
                         "bases": bases, "tolerances": tolerances}
    return found


def _with_includes(files: list[str]) -> list[str]:
    """files plus the runtime headers they include (`#include "x.h"`), transitively, common files excepted."""
    found, todo = [], list(files)
    while todo:
        fname = todo.pop(0)
        if fname in found or fname in COMMON_FILES:
            continue
        found.append(fname)
        todo += re.findall(r'^#include "([^"]+)"', (runtime_dir() / fname).read_text(), re.M)
    return found
