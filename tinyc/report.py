"""The RAM/flash report (OUT/report.json, CONTRACT.md) and its text table.

It reads a planned graph and never changes it, builds nothing and prints nothing.
"""

from __future__ import annotations

import numpy as np

from tinyc import ops
from tinyc.ir import Graph, Node
from tinyc.passes.plan import MemoryPlan


def params_bytes(params: dict) -> int:
    """Bytes of the numpy arrays in a KernelCall's params, nested structs included: the
    codegen emits each as a separate const array in flash. Scalars sit in the struct and
    are not counted."""
    total = 0
    for value in params.values():
        if isinstance(value, np.ndarray):
            total += value.nbytes
        elif isinstance(value, dict):
            total += params_bytes(value)
    return total


def _const_inputs(node: Node, g: Graph) -> list[str]:
    return [i for i in node.inputs if i and g.tensors[i].is_const]


def _node_params_bytes(node: Node, g: Graph) -> int:
    op = ops.get(node.op)
    return 0 if op.is_view else params_bytes(op.kernel(node, g).params)


def _macs(node: Node, g: Graph) -> int:
    in_shapes = [g.tensors[i].shape if i else None for i in node.inputs]
    out_shapes = [g.tensors[o].shape if o else None for o in node.outputs]
    return int(ops.get(node.op).macs(node, in_shapes, out_shapes))


def _layer(node: Node, g: Graph, mem: MemoryPlan) -> dict:
    consts = _const_inputs(node, g)
    out = node.first_output
    return {
        "name": node.name,
        "op": node.op,
        "format": g.tensors[consts[0]].format if consts else "-",  # the weight comes first
        "macs": _macs(node, g),
        "weights": sum(g.tensors[c].nbytes for c in consts) + _node_params_bytes(node, g),
        "output": g.tensors[out].nbytes,
        "offset": mem.offsets[out],
    }


def build_report(
    g: Graph,
    mem: MemoryPlan,
    name: str,
    board: str | None = None,
    dtype: str | None = None,
    *,
    board_flash: int | None = None,
    board_ram: int | None = None,
    code: int | None = None,
) -> dict:
    """The report.json document (CONTRACT.md), sizes in bytes; `measured` and `accuracy` are null.

    flash.weights counts every constant tensor some node reads, once (int8 1 byte,
    int32/float32 4 bytes per element), plus the numpy arrays in each kernel call's params
    (multipliers, shifts, tables). A layer's `weights` counts the same for its own node, so
    a constant shared by two layers appears in both rows but once in the total.
    board_flash / board_ram are the board's sizes and `code` the built code's flash bytes;
    without them the fields that need them are null. dtype defaults to the graph's own.
    """
    dtype = dtype or ("int8" if g.is_int8 else "float32")
    layers = [_layer(node, g, mem) for node in g.nodes]
    used = {c for node in g.nodes for c in _const_inputs(node, g)}
    weights = sum(g.tensors[c].nbytes for c in sorted(used)) + sum(_node_params_bytes(n, g) for n in g.nodes)
    ram = mem.arena  # scratch is planned inside the arena, and so are the inputs and outputs
    flash_total = None if code is None else weights + code
    fits_flash = None
    if board_flash is not None:
        if flash_total is not None:
            fits_flash = flash_total <= board_flash
        elif weights > board_flash:  # too big whatever the code size
            fits_flash = False
    return {
        "name": name,
        "board": board,
        "dtype": dtype,
        "macs": sum(layer["macs"] for layer in layers),
        "ram": {"arena": mem.arena, "lower_bound": mem.lower_bound, "total": ram},
        "flash": {"weights": weights, "code": code, "total": flash_total},
        "fits": {"flash": fits_flash, "ram": None if board_ram is None else ram <= board_ram},
        "layers": layers,
        "measured": None,
        "accuracy": None,
    }


def _fmt(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _short(name: str, width: int = 40) -> str:
    return name if len(name) <= width else name[: width - 3] + "..."


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "NO")


COLUMNS = [("layer", "name", "<"), ("op", "op", "<"), ("format", "format", "<"), ("MACs", "macs", ">"),
           ("weights B", "weights", ">"), ("output B", "output", ">"), ("offset", "offset", ">")]


def format_table(report: dict) -> str:
    """The report as fixed-width text, like STM32Cube.AI's `analyze`: header, one row per
    layer, totals. Deterministic: the same report gives the same text."""
    ram, flash, fits = report["ram"], report["flash"], report["fits"]
    header = [
        f"model      {report['name']}",
        f"dtype      {report['dtype']}",
        f"board      {report['board'] or '-'}",
        f"MACs       {_fmt(report['macs'])}",
        f"RAM        arena {_fmt(ram['arena'])} B (lower bound {_fmt(ram['lower_bound'])} B),"
        f" total {_fmt(ram['total'])} B",
        f"flash      weights {_fmt(flash['weights'])} B, code {_fmt(flash['code'])} B, total {_fmt(flash['total'])} B",
        f"fits       flash {_yes_no(fits['flash'])}, RAM {_yes_no(fits['ram'])}",
    ]
    text_keys = ("name", "op", "format")
    cells = [[_short(str(layer[key])) if key in text_keys else _fmt(layer[key]) for _, key, _ in COLUMNS]
             for layer in report["layers"]]
    totals = ["total", "", "", _fmt(report["macs"]), _fmt(flash["weights"]), "", ""]
    titles = [title for title, _, _ in COLUMNS]
    widths = [max(len(row[i]) for row in [titles, totals, *cells]) for i in range(len(COLUMNS))]

    def line(row: list[str]) -> str:
        return "  ".join(f"{c:{align}{w}}" for c, w, (_, _, align) in zip(row, widths, COLUMNS)).rstrip()

    rule = "-" * len(line(["-" * w for w in widths]))
    return "\n".join([*header, "", line(titles), rule, *map(line, cells), rule, line(totals)]) + "\n"
