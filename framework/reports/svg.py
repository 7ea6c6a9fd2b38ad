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


# --- trend charts for `zoo-bench history` (small multiples: one figure over runs) -------------------

STEP_COLORS = {"regression": "#d62728", "improvement": "#2ca02c", "up": "#1f77b4", "down": "#1f77b4",
               "pending": "#555"}
TOOL_CHANGE_COLOR = "#ff7f0e"
MISSING_COLOR = "#d62728"
#: average advance of a character at font-size 11 in a sans-serif font, to lay out legends without a browser
CHAR_W = 6.4


@dataclass(frozen=True)
class TrendPoint:
    x: int  # run number, 1-based, as in the page's run table
    y: float
    low: float | None
    high: float | None
    color: str
    hollow: bool  # a run flagged as taken on a busy machine
    title: str


@dataclass(frozen=True)
class TrendMark:
    """A step (at a point) or a tool-version change (between a point and the one before it)."""

    x: int
    kind: str  # regression, improvement, up, down (steps), pending (an unconfirmed shift), tool, missing
    title: str


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (1, 2, 2.5, 5 x 10^k steps)."""
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0) * 0.1
    raw = (hi - lo) / max(count - 1, 1)
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step) * step
    ticks = []
    v = first
    while v <= hi + step * 1e-9:
        ticks.append(round(v, 12))
        v += step
    if ticks[-1] < hi:
        ticks.append(round(v, 12))
    return ticks


def compact_number(v: float) -> str:
    """A tick label of at most ~6 characters: 0.25, 12.5, 1,250, 12.5k, 3.2M."""
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.3g}M"
    if a >= 1e4:
        return f"{v / 1e3:.3g}k"
    if a >= 1000:
        return f"{v:,.0f}"
    return f"{v:.4g}"


def _swatch(kind: str, color: str, x: float, y: float) -> str:
    """A legend's sample mark at (x, baseline y), 10 px wide."""
    cx, cy = x + 5, y - 4
    if kind == "dot":
        return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="{color}"/>'
    if kind == "hollow":
        return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="#fff" stroke="{color}" stroke-width="1.5"/>'
    if kind == "whisker":
        return f'<line x1="{cx:.1f}" y1="{cy - 6:.1f}" x2="{cx:.1f}" y2="{cy + 5:.1f}" stroke="{color}"/>'
    if kind == "level":
        return (f'<line x1="{x:.1f}" y1="{cy:.1f}" x2="{x + 10:.1f}" y2="{cy:.1f}" stroke="{color}" '
                'stroke-dasharray="3 2"/>')
    if kind == "tool":
        return (f'<line x1="{cx:.1f}" y1="{cy - 6:.1f}" x2="{cx:.1f}" y2="{cy + 5:.1f}" stroke="{color}" '
                'stroke-width="2" stroke-dasharray="3 2"/>')
    if kind == "missing":
        return f'<path d="M{x + 1:.1f} {cy - 4:.1f} l8 8 m0 -8 l-8 8" stroke="{color}" stroke-width="2"/>'
    if kind == "pending":
        return f'<path d="M{cx:.1f} {cy + 5:.1f} l-5 -9 h10 z" fill="#fff" stroke="{color}"/>'
    return f'<path d="M{cx:.1f} {cy + 5:.1f} l-5 -9 h10 z" fill="{color}"/>'  # a step


def _legend(items: list[tuple[str, str, str]], x0: float, y0: float, width: float) -> tuple[list[str], float]:
    """(swatch kind, colour, text) items flowing left to right, wrapping at ``width``; the marks and the height."""
    body, x, y, row_h = ['<g class="legend">'], x0, y0, 15
    for kind, color, text in items:
        w = 14 + CHAR_W * len(text) + 12
        if x > x0 and x + w > x0 + width:
            x, y = x0, y + row_h
        body.append(_swatch(kind, color, x, y))
        body.append(f'<text x="{x + 14:.1f}" y="{y:.1f}" font-size="11">{escape(text)}</text>')
        x += w
    body.append("</g>")
    return body, y - y0 + row_h


def trend_chart(points: list[TrendPoint], marks: list[TrendMark], levels: list[tuple[int, int, float]],
                y_label: str, title: str, legend_colors: dict[str, str], width: int = 430) -> str:
    """One figure over runs: a dot per run (its 95 % interval as a whisker when there are raw samples), the
    level of each segment between steps, a triangle at each step, a dashed line where a tool's version changed,
    and a legend naming exactly what is drawn (``legend_colors``: method -> colour of the dots)."""
    left, right, top, plot_h = 58, 14, 14, 150
    items = [("dot", color, method) for method, color in legend_colors.items()]
    if any(p.low is not None for p in points):
        items.append(("whisker", "#333", "95 % interval"))
    if levels:
        items.append(("level", "#888", "level between steps"))
    if any(p.hollow for p in points):
        items.append(("hollow", "#333", "busy machine"))
    for kind in ("regression", "improvement", "up", "down"):
        if any(m.kind == kind for m in marks):
            items.append(("step", STEP_COLORS[kind], f"step ({kind})"))
    if any(m.kind == "pending" for m in marks):
        items.append(("pending", STEP_COLORS["pending"], "shift in the newest run (pending)"))
    if any(m.kind == "missing" for m in marks):
        items.append(("missing", MISSING_COLOR, "no figure: stage failed or skipped"))
    if any(m.kind == "tool" for m in marks):
        items.append(("tool", TOOL_CHANGE_COLOR, "tool version changed"))
    axis_y = top + plot_h
    legend, legend_h = _legend(items, 8, axis_y + 50, width - 8 - right)
    height = int(axis_y + 50 + legend_h)

    values = [v for p in points for v in (p.y, p.low, p.high) if v is not None] + [lv for _, _, lv in levels]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    pad = (hi - lo) * 0.08 or abs(hi) * 0.05 or 1.0
    ticks = nice_ticks(lo - pad, hi + pad)
    # room for the longest tick label, right of the rotated axis label
    left = max(left, int(24 + 6 + CHAR_W * max(len(compact_number(t)) for t in ticks)))
    xs = sorted({p.x for p in points} | {m.x for m in marks if m.kind == "missing"}) or [1]
    x = LinearScale(xs[0] - 0.5, xs[-1] + 0.5, left, width - right)
    y = LinearScale(ticks[0], ticks[-1], axis_y, top)

    body = ['<g class="axes">',
            f'<line x1="{left}" y1="{axis_y}" x2="{width - right}" y2="{axis_y}" stroke="#333"/>',
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{axis_y}" stroke="#333"/>']
    for t in ticks:
        body.append(f'<line x1="{left}" y1="{y(t):.1f}" x2="{width - right}" y2="{y(t):.1f}" stroke="#eee"/>'
                    f'<text x="{left - 4}" y="{y(t) + 4:.1f}" font-size="11" text-anchor="end">'
                    f'{compact_number(t)}</text>')
    every = max(1, math.ceil(len(xs) / 12))
    for k, v in enumerate(xs):
        if k % every == 0 or k == len(xs) - 1:
            body.append(f'<text x="{x(v):.1f}" y="{axis_y + 15}" font-size="11" text-anchor="middle">{v}</text>')
    body.append(f'<text x="{(left + width - right) / 2:.0f}" y="{axis_y + 32}" font-size="11" '
                'text-anchor="middle">run # (oldest → newest)</text>')
    mid = (top + axis_y) / 2
    body.append(f'<text x="14" y="{mid:.0f}" font-size="11" text-anchor="middle" '
                f'transform="rotate(-90 14 {mid:.0f})">{escape(y_label)}</text></g><g class="data">')
    order = sorted(points, key=lambda p: p.x)
    for start, end, level in levels:
        x0, x1 = x(order[start].x) - 6, x(order[end].x) + 6
        body.append(f'<line class="level" x1="{x0:.1f}" y1="{y(level):.1f}" x2="{x1:.1f}" y2="{y(level):.1f}" '
                    f'stroke="#888" stroke-dasharray="3 2"><title>level {compact_number(level)}</title></line>')
    for m in marks:
        if m.kind == "tool":
            px = x(m.x - 0.5)
            body.append(f'<line class="tool-change" x1="{px:.1f}" y1="{top}" x2="{px:.1f}" y2="{axis_y}" '
                        f'stroke="{TOOL_CHANGE_COLOR}" stroke-width="2" stroke-dasharray="3 2">'
                        f'<title>{escape(m.title)}</title></line>')
    for p in points:
        if p.low is not None and p.high is not None:
            body.append(f'<line x1="{x(p.x):.1f}" y1="{y(p.low):.1f}" x2="{x(p.x):.1f}" y2="{y(p.high):.1f}" '
                        f'stroke="#333"><title>{escape(p.title)}</title></line>')
        fill = "#fff" if p.hollow else p.color
        body.append(f'<circle cx="{x(p.x):.1f}" cy="{y(p.y):.1f}" r="4" fill="{fill}" stroke="{p.color}" '
                    f'stroke-width="1.5"><title>{escape(p.title)}</title></circle>')
    for m in marks:
        if m.kind == "missing":
            body.append(f'<path class="missing" d="M{x(m.x) - 4:.1f} {axis_y - 12} l8 8 m0 -8 l-8 8" '
                        f'stroke="{MISSING_COLOR}" stroke-width="2"><title>{escape(m.title)}</title></path>')
        elif m.kind != "tool":
            paint = (f'fill="#fff" stroke="{STEP_COLORS[m.kind]}"' if m.kind == "pending"
                     else f'fill="{STEP_COLORS[m.kind]}"')
            body.append(f'<path class="step" d="M{x(m.x):.1f} {top + 1} l-5 -9 h10 z" transform="translate(0 9)" '
                        f'{paint}><title>{escape(m.title)}</title></path>')
    body.append("</g>")
    return _svg(width, height, title, body + legend)
