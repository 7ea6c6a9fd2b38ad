"""SVG marks of the HTML report (split from :mod:`.svg`): bars with interval whiskers and vendor
diamonds, scatters with intervals, memory bars; labels sized to fit, filter attributes on each mark."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from .svg import VERDICT_COLORS, LinearScale, LogScale, Point, _svg, _tick_text, scatter

# --- report (issue 21 item 4): marks with intervals, vendor figures, cached/in-fit styles, legends ---

#: Approximate advance of one character at font-size 11 (system sans): generous, so labels are never clipped.
CHAR_PX = 6.2
#: Outline styles of a bar (and their legend names): what the fill colour does not say.
STYLES = {"cached": ("#111", "4 2", "cached: served from the artifact cache, not measured again in this run"),
          "in_fit": ("#111", "1 2", "estimate of a network in the estimator's fit (leave-one-network-out value)")}


@dataclass(frozen=True)
class RangeBar:
    """A bar with an optional interval (error bar) and vendor figure (diamond) on a log axis.

    ``attrs`` are ``data-*`` attributes of the mark (model, target, method) for the page's filters;
    ``style`` is a key of :data:`STYLES` or ``""``; ``vendor_fitted`` draws the diamond hollow.
    """

    label: str
    value: float
    color: str
    title: str
    lo: float | None = None
    hi: float | None = None
    vendor: float | None = None
    vendor_fitted: bool = False
    style: str = ""
    attrs: tuple[tuple[str, str], ...] = ()


def label_width_for(labels: list[str], minimum: int = 120, maximum: int = 600) -> int:
    """Pixels a right-aligned label column needs for the longest label (font-size 11)."""
    longest = max((len(s) for s in labels), default=0)
    return math.ceil(min(max(minimum, (longest + 1) * CHAR_PX + 16), maximum))


def fit_label(text: str, width: int) -> str:
    """``text`` shortened with an ellipsis to fit ``width`` pixels (the full text stays in the tooltip)."""
    room = max(math.floor((width - 16) / CHAR_PX), 4)
    return text if len(text) <= room else text[: room - 1] + "…"


def _data_attrs(attrs: tuple[tuple[str, str], ...]) -> str:
    return "".join(f' data-{escape(k)}="{escape(v)}"' for k, v in attrs)


def range_bar_chart(bars: list[RangeBar], axis_label: str, width: int = 960) -> str:
    """Horizontal bars on a log axis with interval whiskers and vendor diamonds; labels sized to fit."""
    label_width = label_width_for([b.label for b in bars])
    row_h, top, bottom, right = 20, 10, 42, 30
    height = top + bottom + row_h * len(bars)
    values = [v for b in bars for v in (b.value, b.lo, b.hi, b.vendor) if v is not None and v > 0]
    x = LogScale(values, label_width, width - right)
    body = ['<g class="axes">']
    for t in x.ticks():
        px = x(t)
        body.append(f'<line x1="{px:.1f}" y1="{top}" x2="{px:.1f}" y2="{height - bottom}" stroke="#ddd"/>'
                    f'<text x="{px:.1f}" y="{height - bottom + 14}" font-size="11" text-anchor="middle">'
                    f'{_tick_text(t)}</text>')
    body.append(f'<text x="{(label_width + width - right) / 2:.0f}" y="{height - 8}" font-size="12" '
                f'text-anchor="middle">{escape(axis_label)}</text></g><g class="data">')
    for i, b in enumerate(bars):
        y = top + i * row_h
        mid = y + row_h / 2
        stroke = ""
        if b.style in STYLES:
            color, dash, _ = STYLES[b.style]
            stroke = f' stroke="{color}" stroke-width="1.2" stroke-dasharray="{dash}"'
        parts = [f'<g class="mark"{_data_attrs(b.attrs)}><title>{escape(b.title)}</title>',
                 f'<text x="{label_width - 6}" y="{mid + 4:.1f}" font-size="11" text-anchor="end">'
                 f'{escape(fit_label(b.label, label_width))}</text>',
                 f'<rect x="{label_width}" y="{y + 4}" width="{max(x(b.value) - label_width, 1.0):.1f}" '
                 f'height="{row_h - 8}" fill="{b.color}"{stroke}/>']
        if b.lo is not None and b.hi is not None and b.lo > 0 and b.hi >= b.lo:
            x0, x1 = x(b.lo), x(b.hi)
            parts.append(f'<path class="interval" d="M{x0:.1f} {mid:.1f}H{x1:.1f}M{x0:.1f} {mid - 5:.1f}'
                         f'V{mid + 5:.1f}M{x1:.1f} {mid - 5:.1f}V{mid + 5:.1f}" stroke="#222" '
                         f'stroke-width="1.3" fill="none"/>')
        if b.vendor is not None and b.vendor > 0:
            vx = x(b.vendor)
            fill = "#fff" if b.vendor_fitted else "#222"
            parts.append(f'<path class="vendor" d="M{vx:.1f} {mid - 6:.1f}L{vx + 6:.1f} {mid:.1f}L{vx:.1f} '
                         f'{mid + 6:.1f}L{vx - 6:.1f} {mid:.1f}Z" fill="{fill}" stroke="#222" stroke-width="1.3"/>')
        parts.append("</g>")
        body.append("".join(parts))
    body.append("</g>")
    return _svg(width, height, axis_label, body)


def range_scatter(points: list[tuple[Point, float | None, float | None, tuple[tuple[str, str], ...]]],
                  x_label: str, y_label: str, **kwargs: object) -> str:
    """:func:`scatter` whose points carry a horizontal interval (x_lo, x_hi) and filter attributes."""
    svg = scatter([p for p, _, _, _ in points], x_label, y_label, **kwargs)  # type: ignore[arg-type]
    # the scale of the plain scatter, rebuilt the same way to place the whiskers
    width, height = int(kwargs.get("width", 560)), int(kwargs.get("height", 380))  # type: ignore[call-overload]
    left, right, top, bottom = 60, 20, 15, 45
    xs = [p.x for p, _, _, _ in points]
    ys = [p.y for p, _, _, _ in points]
    if kwargs.get("diagonal"):
        xs = ys = xs + ys
    x = LogScale(xs, left, width - right)
    y: LogScale | LinearScale = LogScale(ys, height - bottom, top) if kwargs.get("log_y") else \
        LinearScale(*(kwargs.get("y_range") or (0.0, max(max(ys), 1.0) * 1.05)), height - bottom, top)  # type: ignore[misc]
    marks = []
    for p, lo, hi, attrs in points:
        if lo is not None and hi is not None and lo > 0 and hi >= lo:
            cy = y(p.y)
            marks.append(f'<path class="interval"{_data_attrs(attrs)} d="M{x(lo):.1f} {cy:.1f}H{x(hi):.1f}'
                         f'M{x(lo):.1f} {cy - 4:.1f}V{cy + 4:.1f}M{x(hi):.1f} {cy - 4:.1f}V{cy + 4:.1f}" '
                         f'stroke="{p.color}" stroke-width="1.3" fill="none"><title>{escape(p.title)}</title></path>')
    # filter attributes on the circles, in the order drawn
    for p, _, _, attrs in points:
        circle = f'<circle cx="{x(p.x):.1f}" cy="{y(p.y):.1f}" r="5"'
        svg = svg.replace(circle, f'<circle{_data_attrs(attrs)} cx="{x(p.x):.1f}" cy="{y(p.y):.1f}" r="5"', 1)
    return svg.replace('<g class="data">', '<g class="data">' + "".join(marks), 1)


def memory_chart(items: list[tuple[str, float, float, float, str, tuple[tuple[str, str], ...]]],
                 width: int = 960) -> str:
    """:func:`capacity_bars` with labels sized to fit and filter attributes on each mark:
    per (label, need, internal, external, verdict, attrs)."""
    label_width = label_width_for([i[0] for i in items])
    row_h, top, bottom, right = 26, 10, 42, 30
    height = top + bottom + row_h * len(items)
    x = LogScale([v for _, n, i, e, _, _ in items for v in (n, i, i + e)], label_width, width - right)
    body = ['<g class="axes">']
    for t in x.ticks():
        body.append(f'<line x1="{x(t):.1f}" y1="{top}" x2="{x(t):.1f}" y2="{height - bottom}" stroke="#eee"/>'
                    f'<text x="{x(t):.1f}" y="{height - bottom + 14}" font-size="11" text-anchor="middle">'
                    f'{_tick_text(t)}</text>')
    body.append(f'<text x="{(label_width + width - right) / 2:.0f}" y="{height - 8}" font-size="12" '
                'text-anchor="middle">KiB (log scale)</text></g><g class="data">')
    for k, (label, need, internal, external, verdict, attrs) in enumerate(items):
        y = top + k * row_h
        color = VERDICT_COLORS.get(verdict, "#7f7f7f")
        tip = f"{label}: needs {need:,.1f} KiB, {verdict}; internal {internal:,.0f} KiB, with external " \
              f"{internal + external:,.0f} KiB"
        body.append(f'<g class="mark"{_data_attrs(attrs)}><title>{escape(tip)}</title>'
                    f'<text x="{label_width - 6}" y="{y + 16}" font-size="11" text-anchor="end">'
                    f'{escape(fit_label(label, label_width))}</text>'
                    f'<rect x="{label_width}" y="{y + 5}" width="{max(x(need) - label_width, 1):.1f}" height="14" '
                    f'fill="{color}"/>')
        for cap, stroke in ((internal, "#888"), (internal + external, "#000")):
            if cap > 0:
                body.append(f'<line x1="{x(cap):.1f}" y1="{y + 2}" x2="{x(cap):.1f}" y2="{y + 22}" '
                            f'stroke="{stroke}" stroke-width="2"/>')
        body.append("</g>")
    body.append("</g>")
    return _svg(width, height, "memory needed against the board's memory", body)
