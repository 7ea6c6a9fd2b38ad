"""`zoo-bench report`: one self-contained HTML page of one or several runs (inline styles, script, SVG).

First an overview matrix (model x target: fit verdict, latency with its interval and method, RAM
and flash as % of the chip's internal memory); then the plots, each with its own legend and one
colour meaning: latency per model and target (log scale; whiskers = estimate intervals, diamonds =
the vendor's published figure, hollow when the estimator was fitted on it), accuracy against
latency, memory needed against each board's memory (colour = fit verdict), estimate against
measurement; then the per-layer breakdown, sections added by plugins
(``zoo_bench_report_sections``) and a sortable, filterable table of every figure. Filters by
model, target and method apply to every part. A plot without data says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from .card_tables import cached_measurement, extra_of, num
from .escape import script_json
from .report_data import (
    ESTIMATED,
    MEASURED,
    in_fit,
    interval_of,
    latencies,
    layer_summaries,
    layer_time_text,
    overview,
    vendor_beside,
)
from .svg import COLORS, VERDICT_COLORS, Point
from .svg_report import STYLES, RangeBar, memory_chart, range_bar_chart, range_scatter

ACCURACY = {"int8": ("top1_int8", "top1"), "float32": ("top1_float", "top1")}
OTHER = "#7f7f7f"


@dataclass
class Chart:
    """One plot and its own legend (HTML), or why it is not drawn."""

    key: str
    title: str
    svg: str | None
    legend: list[tuple[str, str]]  # (swatch HTML, text)
    why: str


def _swatch(color: str, stroke: str = "", dash: str = "") -> str:
    extra = f' stroke="{stroke}" stroke-width="1.5" stroke-dasharray="{dash}"' if stroke else ""
    return f'<svg width="16" height="12" aria-hidden="true"><rect x="1" y="1" width="14" height="10" ' \
           f'fill="{color}"{extra}/></svg>'


WHISKER = '<svg width="16" height="12" aria-hidden="true"><path d="M1 6H15M1 2V10M15 2V10" stroke="#222" ' \
          'stroke-width="1.3" fill="none"/></svg>'


def _diamond(fill: str) -> str:
    return f'<svg width="14" height="14" aria-hidden="true"><path d="M7 1L13 7L7 13L1 7Z" fill="{fill}" ' \
           'stroke="#222" stroke-width="1.3"/></svg>'


def _method_legend(methods: set[str]) -> list[tuple[str, str]]:
    return [(_swatch(COLORS.get(m, OTHER)), m) for m in sorted(methods)]


def _attrs(r: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return (("model", str(r["model"])), ("target", str(r["target"])), ("method", str(r["method"])))


class ReportRows:
    """The rows of the report's runs with what labels need (a run tag when there are several)."""

    def __init__(self, rows: list[dict[str, Any]], run_tags: dict[str, str]):
        self.rows = rows
        self.tags = run_tags

    def label(self, r: dict[str, Any]) -> str:
        threads = extra_of(r).get("threads")
        text = f"{r['model']} · {r['target']} · {r['stage']}" + (f" ({threads} thr)" if threads else "")
        if len(self.tags) > 1:
            text += f" [{self.tags.get(r.get('run_id') or '', '?')}]"
        return text


def latency_chart(rr: ReportRows) -> Chart:
    bars, methods, styles, vendor, fitted, intervals = [], set(), set(), False, False, False
    for r in latencies(rr.rows):
        label = rr.label(r)
        tip = f"{label}: {num(r['value'])} ms ({r['metric']}, {r['method']}, {r['tool']} {r['tool_version']})"
        iv = interval_of(r)
        if iv:
            intervals = True
            tip += f"; interval {num(iv[0])}-{num(iv[1])} ms ({extra_of(r).get('interval_basis') or 'estimate'})"
        style = "in_fit" if in_fit(r) else "cached" if cached_measurement(r) else ""
        if style:
            styles.add(style)
            tip += f"; {STYLES[style][2]}"
        theirs = vendor_beside(r)
        if theirs:
            vendor = vendor or not theirs.fitted
            fitted = fitted or theirs.fitted
            tip += f"; vendor published {num(theirs.value)} ms ({theirs.source})" + \
                (": the estimator was fitted on this figure, not a check" if theirs.fitted else "")
        methods.add(r["method"])
        bars.append(RangeBar(label, float(r["value"]), COLORS.get(r["method"], OTHER), tip,
                             iv[0] if iv else None, iv[1] if iv else None, theirs.value if theirs else None,
                             bool(theirs and theirs.fitted), style, _attrs(r)))
    legend = _method_legend(methods)
    if intervals:
        legend.append((WHISKER, "estimate interval"))
    if vendor:
        legend.append((_diamond("#222"), "vendor's published figure, same class count"))
    if fitted:
        legend.append((_diamond("#fff"), "vendor's figure the estimator was fitted on (not a check)"))
    legend += [(_swatch("#fff", *STYLES[s][:2]), STYLES[s][2]) for s in sorted(styles)]
    return Chart("latency", "Latency per model and target",
                 range_bar_chart(bars, "latency per inference, ms (log scale)") if bars else None, legend,
                 "no latency figure in these rows")


def accuracy_chart(rr: ReportRows) -> Chart:
    points, methods = [], set()
    for r in latencies(rr.rows):
        names = ACCURACY.get(r["variant"], ("top1",))
        acc = [a for a in rr.rows if a["status"] == "ok" and a["model"] == r["model"] and a["target"] == r["target"]
               and a.get("run_id") == r.get("run_id") and a["metric"] in names
               and (a["metric"] != "top1" or a["variant"] == r["variant"]) and isinstance(a["value"], int | float)]
        if acc:
            a = sorted(acc, key=lambda a: names.index(a["metric"]))[0]
            methods.add(r["method"])
            points.append((Point(r["value"], a["value"], COLORS.get(r["method"], OTHER),
                                 f"{rr.label(r)}: {num(r['value'])} ms ({r['method']}), top-1 {num(a['value'])} % "
                                 f"({a['dataset'] or 'data set'}, {a['n_images'] or '?'} images)"), None, None,
                           _attrs(r)))
    svg = range_scatter(points, "latency, ms (log scale)", "top-1 accuracy, %", y_range=(0.0, 100.0)) \
        if points else None
    return Chart("accuracy", "Accuracy against latency", svg, _method_legend(methods),
                 "no accuracy figure in these rows (run with --dataset to evaluate top-1)")


def memory_chart_of(rr: ReportRows) -> Chart:
    items, verdicts = [], set()
    for r in rr.rows:
        if r["status"] != "ok" or not str(r["metric"]).startswith("fits_internal_"):
            continue
        extra = extra_of(r)
        need = extra.get("need_kib")
        if not isinstance(need, int | float) or need <= 0:
            continue
        kind = r["metric"].rsplit("_", 1)[-1]
        verdict = str(extra.get("verdict", ""))
        verdicts.add(verdict)
        label = f"{r['model']} · {r['target']} · {kind}" + \
            (f" [{rr.tags.get(r.get('run_id') or '', '?')}]" if len(rr.tags) > 1 else "")
        items.append((label, float(need), float(extra.get("internal_kib") or 0), float(extra.get("external_kib") or 0),
                      verdict, _attrs(r)))
    legend = [(_swatch(VERDICT_COLORS.get(v, OTHER)), v or "no verdict") for v in sorted(verdicts)]
    legend += [('<svg width="10" height="14" aria-hidden="true"><path d="M5 0V14" stroke="#888" stroke-width="2"/>'
                '</svg>', "internal memory of the chip"),
               ('<svg width="10" height="14" aria-hidden="true"><path d="M5 0V14" stroke="#000" stroke-width="2"/>'
                '</svg>', "with the board's external memory")]
    return Chart("memory", "Memory needed against each board's memory (colour: fit verdict)",
                 memory_chart(sorted(set(items))) if items else None, legend,
                 "no fit verdict rows (fits_internal_ram, ...) in these rows")


def estimate_chart(rr: ReportRows) -> Chart:
    lat = latencies(rr.rows)
    points, methods = [], set()
    for e in (r for r in lat if r["method"] in ESTIMATED):
        for m in (r for r in lat if r["method"] in MEASURED):
            if (m["model"], m["target"], m["variant"], m.get("run_id")) != \
                    (e["model"], e["target"], e["variant"], e.get("run_id")):
                continue
            iv = interval_of(e)
            methods.add(e["method"])
            points.append((Point(e["value"], m["value"], COLORS[e["method"]],
                                 f"{e['model']} · {e['target']}: estimate {num(e['value'])} ms ({e['tool']})"
                                 + (f" [{num(iv[0])}-{num(iv[1])}]" if iv else "")
                                 + f", measured {num(m['value'])} ms ({m['tool']}, {m['method']})"),
                           iv[0] if iv else None, iv[1] if iv else None, _attrs(e)))
    legend = _method_legend(methods) + ([(WHISKER, "estimate interval")] if any(p[1] for p in points) else [])
    legend.append(('<svg width="16" height="12" aria-hidden="true"><path d="M1 11L15 1" stroke="#999" '
                   'stroke-dasharray="4 3"/></svg>', "estimate = measurement"))
    svg = range_scatter(points, "estimate, ms (log)", "measured, ms (log)", log_y=True, diagonal=True) \
        if points else None
    return Chart("estimate", "Estimate against measurement (colour: the estimate's method)", svg, legend,
                 "no model and target has both an estimated and a measured latency in these rows")


def table_rows(rows: list[dict[str, Any]], tags: dict[str, str]) -> list[list[Any]]:
    out = []
    for r in sorted(rows, key=lambda r: (r["model"], r["target"], r["stage"], r["metric"], r["variant"],
                                         r.get("run_id") or "")):
        if r["metric"] == "stage_seconds" and r["status"] == "ok":
            continue
        iv = interval_of(r)
        value = r["value"] if isinstance(r["value"], int | float) else ""
        out.append([tags.get(r.get("run_id") or "", ""), r["model"], r["target"], r["stage"], r["variant"],
                    r["metric"], value, f"{num(iv[0])}-{num(iv[1])}" if iv else "", r["unit"], r["method"],
                    f"{r['tool']} {r['tool_version']}".strip(), r["status"], r["reason"] or "",
                    ("cached" if cached_measurement(r) else "") + (" in fit" if in_fit(r) else "")])
    return out


TABLE_HEADERS = ["run", "model", "target", "stage", "variant", "metric", "value", "interval", "unit", "method",
                 "tool", "status", "reason", "note"]


def render_report(rows: list[dict[str, Any]], run_id: str | list[str], limits: dict[str, dict[str, int]] | None = None,
                  layers: list[dict[str, Any]] | None = None, sections: list[tuple[str, str]] | None = None,
                  run_labels: dict[str, str] | None = None) -> str:
    """The HTML page of the rows of one or several runs.

    :param limits: the targets' declared memory sizes (KiB).
    :param layers: per-layer rows of the runs (:func:`zoo_bench.layers.read_layers`).
    :param sections: ``(title, HTML)`` pairs from plugins (``zoo_bench_report_sections``).
    :param run_labels: run id -> label (``run --label``), shown instead of the id.
    """
    import jinja2
    from markupsafe import Markup

    run_ids = [run_id] if isinstance(run_id, str) else list(run_id)
    tags = {rid: (run_labels or {}).get(rid) or rid for rid in run_ids}
    rr = ReportRows(rows, tags)
    env = jinja2.Environment(loader=jinja2.PackageLoader("zoo_bench.reports", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]), undefined=jinja2.StrictUndefined)
    charts = [latency_chart(rr), accuracy_chart(rr), memory_chart_of(rr), estimate_chart(rr)]
    targets, matrix = overview(rows, tags)
    methods = sorted({r["method"] for r in rows if r["method"]})
    return env.get_template("report.html.j2").render(
        run_ids=run_ids, tags=tags, n_rows=len(rows), models=sorted({r["model"] for r in rows}), targets=targets,
        methods=methods, matrix=matrix,
        charts=[(c.key, c.title, Markup(c.svg) if c.svg else None, [(Markup(s), t) for s, t in c.legend], c.why)
                for c in charts],
        layer_groups=layer_summaries(layers or []), layer_time_text=layer_time_text, num=num,
        sections=[(str(t), Markup(str(h))) for t, h in (sections or [])],
        headers=TABLE_HEADERS, rows_json=Markup(script_json(table_rows(rows, tags))),
        limits={t: (limits or {}).get(t, {}) for t in targets}, escape=escape)
