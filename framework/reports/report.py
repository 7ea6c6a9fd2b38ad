"""`zoo-bench report`: one self-contained HTML page of a run (inline styles, script and SVG plots).

Plots: latency per model and target (log scale), accuracy against latency, memory needed against
each board's memory (from the fit verdict rows), estimate against measurement where a run has
both for the same model and target; then a sortable table of every figure with its method.
A plot without data says why instead of drawing an empty frame.
"""

from __future__ import annotations

import json
from typing import Any

from .card_tables import extra_of, num
from .svg import COLORS, Bar, Point, bar_chart_log, capacity_bars, scatter

LATENCY = ("latency_p50_ms", "latency_mean_ms")
ACCURACY = {"int8": ("top1_int8", "top1"), "float32": ("top1_float", "top1")}
MEASURED = ("measured-host", "measured-board")
ESTIMATED = ("tool-estimate", "model-estimate")


def _latencies(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One latency figure per (model, target, stage, variant, threads): the median when measured."""
    best: dict[tuple, dict[str, Any]] = {}
    for r in rows:
        if r["status"] != "ok" or r["metric"] not in LATENCY or r["value"] is None or r["value"] <= 0:
            continue
        key = (r["model"], r["target"], r["stage"], r["variant"], str(extra_of(r).get("threads", "")))
        if key not in best or LATENCY.index(r["metric"]) < LATENCY.index(best[key]["metric"]):
            best[key] = r
    return [best[k] for k in sorted(best)]


def _label(r: dict[str, Any]) -> str:
    threads = extra_of(r).get("threads")
    return f"{r['model']} · {r['target']} · {r['stage']}" + (f" ({threads} thr)" if threads else "")


def latency_plot(rows: list[dict[str, Any]]) -> str | None:
    lat = _latencies(rows)
    if not lat:
        return None
    bars = [Bar(_label(r), r["value"], COLORS.get(r["method"], "#7f7f7f"),
                f"{_label(r)}: {num(r['value'])} ms ({r['metric']}, {r['method']}, {r['tool']} {r['tool_version']})")
            for r in lat]
    return bar_chart_log(bars, "latency per inference, ms (log scale)")


def accuracy_plot(rows: list[dict[str, Any]]) -> str | None:
    points = []
    for r in _latencies(rows):
        names = ACCURACY.get(r["variant"], ("top1",))
        acc = [a for a in rows if a["status"] == "ok" and a["model"] == r["model"] and a["target"] == r["target"]
               and a["metric"] in names and (a["metric"] != "top1" or a["variant"] == r["variant"])]
        if acc:
            a = sorted(acc, key=lambda a: names.index(a["metric"]))[0]
            points.append(Point(r["value"], a["value"], COLORS.get(r["method"], "#7f7f7f"),
                                f"{_label(r)}: {num(r['value'])} ms, top-1 {num(a['value'])} % "
                                f"({a['dataset'] or 'data set'}, {a['n_images'] or '?'} images)"))
    if not points:
        return None
    return scatter(points, "latency, ms (log scale)", "top-1 accuracy, %", y_range=(0.0, 100.0))


def memory_plot(rows: list[dict[str, Any]]) -> str | None:
    items = []
    for r in rows:
        if r["status"] != "ok" or not r["metric"].startswith("fits_internal_"):
            continue
        extra = extra_of(r)
        need = extra.get("need_kib")
        if not isinstance(need, (int, float)):
            continue
        kind = r["metric"].rsplit("_", 1)[-1]
        items.append((f"{r['model']} · {r['target']} · {kind}", float(need), float(extra.get("internal_kib") or 0),
                      float(extra.get("external_kib") or 0), str(extra.get("verdict", ""))))
    if not items:
        return None
    return capacity_bars(sorted(set(items)))


def estimate_plot(rows: list[dict[str, Any]]) -> str | None:
    lat = _latencies(rows)
    points = []
    for e in (r for r in lat if r["method"] in ESTIMATED):
        for m in (r for r in lat if r["method"] in MEASURED):
            if (m["model"], m["target"], m["variant"]) == (e["model"], e["target"], e["variant"]):
                points.append(Point(e["value"], m["value"], COLORS[m["method"]],
                                    f"{e['model']} · {e['target']}: estimate {num(e['value'])} ms ({e['tool']}), "
                                    f"measured {num(m['value'])} ms ({m['tool']})"))
    if not points:
        return None
    return scatter(points, "estimate, ms (log)", "measured, ms (log)", log_y=True, diagonal=True)


def table_rows(rows: list[dict[str, Any]]) -> list[list[Any]]:
    out = []
    for r in sorted(rows, key=lambda r: (r["model"], r["target"], r["stage"], r["metric"], r["variant"])):
        if r["metric"] == "stage_seconds" and r["status"] == "ok":
            continue
        out.append([r["model"], r["target"], r["stage"], r["variant"], r["metric"],
                    "" if r["value"] is None else r["value"], r["unit"], r["method"],
                    f"{r['tool']} {r['tool_version']}".strip(), r["status"], r["reason"] or "",
                    "cached" if r["cached"] else ""])
    return out


TABLE_HEADERS = ["model", "target", "stage", "variant", "metric", "value", "unit", "method", "tool", "status",
                 "reason", "cache"]


def render_report(rows: list[dict[str, Any]], run_id: str, limits: dict[str, dict[str, int]] | None = None) -> str:
    """The HTML page of one run's rows; ``limits`` are the targets' declared memory sizes (KiB)."""
    import jinja2
    from markupsafe import Markup

    env = jinja2.Environment(loader=jinja2.PackageLoader("zoo_bench.reports", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]), undefined=jinja2.StrictUndefined)
    plots = [
        ("Latency per model and target", latency_plot(rows), "no latency figure in this run"),
        ("Accuracy against latency", accuracy_plot(rows),
         "no accuracy figure in this run (run with --dataset to evaluate top-1)"),
        ("Memory needed against each board's memory", memory_plot(rows),
         "no fit verdict rows (fits_internal_ram, ...) in this run"),
        ("Estimate against measurement", estimate_plot(rows),
         "no model and target has both an estimated and a measured latency in this run"),
    ]
    targets = sorted({r["target"] for r in rows})
    data = json.dumps(table_rows(rows), default=str)
    return env.get_template("report.html.j2").render(
        run_id=run_id, plots=[(t, Markup(svg) if svg else None, why) for t, svg, why in plots],
        headers=TABLE_HEADERS, rows_json=Markup(data.replace("</", "<\\/")),
        models=sorted({r["model"] for r in rows}), targets=targets, colors=COLORS,
        limits={t: (limits or {}).get(t, {}) for t in targets}, n_rows=len(rows))
