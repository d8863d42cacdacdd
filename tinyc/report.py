"""The RAM/flash report (OUT/report.json, CONTRACT.md) and its text table.

It reads a planned graph and never changes it, builds nothing and prints nothing.
"""

from __future__ import annotations

import numpy as np

from tinyc import fit, ops
from tinyc.board import Board
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
    """The constants the node's C call references (what is emitted to flash): a compressed
    layer passes its encoding as params arrays instead of the dense weight tensor."""
    op = ops.get(node.op)
    if op.is_view:
        return []
    return [a for a in op.kernel(node, g).args if a and g.tensors[a].is_const]


def _format(node: Node, g: Graph) -> str:
    """The storage format of the node's weight (its first constant input), "-" without one."""
    weights = [i for i in node.inputs if i and g.tensors[i].is_const]
    return g.tensors[weights[0]].format if weights else "-"


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
        "dtype": g.node_dtype(node),
        "format": _format(node, g),
        "macs": _macs(node, g),
        "weights": sum(g.tensors[c].nbytes for c in consts) + _node_params_bytes(node, g),
        "output": g.tensors[out].nbytes,
        "offset": mem.offsets[out],
    }


def io_tensors(g: Graph, names: list[str]) -> list[dict]:
    """report.json's `inputs` / `outputs`: what the generated header says of each I/O tensor, so a firmware or
    a script can quantize inputs and read outputs without it. scale is the float32 the header's _SCALE macro
    holds; scale and zero_point are null where the tensor is not int8."""
    result = []
    for n in names:
        t = g.tensors[n]
        quantized = t.dtype == "int8" and t.q is not None
        result.append({"name": n, "shape": [int(d) for d in t.shape], "dtype": t.dtype,
                       "scale": float(np.float32(t.q.scale[0])) if quantized else None,
                       "zero_point": int(t.q.zero_point[0]) if quantized else None})
    return result


def build_report(g: Graph, mem: MemoryPlan, name: str, board: Board | None = None, dtype: str | None = None,
                 *, code: int | None = None) -> dict:
    """The report.json document (CONTRACT.md), sizes in bytes; `measured` and `accuracy` are null.

    flash.weights counts every constant tensor some kernel call references, once (int8 1 byte,
    int32/float32 4 bytes per element), plus the numpy arrays in each kernel call's params
    (multipliers, shifts, tables). A layer's `weights` counts the same for its own node, so
    a constant shared by two layers appears in both rows but once in the total.
    `code` is the built firmware's code bytes, None before a build. With a board, `fits`
    is fit.fits() (code estimated while unknown); it never raises: fit.check_fit() does.
    dtype defaults to the graph's own.
    """
    dtype = dtype or ("int8" if g.is_int8 else "float32")
    layers = [_layer(node, g, mem) for node in g.nodes]
    used = {c for node in g.nodes for c in _const_inputs(node, g)}
    weights = sum(g.tensors[c].nbytes for c in sorted(used)) + sum(_node_params_bytes(n, g) for n in g.nodes)
    ram = mem.arena  # scratch is planned inside the arena, and so are the inputs and outputs
    doc = {
        "name": name,
        "board": None if board is None else board.name,
        "dtype": dtype,
        "macs": sum(layer["macs"] for layer in layers),
        "ram": {"arena": mem.arena, "lower_bound": mem.lower_bound, "total": ram,
                "classic_lower_bound": mem.classic_lower_bound, "savings": dict(mem.savings)},
        "flash": {"weights": weights, "code": code, "total": None if code is None else weights + code},
        "fits": {"flash": None, "ram": None},
        "layers": layers,
        "measured": None,
        "accuracy": None,
        "inputs": io_tensors(g, g.inputs),
        "outputs": io_tensors(g, g.outputs),
    }
    if board is not None:
        doc["fits"] = fit.fits(doc, board)
    return doc


MEASURED_PARTS = ("text", "rodata", "data", "bss", "stack")


def measured(report: dict, elf_sizes: dict, instructions: int | None) -> dict:
    """A copy of report with `measured` filled (CONTRACT.md) from a built firmware: elf_sizes
    holds the ELF's text, rodata, data and bss bytes and the stack bytes used (the measured
    high-water mark); instructions per inference under QEMU, or None.
    flash = text + rodata + data (.data's initial values are stored in flash), ram = data + bss + stack."""
    missing = [k for k in MEASURED_PARTS if k not in elf_sizes]
    assert not missing, f"elf_sizes lacks {missing}: {elf_sizes}"
    text, rodata, data, bss, stack = (int(elf_sizes[k]) for k in MEASURED_PARTS)
    doc = dict(report)
    doc["measured"] = {"text": text, "rodata": rodata, "data": data, "bss": bss, "flash": text + rodata + data,
                       "ram": data + bss + stack, "instructions": None if instructions is None else int(instructions)}
    return doc


def with_predicted(report: dict, prediction: dict) -> dict:
    """A copy of report with the cost model's instructions (tinyc.cost_model.predict): per layer
    `instructions_predicted`, and `instructions` {"predicted", "unfitted_kernels"} for the model."""
    doc = dict(report)
    doc["layers"] = [dict(layer, instructions_predicted=p["instructions"])
                     for layer, p in zip(report["layers"], prediction["layers"])]
    doc["instructions"] = {"predicted": prediction["total"],
                           "unfitted_kernels": sorted({p["kernel"] for p in prediction["layers"] if not p["fitted"]})}
    return doc


def instructions_line(report: dict) -> str | None:
    """Predicted (and measured, once run) instructions per inference, with the gap in percent."""
    predicted = (report.get("instructions") or {}).get("predicted")
    measured = (report.get("measured") or {}).get("instructions")
    if predicted is None and measured is None:
        return None
    parts = [] if predicted is None else [f"predicted {predicted:,}"]
    if measured is not None:
        parts.append(f"measured {measured:,}")
        if predicted:
            parts.append(f"gap {(measured - predicted) / predicted:+.1%}")
    return "instructions per inference (QEMU -icount, not cycles): " + ", ".join(parts)


def _fmt(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def layer_label(index: int, name: str, width: int = 32) -> str:
    """A short readable label: the layer's index and the distinctive tail of its ONNX name.

    Exporters write long paths (TensorFlow fuses several into one name with ';'): the last path,
    less its final component (the framework op, e.g. Conv2D or BiasAdd), names the layer
    (`functional_1/depthwise_conv2d_1/BiasAdd` -> `depthwise_conv2d_1`,
    `/features/features.0/Conv` -> `features.0`)."""
    parts = [c for c in name.split(";")[-1].split("/") if c]
    tail = parts[-2] if len(parts) >= 2 else (parts[0] if parts else name)
    label = f"{index} {tail}"
    return _short(label, width)


def _short(name: str, width: int = 40) -> str:
    return name if len(name) <= width else name[: width - 3] + "..."


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "NO")


COLUMNS = [("layer", "name", "<"), ("op", "op", "<"), ("format", "format", "<"), ("MACs", "macs", ">"),
           ("weights B", "weights", ">"), ("output B", "output", ">"), ("offset", "offset", ">")]


def _gap(planned: int | None, got: int) -> str:
    return "-" if planned is None else f"{got - planned:+,}"


def _planned_code(report: dict, board: Board | None) -> tuple[int | None, str]:
    """The planned code bytes and how to show them: built, estimated (~), or unknown."""
    if report["flash"]["code"] is not None:
        return report["flash"]["code"], _fmt(report["flash"]["code"])
    if board is None:
        return None, "-"
    code = fit.estimated_code_bytes(report, board)
    return code, f"~{code:,}"


def _plan_line(report: dict, board: Board) -> str:
    p = fit.plan(report, board)
    code = f"~{p.code:,} B estimated" if p.code_estimated else f"{p.code:,} B"
    return (f"plan       flash {p.flash:,} of {p.flash_limit:,} B (weights {p.weights:,} B + code {code}); "
            f"RAM {p.ram:,} of {p.ram_limit:,} B (arena {p.arena:,} B + stack allowance {p.stack:,} B)")


def _measured_lines(report: dict, board: Board | None) -> list[str]:
    """Planned vs measured, part by part, and the gap (measured - planned), like STM32Cube.AI's
    analyze after validate: weights vs .rodata, code vs .text + .data, arena vs .data + .bss,
    stack allowance vs the stack really used."""
    m, flash = report["measured"], report["flash"]
    code, code_text = _planned_code(report, board)
    flash_total = None if code is None else flash["weights"] + code
    arena = report["ram"]["total"]
    stack = m["ram"] - m["data"] - m["bss"]
    rows = [
        ("flash  weights", "rodata", _fmt(flash["weights"]), m["rodata"], _gap(flash["weights"], m["rodata"])),
        ("       code", "text + data", code_text, m["text"] + m["data"], _gap(code, m["text"] + m["data"])),
        ("       total", "flash", _fmt(flash_total), m["flash"], _gap(flash_total, m["flash"])),
        ("RAM    arena", "data + bss", _fmt(arena), m["data"] + m["bss"], _gap(arena, m["data"] + m["bss"])),
        ("       stack", "stack used", _fmt(fit.STACK_BYTES), stack, _gap(fit.STACK_BYTES, stack)),
        ("       total", "ram", _fmt(arena + fit.STACK_BYTES), m["ram"], _gap(arena + fit.STACK_BYTES, m["ram"])),
    ]
    cells = [[part, planned, what, _fmt(got), gap] for part, what, planned, got, gap in rows]
    titles = ["planned vs measured, B", "planned", "measured as", "measured", "gap"]
    widths = [max(len(row[i]) for row in [titles, *cells]) for i in range(len(titles))]
    aligns = "<><>>"

    def line(row: list[str]) -> str:
        return "  ".join(f"{c:{a}{w}}" for c, a, w in zip(row, aligns, widths)).rstrip()

    instructions = "-" if m["instructions"] is None else f"{m['instructions']:,} per inference"
    predicted = (report.get("instructions") or {}).get("predicted")
    if predicted and m["instructions"] is not None:
        instructions += f" (predicted {predicted:,}, gap {(m['instructions'] - predicted) / predicted:+.1%})"
    return ["", line(titles), *map(line, cells), f"instructions (QEMU -icount, not cycles)  {instructions}"]


def format_table(report: dict, board: Board | None = None) -> str:
    """The report as fixed-width text, like STM32Cube.AI's `analyze`: header, planned vs
    measured when a firmware was measured, one row per layer, totals. With the board, the
    planned fit is shown too (code estimated until built). Deterministic."""
    ram, flash, fits = report["ram"], report["flash"], report["fits"]
    header = [
        f"model      {report['name']}",
        f"dtype      {report['dtype']}",
        f"board      {report['board'] or '-'}",
        f"MACs       {_fmt(report['macs'])}",
        f"RAM        arena {_fmt(ram['arena'])} B (lower bound {_fmt(ram['lower_bound'])} B),"
        f" total {_fmt(ram['total'])} B",
        f"RAM saved  in-place {_fmt(ram['savings']['in_place'])} B, op order {_fmt(ram['savings']['op_order'])} B"
        f" (liveness bound without them {_fmt(ram['classic_lower_bound'])} B)",
        f"flash      weights {_fmt(flash['weights'])} B, code {_fmt(flash['code'])} B, total {_fmt(flash['total'])} B",
        f"fits       flash {_yes_no(fits['flash'])}, RAM {_yes_no(fits['ram'])}",
    ]
    if board is not None:
        header.append(_plan_line(report, board))
    if report.get("instructions") and report["measured"] is None:
        header.append(f"instructions {report['instructions']['predicted']:,} per inference predicted "
                      "(cost model; QEMU -icount counts)")
    if report.get("accuracy"):
        acc = report["accuracy"]
        header.append("accuracy   " + ", ".join(f"{k} {v:.2f} %" for k, v in acc.items() if v is not None))
    if report.get("finetune"):
        ft = report["finetune"]
        how = "".join([", quantization-aware" if ft["qat"] else "", ", gradual pruning" if ft["gradual"] else ""])
        header.append(f"fine-tuned {ft['epochs']} epochs on {_fmt(ft['samples'])} samples, lr {ft['lr']:g}, "
                      f"seed {ft['seed']}{how}, final loss {ft['final_loss']:.4g}")
    if report["measured"] is not None:
        header += _measured_lines(report, board)
    text_keys = ("name", "op", "dtype", "format")
    # a mixed-precision model shows each layer's dtype (its float32 layers); others keep the plain table
    mixed = any(layer.get("dtype", report["dtype"]) != report["dtype"] for layer in report["layers"])
    columns = COLUMNS[:2] + [("dtype", "dtype", "<")] + COLUMNS[2:] if mixed else COLUMNS
    cells = [[layer_label(i, layer["name"]) if key == "name" else _short(str(layer[key])) if key in text_keys
              else _fmt(layer[key]) for _, key, _ in columns] for i, layer in enumerate(report["layers"])]
    totals = ["total", "", "", _fmt(report["macs"]), _fmt(flash["weights"]), "", ""]
    if mixed:
        totals.insert(2, "")
    titles = [title for title, _, _ in columns]
    widths = [max(len(row[i]) for row in [titles, totals, *cells]) for i in range(len(columns))]

    def line(row: list[str]) -> str:
        return "  ".join(f"{c:{align}{w}}" for c, w, (_, _, align) in zip(row, widths, columns)).rstrip()

    rule = "-" * len(line(["-" * w for w in widths]))
    return "\n".join([*header, "", line(titles), rule, *map(line, cells), rule, line(totals)]) + "\n"
