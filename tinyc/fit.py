"""The fit check: does a compiled model fit a board's flash and RAM? Planned from the report
alone, before anything is built for the board.

Planned flash = weights + code. `code` is report["flash"]["code"] once a firmware was built;
before that it is estimated_code_bytes(): an upper bound from kernel sizes measured with
arm-none-eabi-gcc (tests/unit/test_fit.py re-measures them), and every message says so.
Planned RAM = the arena (the model's inputs, outputs and scratch live in it) + STACK_BYTES.
It reads the report and never changes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from tinyc import ops
from tinyc.board import Board, has_helium
from tinyc.errors import DoesNotFit
from tinyc.resources import runtime_dir

STACK_BYTES = 2048  # stack allowance: the kernels are flat loops with a few locals, no recursion

# Code estimate, in bytes. Kernel families: every function of runtime_c/<family>.c for that dtype
# (int8 includes the int16 helpers), arm-none-eabi-gcc 12 -O2 -ffunction-sections, measured per core
# (the M0+'s Thumb-1 code is the longest, the M4's DSP and the M55's Helium paths add their own) by
# scripts/family_bytes.py into tinyc/data/family_bytes.json. Only the kernels a model calls get linked,
# so whole families over-count: the estimate stays an upper bound.
FAMILY_BYTES_FILE = Path(__file__).resolve().parent / "data" / "family_bytes.json"
FAMILY_BYTES_BY_CORE: dict[str, dict[str, dict[str, int]]] = json.loads(FAMILY_BYTES_FILE.read_text())
# the largest over every core: for a core not measured, and the families' names
FAMILY_BYTES = {f: {dt: max(table[f][dt] for table in FAMILY_BYTES_BY_CORE.values()) for dt in ("int8", "float32")}
                for f in next(iter(FAMILY_BYTES_BY_CORE.values()))}
MEASURED_ON = {"cortex-m0plus": "rpi-pico", "cortex-m3": "mps2-an385", "cortex-m4": "mps2-an386",
               "cortex-m7": "mps2-an500", "cortex-m33": "mps2-an386", "cortex-m55": "mps3-an547"}


def family_bytes(core: str) -> dict[str, dict[str, int]]:
    """Kernel family sizes on a core (gcc -mcpu name); the largest over all for one not measured."""
    return FAMILY_BYTES_BY_CORE.get(core, FAMILY_BYTES)


def measured_boards() -> dict[str, Board]:
    """The board whose gcc flags measure each core (the M33 with DSP and FPU: the larger build)."""
    from tinyc.board import load_board

    boards = {core: load_board(name) for core, name in MEASURED_ON.items()}
    boards["cortex-m33"] = replace(boards["cortex-m33"], core="cortex-m33", fpu="fpv5-sp-d16", dsp=True)
    return boards


def family_sources() -> list[Path]:
    return sorted(runtime_dir().glob("tinyc_*.c"))


# conv2d counts all three conv families: which one a layer calls depends on its shape, not in the report.
OP_FAMILY = {"conv2d": ("tinyc_conv", "tinyc_depthwise", "tinyc_pointwise"), "dense": "tinyc_dense",
             "matmul": "tinyc_dense", "add": "tinyc_elementwise",
             "sub": "tinyc_elementwise", "mul": "tinyc_elementwise", "unary": "tinyc_elementwise",
             "div": "tinyc_elementwise", "pow": "tinyc_elementwise", "max": "tinyc_elementwise",
             "min": "tinyc_elementwise", "where": "tinyc_elementwise",
             "prelu": "tinyc_elementwise", "maxpool": "tinyc_pool", "avgpool": "tinyc_pool", "lstm": "tinyc_rnn",
             "gru": "tinyc_rnn", "rnn": "tinyc_rnn", "softmax": "tinyc_softmax", "concat": "tinyc_tensor",
             "pad": "tinyc_tensor", "transpose": "tinyc_tensor", "strided_copy": "tinyc_tensor",
             "gather": "tinyc_tensor", "gather_indexed": "tinyc_tensor", "constant": "tinyc_tensor",
             "resize": "tinyc_resize", "dense_kp": "tinyc_kronecker", "gru_kp": "tinyc_rnn_kp",
             "log_softmax": "tinyc_softmax", "reduce": "tinyc_reduce", "cumsum": "tinyc_reduce",
             "normalize": "tinyc_norm", "lrn": "tinyc_norm", "conv_transpose2d": "tinyc_conv_transpose",
             "argmax": "tinyc_arg", "topk": "tinyc_arg", "quantize": "tinyc_quantize",
             "dequantize": "tinyc_quantize"}
# and on a core with Helium (tinyc.board.has_helium) these as well: the kernels its graphs call instead
HELIUM_OP_FAMILY = {"conv2d": "tinyc_conv_chunked"}
# Measured on the shared models (kws_dscnn, vww_mobilenetv1: 70-115 B a layer on cortex-m0plus):
PER_LAYER_BYTES = 128  # one call in the schedule and its const params struct (arrays are weights)
STARTUP_BYTES = 1024  # vector table, reset handler, memcpy and memset
SOFT_FLOAT_BYTES = 4096  # float32 without an FPU: libgcc's single-precision routines (3,984 B on M0+)
LIBM_BYTES = 3072  # float32 softmax, sigmoid/tanh and RNNs call newlib's expf/tanhf (2.5-3.1 KiB)
LIBM_OPS = {"softmax", "unary", "lstm", "gru", "gru_kp", "rnn", "pow", "log_softmax", "reduce", "normalize",
            "lrn"}  # expf, ...
NAME_WIDTH = 40  # layer names in messages are cut to this (TensorFlow exports make very long ones)


def _is_view(op: str) -> bool:
    return op in ops.REGISTRY and ops.get(op).is_view


def _as_tuple(families: str | tuple[str, ...]) -> tuple[str, ...]:
    return families if isinstance(families, tuple) else (families,)


def estimated_code_bytes(report: dict, board: Board) -> int:
    """Upper bound of the flash a firmware needs besides the weights, from the layers' ops:
    kernel families, schedule, startup, and float support on float32 models."""
    kernels = [layer for layer in report["layers"] if not _is_view(layer["op"])]
    # each layer's own dtype: a mixed-precision model has float32 layers inside an int8 one
    by_dtype = {dt: [k["op"] for k in kernels if k.get("dtype", report["dtype"]) == dt] for dt in ("int8", "float32")}
    code = STARTUP_BYTES + PER_LAYER_BYTES * len(kernels)
    table = family_bytes(board.core)
    for dtype, kernel_ops in by_dtype.items():
        largest = max(sizes[dtype] for sizes in table.values())
        # an op this table does not know yet counts as the largest family, never as nothing
        families = {f for op in kernel_ops for f in _as_tuple(OP_FAMILY.get(op, op))}
        if has_helium(board):
            families |= {HELIUM_OP_FAMILY[op] for op in kernel_ops if op in HELIUM_OP_FAMILY}
        if any(k.get("format", "dense") == "csr" or ":" in k.get("format", "") for k in kernels
               if k["op"] in kernel_ops):
            families |= {"tinyc_sparse", "tinyc_sparse_conv"}  # the layer's op is not known here: both, an upper bound
        code += sum(table[f][dtype] if f in table else largest for f in families)
    if by_dtype["float32"]:
        code += SOFT_FLOAT_BYTES if board.fpu == "none" else 0
        code += LIBM_BYTES if LIBM_OPS & set(by_dtype["float32"]) else 0
    return code


@dataclass(frozen=True)
class Plan:
    """What a model needs of a board, in bytes."""

    weights: int
    code: int
    code_estimated: bool  # code is estimated_code_bytes(), not a built firmware's
    arena: int
    stack: int
    flash_limit: int
    ram_limit: int

    @property
    def flash(self) -> int:
        return self.weights + self.code

    @property
    def ram(self) -> int:
        return self.arena + self.stack

    @property
    def fits(self) -> dict:
        """report["fits"]."""
        return {"flash": self.flash <= self.flash_limit, "ram": self.ram <= self.ram_limit}


def plan(report: dict, board: Board) -> Plan:
    """The planned flash and RAM of a report's model on a board."""
    code = report["flash"]["code"]
    return Plan(weights=report["flash"]["weights"],
                code=estimated_code_bytes(report, board) if code is None else code,
                code_estimated=code is None, arena=report["ram"]["total"], stack=STACK_BYTES,
                flash_limit=board.flash_limit, ram_limit=board.ram_size)


def fits(report: dict, board: Board) -> dict:
    """report["fits"] ({"flash": bool, "ram": bool}), without raising."""
    return plan(report, board).fits


def check_fit(report: dict, board: Board) -> dict:
    """report["fits"]; raises DoesNotFit, in one line, when the model is larger than the board."""
    p = plan(report, board)
    problems = []
    if not p.fits["flash"]:
        code = f"code ~{p.code:,} B is an estimate" if p.code_estimated else f"code {p.code:,} B"
        top = _largest_layer(report, "weights", "layer")
        largest = (f"weights {p.weights:,} B are the largest part{top}" if p.weights >= p.code
                   else f"code {p.code:,} B is the largest part")
        problems.append(f"flash needs {p.flash:,} B of {p.flash_limit:,} B ({p.flash - p.flash_limit:,} B over; "
                        f"{largest}; {code})")
    if not p.fits["ram"]:
        top = _largest_layer(report, "output", "output")
        largest = (f"arena {p.arena:,} B is the largest part{top}" if p.arena >= p.stack
                   else f"the stack allowance {p.stack:,} B is the largest part")
        problems.append(f"RAM needs {p.ram:,} B of {p.ram_limit:,} B ({p.ram - p.ram_limit:,} B over; "
                        f"{largest}; stack allowance {p.stack:,} B)")
    if problems:
        raise DoesNotFit(f"{report['name']} does not fit {board.name}: {'; '.join(problems)}")
    return p.fits


def _largest_layer(report: dict, key: str, what: str) -> str:
    """', largest layer 'x' N B': the layer with the most weights, or the largest output, where
    compressing or splitting helps most."""
    layers = [layer for layer in report["layers"] if layer[key] > 0]
    if not layers:
        return ""
    top = max(layers, key=lambda layer: layer[key])  # the first of equals: deterministic
    name = top["name"] if len(top["name"]) <= NAME_WIDTH else top["name"][: NAME_WIDTH - 3] + "..."
    return f", largest {what} {name!r} {top[key]:,} B"
