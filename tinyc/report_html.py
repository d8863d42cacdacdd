"""OUT/report.html: the report as one self-contained page (no scripts, no external files): summary,
planned vs measured, accuracy, the memory plan drawn as arena offset against schedule step, the
sensitivity plot, and the per-layer table. Reads a report dict and a plan; writes nothing itself.
"""

from __future__ import annotations

from html import escape

from tinyc import fit, report
from tinyc.board import Board
from tinyc.planner import Buffer

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1100px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; }
table { border-collapse: collapse; } td, th { padding: 3px 10px; border-bottom: 1px solid #e4e4e4; }
th { text-align: left; background: #f4f4f4; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.no { color: #b00020; font-weight: bold; } .yes { color: #1b7f3b; } .muted { color: #777; }
"""


def _n(value) -> str:
    return "-" if value is None else f"{value:,}"


def _yes_no(value: bool | None) -> str:
    if value is None:
        return '<span class="muted">unknown</span>'
    return '<span class="yes">yes</span>' if value else '<span class="no">NO</span>'


def _rows(rows: list[tuple[str, str]]) -> str:
    return "<table>" + "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in rows) + "</table>"


def memory_svg(buffers: list[Buffer], offsets: dict[str, int], arena: int, steps: int, labels: list[str],
               width: int = 900, height: int = 360) -> str:
    """Arena offset (bytes, up) against schedule step (right): one box per tensor or scratch block for
    the steps it is alive, the arena's top and the step of peak live bytes marked."""
    left, right, top, bottom = 70, 20, 20, 40
    pw, ph = width - left - right, height - top - bottom
    steps, arena = max(steps, 1), max(arena, 1)
    owners = [b for b in buffers if b.alias_of is None and b.size > 0]
    live = [sum(b.size for b in owners if b.first <= s <= b.last) for s in range(steps)]
    peak = max(range(steps), key=lambda s: live[s]) if live else 0
    peak_label = escape(labels[peak]) if peak < len(labels) else ""

    def x(step: float) -> float:
        return left + step / steps * pw

    def y(offset: float) -> float:
        return top + ph - offset / arena * ph

    out = [f'<svg id="memory-plan" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fafafa" stroke="#444"/>']
    for i, b in enumerate(sorted(owners, key=lambda b: (b.first, offsets.get(b.name, 0)))):
        off = offsets.get(b.name, 0)
        colour = "#e69f00" if b.name.endswith("#scratch") else ("#0072b2", "#56b4e9", "#009e73")[i % 3]
        base, end = round(y(off), 1), round(min(y(off + b.size), y(off) - 1), 1)  # at least 1 px tall
        out.append(f'<rect class="tensor" x="{x(b.first):.1f}" y="{end:.1f}" '
                   f'width="{x(b.last + 1) - x(b.first):.1f}" height="{base - end:.1f}" '
                   f'fill="{colour}" fill-opacity="0.75" stroke="#fff" stroke-width="0.5">'
                   f'<title>{escape(b.name)}: {b.size:,} B at offset {off:,}, steps {b.first}-{b.last}</title></rect>')
    out.append(f'<rect class="peak" x="{x(peak):.1f}" y="{top}" width="{pw / steps:.1f}" height="{ph}" fill="none" '
               f'stroke="#d55e00" stroke-width="2" stroke-dasharray="6 3"><title>peak: step {peak} ({peak_label}), '
               f'{live[peak] if live else 0:,} B live</title></rect>'
               f'<text x="{x(peak) + pw / steps / 2:.1f}" y="{top - 6}" text-anchor="middle" '
               f'fill="#d55e00">peak</text>')
    out.append(f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{arena:,} B</text>'
               f'<text x="{left - 6}" y="{top + ph}" text-anchor="end">0</text>'
               f'<text x="{left + pw / 2:.0f}" y="{height - 8}" text-anchor="middle">schedule step (0 to '
               f'{steps - 1}); peak live bytes at step {peak} (dashed)</text>'
               f'<text transform="translate(14 {top + ph / 2:.0f}) rotate(-90)" text-anchor="middle">'
               f'arena offset (bytes)</text></svg>')
    return "\n".join(out)


def _measured_table(doc: dict, board: Board | None) -> str:
    m, flash = doc["measured"], doc["flash"]
    code = flash["code"] if flash["code"] is not None else (fit.estimated_code_bytes(doc, board) if board else None)
    rows = [("flash: weights", flash["weights"], "rodata", m["rodata"]),
            ("flash: code", code, "text + data", m["text"] + m["data"]),
            ("RAM: arena", doc["ram"]["total"], "data + bss", m["data"] + m["bss"]),
            ("RAM: stack", fit.STACK_BYTES, "stack used", m["ram"] - m["data"] - m["bss"])]
    body = "".join(f"<tr><td>{part}</td><td class='n'>{_n(planned)}</td><td>{what}</td><td class='n'>{_n(got)}</td>"
                   f"<td class='n'>{'-' if planned is None else f'{got - planned:+,}'}</td></tr>"
                   for part, planned, what, got in rows)
    inst = "-" if m["instructions"] is None else f"{m['instructions']:,} per inference (QEMU -icount, not cycles)"
    return ('<table id="measured"><tr><th>part</th><th>planned B</th><th>measured as</th><th>measured B</th>'
            f'<th>gap</th></tr>{body}</table><p>instructions: {inst}</p>')


def render(doc: dict, buffers: list[Buffer], offsets: dict[str, int], board: Board | None = None,
           sensitivity_svg: str | None = None) -> str:
    """The page for report dict `doc` (report.json) and its memory plan."""
    ram, flash, fits = doc["ram"], doc["flash"], doc["fits"]
    labels = [report.layer_label(i, layer["name"]) for i, layer in enumerate(doc["layers"])]
    summary = [("dtype", escape(doc["dtype"])), ("board", escape(doc["board"] or "-")), ("MACs", _n(doc["macs"])),
               ("RAM", f"arena {_n(ram['arena'])} B (lower bound {_n(ram['lower_bound'])} B), "
                       f"total {_n(ram['total'])} B"),
               ("flash", f"weights {_n(flash['weights'])} B, code {_n(flash['code'])} B, total {_n(flash['total'])} B"),
               ("fits", f"flash {_yes_no(fits['flash'])}, RAM {_yes_no(fits['ram'])}")]
    if board is not None:
        p = fit.plan(doc, board)
        summary.append(("plan", f"flash {p.flash:,} of {p.flash_limit:,} B; RAM {p.ram:,} of {p.ram_limit:,} B "
                                f"(stack allowance {p.stack:,} B)"))
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>tinyc report: "
             f"{escape(doc['name'])}</title><style>{STYLE}</style></head><body>",
             f"<h1>{escape(doc['name'])}</h1><p class='muted'>generated by tinyc</p>",
             f"<section id='summary'>{_rows(summary)}</section>"]
    if report.instructions_line(doc):
        parts.append(f"<h2>Instructions</h2><p id='instructions'>{escape(report.instructions_line(doc))}</p>")
    if doc.get("measured"):
        parts.append(f"<h2>Planned vs measured</h2><section>{_measured_table(doc, board)}</section>")
    if doc.get("accuracy"):
        acc = [(k, f"{v:.2f} %") for k, v in doc["accuracy"].items() if v is not None]
        parts.append(f"<h2>Accuracy</h2><section id='accuracy'>{_rows(acc)}</section>")
    steps = len(doc["layers"])
    parts.append("<h2>Memory plan</h2><p>Each box is a tensor (blue/green) or kernel scratch (orange) in the "
                 "arena, for the steps it is alive; hover for its name and size.</p>"
                 + memory_svg(buffers, offsets, ram["arena"], steps, labels))
    if sensitivity_svg:
        parts.append("<h2>Sensitivity</h2><section id='sensitivity'>" + sensitivity_svg + "</section>")
    predicted = any("instructions_predicted" in layer for layer in doc["layers"])
    head = ("<tr><th>layer</th><th>op</th><th>format</th><th>MACs</th><th>weights B</th><th>output B</th>"
            "<th>offset</th>" + ("<th>instructions (predicted)</th>" if predicted else "") + "</tr>")
    body = "".join(f"<tr><td title='{escape(layer['name'], quote=True)}'>{escape(label)}</td>"
                   f"<td>{escape(layer['op'])}</td><td>{escape(layer['format'])}</td>"
                   f"<td class='n'>{_n(layer['macs'])}</td><td class='n'>{_n(layer['weights'])}</td>"
                   f"<td class='n'>{_n(layer['output'])}</td><td class='n'>{_n(layer['offset'])}</td>"
                   + (f"<td class='n'>{_n(layer.get('instructions_predicted'))}</td>" if predicted else "") + "</tr>"
                   for label, layer in zip(labels, doc["layers"]))
    parts.append(f"<h2>Layers</h2><table id='layers'>{head}{body}</table></body></html>")
    return "\n".join(parts) + "\n"
