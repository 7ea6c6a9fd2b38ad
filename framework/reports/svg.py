"""Hand-made SVG plots for the HTML report: no plotting library, no network, stable output.

Each function returns one ``<svg class="plot">`` element; its marks live in ``<g class="data">``
so a browser test can check that something was drawn. Values are escaped; axes are log10 where
the data span decades (latencies from microcontrollers to host CPUs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

COLORS = {"measured-host": "#1f77b4", "measured-board": "#2ca02c", "tool-estimate": "#ff7f0e",
          "model-estimate": "#9467bd"}
VERDICT_COLORS = {"fits internal": "#2ca02c", "needs external": "#ff7f0e", "does not fit": "#d62728"}


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    color: str
    title: str


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    color: str
    title: str


def _log_ticks(lo: float, hi: float) -> list[float]:
    return [10.0 ** e for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)]


def _tick_text(v: float) -> str:
    return f"{v:g}"


class LogScale:
    """Maps positive values to pixels on a decade-aligned log10 axis."""

    def __init__(self, values: list[float], start: float, end: float):
        positive = [v for v in values if v > 0] or [1.0]
        self.lo = 10.0 ** math.floor(math.log10(min(positive)))
        self.hi = 10.0 ** math.ceil(math.log10(max(positive)))
        if self.hi <= self.lo:
            self.hi = self.lo * 10
        self.start, self.end = start, end

    def __call__(self, v: float) -> float:
        v = max(v, self.lo)
        frac = (math.log10(v) - math.log10(self.lo)) / (math.log10(self.hi) - math.log10(self.lo))
        return self.start + frac * (self.end - self.start)

    def ticks(self) -> list[float]:
        return _log_ticks(self.lo, self.hi)


class LinearScale:
    def __init__(self, lo: float, hi: float, start: float, end: float):
        self.lo, self.hi = lo, hi if hi > lo else lo + 1
        self.start, self.end = start, end

    def __call__(self, v: float) -> float:
        return self.start + (v - self.lo) / (self.hi - self.lo) * (self.end - self.start)


def _svg(width: int, height: int, label: str, body: list[str]) -> str:
    return (f'<svg class="plot" role="img" aria-label="{escape(label)}" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">' + "".join(body) + "</svg>")


def bar_chart_log(bars: list[Bar], axis_label: str, label_width: int = 330, width: int = 900) -> str:
    """Horizontal bars on a log axis, one per labelled value."""
    row_h, top, bottom = 18, 10, 40
    height = top + bottom + row_h * len(bars)
    x = LogScale([b.value for b in bars], label_width, width - 20)
    body = ['<g class="axes">']
    for t in x.ticks():
        px = x(t)
        body.append(f'<line x1="{px:.1f}" y1="{top}" x2="{px:.1f}" y2="{height - bottom}" stroke="#ddd"/>')
        body.append(f'<text x="{px:.1f}" y="{height - bottom + 14}" font-size="11" text-anchor="middle">'
                    f'{_tick_text(t)}</text>')
    body.append(f'<text x="{(label_width + width) / 2:.0f}" y="{height - 8}" font-size="12" text-anchor="middle">'
                f'{escape(axis_label)}</text></g><g class="data">')
    for i, b in enumerate(bars):
        y = top + i * row_h
        w = max(x(b.value) - label_width, 1.0)
        body.append(f'<text x="{label_width - 6}" y="{y + 13}" font-size="11" text-anchor="end">'
                    f'{escape(b.label)}</text>')
        body.append(f'<rect x="{label_width}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" fill="{b.color}">'
                    f'<title>{escape(b.title)}</title></rect>')
    body.append("</g>")
    return _svg(width, height, axis_label, body)


def scatter(points: list[Point], x_label: str, y_label: str, log_x: bool = True, log_y: bool = False,
            diagonal: bool = False, y_range: tuple[float, float] | None = None, width: int = 560,
            height: int = 380) -> str:
    """Points with axes; ``diagonal`` draws y = x (for estimate against measurement)."""
    left, right, top, bottom = 60, 20, 15, 45
    xs, ys = [p.x for p in points], [p.y for p in points]
    if diagonal:
        xs = ys = xs + ys
    x = LogScale(xs, left, width - right) if log_x else LinearScale(min(xs), max(xs), left, width - right)
    if log_y:
        y: LogScale | LinearScale = LogScale(ys, height - bottom, top)
    else:
        lo, hi = y_range or (0.0, max(max(ys), 1.0) * 1.05)
        y = LinearScale(lo, hi, height - bottom, top)
    body = ['<g class="axes">',
            f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="#333"/>',
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="#333"/>']
    xticks = x.ticks() if isinstance(x, LogScale) else [x.lo, (x.lo + x.hi) / 2, x.hi]
    yticks = y.ticks() if isinstance(y, LogScale) else [y.lo + (y.hi - y.lo) * k / 4 for k in range(5)]
    for t in xticks:
        body.append(f'<text x="{x(t):.1f}" y="{height - bottom + 14}" font-size="11" text-anchor="middle">'
                    f'{_tick_text(round(t, 3))}</text>')
    for t in yticks:
        body.append(f'<text x="{left - 4}" y="{y(t) + 4:.1f}" font-size="11" text-anchor="end">'
                    f'{_tick_text(round(t, 3))}</text>')
    body.append(f'<text x="{(left + width) / 2:.0f}" y="{height - 8}" font-size="12" text-anchor="middle">'
                f'{escape(x_label)}</text>')
    body.append(f'<text x="14" y="{(top + height - bottom) / 2:.0f}" font-size="12" text-anchor="middle" '
                f'transform="rotate(-90 14 {(top + height - bottom) / 2:.0f})">{escape(y_label)}</text>')
    if diagonal:
        lo, hi = max(x.lo, y.lo), min(x.hi, y.hi)
        body.append(f'<line x1="{x(lo):.1f}" y1="{y(lo):.1f}" x2="{x(hi):.1f}" y2="{y(hi):.1f}" '
                    'stroke="#999" stroke-dasharray="4 3"/>')
    body.append('</g><g class="data">')
    for p in points:
        body.append(f'<circle cx="{x(p.x):.1f}" cy="{y(p.y):.1f}" r="5" fill="{p.color}" fill-opacity="0.8">'
                    f'<title>{escape(p.title)}</title></circle>')
    body.append("</g>")
    return _svg(width, height, f"{y_label} against {x_label}", body)


def capacity_bars(items: list[tuple[str, float, float, float, str]], width: int = 900) -> str:
    """Per (label, need, internal, external, verdict): the need against internal and internal+external memory."""
    label_width, row_h, top, bottom = 260, 26, 10, 40
    height = top + bottom + row_h * len(items)
    x = LogScale([v for _, n, i, e, _ in items for v in (n, i, i + e)], label_width, width - 20)
    body = ['<g class="axes">']
    for t in x.ticks():
        body.append(f'<line x1="{x(t):.1f}" y1="{top}" x2="{x(t):.1f}" y2="{height - bottom}" stroke="#eee"/>'
                    f'<text x="{x(t):.1f}" y="{height - bottom + 14}" font-size="11" text-anchor="middle">'
                    f'{_tick_text(t)}</text>')
    body.append(f'<text x="{(label_width + width) / 2:.0f}" y="{height - 8}" font-size="12" text-anchor="middle">'
                'KiB (bar: what the model needs; grey tick: internal memory; black tick: with external)</text>'
                '</g><g class="data">')
    for k, (label, need, internal, external, verdict) in enumerate(items):
        y = top + k * row_h
        color = VERDICT_COLORS.get(verdict, "#7f7f7f")
        body.append(f'<text x="{label_width - 6}" y="{y + 16}" font-size="11" text-anchor="end">{escape(label)}</text>')
        body.append(f'<rect x="{label_width}" y="{y + 5}" width="{max(x(need) - label_width, 1):.1f}" height="14" '
                    f'fill="{color}"><title>{escape(f"{label}: needs {need:,.1f} KiB, {verdict}")}</title></rect>')
        for cap, stroke in ((internal, "#888"), (internal + external, "#000")):
            if cap > 0:
                body.append(f'<line x1="{x(cap):.1f}" y1="{y + 2}" x2="{x(cap):.1f}" y2="{y + 22}" stroke="{stroke}" '
                            f'stroke-width="2"><title>{cap:,.0f} KiB</title></line>')
    body.append("</g>")
    return _svg(width, height, "memory needed against the board's memory", body)
