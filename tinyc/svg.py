"""Plots as self-contained SVG text, with no plotting library: a fresh `pip install .` has what it needs,
and identical inputs give identical bytes. Nothing here reads or writes files.
"""

from __future__ import annotations

import math
from html import escape

# a colour-blind-safe cycle (Okabe and Ito)
COLOURS = ("#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9", "#f0e442", "#000000")


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About `count` round tick values, the first <= lo and the last >= hi."""
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / count
    step = 10 ** int(f"{raw:e}".split("e")[1])
    for m in (1, 2, 5, 10):
        if raw <= m * step:
            step *= m
            break
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    return [i * step for i in range(first, last + 1)]


def _num(v: float) -> str:
    return f"{v:.6g}"


def line_plot(series: dict[str, list[float]], xs: list[float], *, title: str, xlabel: str, ylabel: str,
              width: int = 720, height: int = 440) -> str:
    """An SVG line plot: one polyline with markers per named series, all over the same xs."""
    left, right, top, bottom = 64, 220, 36, 52  # room for tick labels, the legend and the titles
    height = max(height, top + bottom + 16 * len(series))  # every legend entry gets its line
    values = [v for ys in series.values() for v in ys if math.isfinite(v)] or [0.0]
    y_ticks = _ticks(min(min(values), 0.0), max(values))
    x_ticks = _ticks(min(xs), max(xs))
    x0, x1, y0, y1 = x_ticks[0], x_ticks[-1], y_ticks[0], y_ticks[-1]
    pw, ph = width - left - right, height - top - bottom

    def px(x: float) -> str:
        return _num(left + (x - x0) / (x1 - x0) * pw)

    def py(y: float) -> str:
        return _num(top + ph - (y - y0) / (y1 - y0) * ph)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f'<text x="{left + pw / 2:g}" y="20" text-anchor="middle" font-size="14">{escape(title)}</text>',
           f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>']
    for t in y_ticks:
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{py(t)}" y2="{py(t)}" stroke="#ddd"/>'
                   f'<text x="{left - 6}" y="{py(t)}" text-anchor="end" dominant-baseline="middle">{t:g}</text>')
    for t in x_ticks:
        out.append(f'<line x1="{px(t)}" x2="{px(t)}" y1="{top}" y2="{top + ph}" stroke="#ddd"/>'
                   f'<text x="{px(t)}" y="{top + ph + 16}" text-anchor="middle">{t:g}</text>')
    out.append(f'<text x="{left + pw / 2:g}" y="{height - 12}" text-anchor="middle">{escape(xlabel)}</text>')
    out.append(f'<text transform="translate(16 {top + ph / 2:g}) rotate(-90)" text-anchor="middle">'
               f'{escape(ylabel)}</text>')
    for i, (name, ys) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        finite = [(x, y) for x, y in zip(xs, ys) if math.isfinite(y)]
        points = " ".join(f"{px(x)},{py(y)}" for x, y in finite)
        out.append(f'<g class="series"><title>{escape(name)}</title>'
                   f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
        out.extend(f'<circle cx="{px(x)}" cy="{py(y)}" r="2.5" fill="{colour}"/>' for x, y in finite)
        out.append("</g>")
        label = name if len(name) <= 30 else name[:27] + "..."
        ly = top + 8 + 16 * i
        out.append(f'<line x1="{left + pw + 12}" x2="{left + pw + 32}" y1="{ly}" y2="{ly}" stroke="{colour}" '
                   f'stroke-width="2"/><text x="{left + pw + 38}" y="{ly}" dominant-baseline="middle">'
                   f'{escape(label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
