"""How `zoo-bench history` shows a :class:`~.history.History`: an HTML page of small multiples, markdown, a table.

The page is self-contained (inline SVG, style and script; nothing fetched): one chart per series,
grouped by model and target, each with its own legend; the steps first, then the charts, then the
runs (number, id, label, date, commit, versions, machine warnings) that the charts' x axes count.
Its script checks its own layout: every chart has a legend and no text sticks out of its chart
(``data-charts``, ``data-legends``, ``data-clipped`` on ``<body>``, read by the browser test).
"""

from __future__ import annotations

from typing import Any

from ..table import fmt_value, format_table
from .history import History, Series, Step
from .svg import COLORS, TrendMark, TrendPoint, compact_number, trend_chart


def _change_text(step: Step) -> str:
    if step.unit == "points":
        return f"{step.change:+.2f} pt"
    return f"{step.change:+.1f} %"


def _what_changed_text(step: Step) -> str:
    if not step.changes:
        return "nothing recorded changed (same versions, model file, commit and options)"
    return "; ".join(f"{c['what']}: {c['before'] or '-'} → {c['after'] or '-'}" for c in step.changes)


def _run_number(history: History) -> dict[str, int]:
    return {r.run_id: k + 1 for k, r in enumerate(history.runs)}


def chart(series: Series, numbers: dict[str, int]) -> str:
    """The trend chart of one series."""
    metric = series.key[3]
    points = []
    for p in series.points:
        interval = f" [95 %: {compact_number(p.low)} – {compact_number(p.high)}]" if p.low is not None else ""
        notes = "".join([", cached measurement" if p.cached else "", ", busy machine" if p.run.busy else ""])
        title = (f"run #{numbers[p.run.run_id]} {p.run.run_id}" + (f" ({p.run.label})" if p.run.label else "")
                 + f": {fmt_value(p.value)} {series.unit}{interval}; {p.method}, {p.tool} {p.tool_version}{notes}")
        points.append(TrendPoint(numbers[p.run.run_id], p.value, p.low, p.high, COLORS.get(p.method, "#7f7f7f"),
                                 p.run.busy, title))
    marks = [TrendMark(numbers[series.points[s.index].run.run_id], s.verdict if s.confirmed else "pending",
                       f"{'step' if s.confirmed else 'pending (newest run, not confirmed yet)'} {s.verdict} "
                       f"{_change_text(s)}: {_what_changed_text(s)}") for s in series.steps]
    marks += [TrendMark(numbers[t["run_id"]], "tool", "; ".join(t["changes"])) for t in series.tool_changes]
    marks += [TrendMark(numbers[m["run_id"]], "missing", f"run #{numbers[m['run_id']]} {m['run_id']}: stage "
                        f"{m['status']}: {m['reason']}") for m in series.missing]
    methods = {p.method: COLORS.get(p.method, "#7f7f7f") for p in series.points}
    levels = [(a, b, v) for a, b, v in series.levels]
    unit = f", {series.unit}" if series.unit else ""
    return trend_chart(points, marks, levels, f"{metric}{unit}", series.title, methods)


def render_history(history: History) -> str:
    """The HTML page of a history."""
    import jinja2
    from markupsafe import Markup

    env = jinja2.Environment(loader=jinja2.PackageLoader("zoo_bench.reports", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]), undefined=jinja2.StrictUndefined)
    numbers = _run_number(history)
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for s in history.series:
        groups.setdefault((s.key[0], s.key[1]), []).append(
            {"title": " · ".join(x for x in (s.key[2], s.key[5], s.key[3]) if x), "svg": Markup(chart(s, numbers))})
    steps = [{"number": numbers[s.points[st.index].run.run_id], "run": s.points[st.index].run.run_id,
              "label": s.points[st.index].run.label or "", "series": s.title, "verdict": st.verdict,
              "confirmed": st.confirmed, "before": fmt_value(st.before), "after": fmt_value(st.after),
              "unit": s.unit, "change": _change_text(st), "what": _what_changed_text(st)}
             for s, st in history.steps()]
    runs = [{"number": numbers[r.run_id], **r.as_dict(),
             "commit": ((r.git or {}).get("commit") or "")[:12], "branch": (r.git or {}).get("branch") or ""}
            for r in history.runs]
    return env.get_template("history.html.j2").render(
        root=history.root, runs=runs, groups=[(m, t, charts) for (m, t), charts in groups.items()],
        steps=steps, n_series=len(history.series), thresholds=history.thresholds)


def format_markdown(history: History) -> str:
    """A CI summary: the steps with what changed, then each series' first and last value."""
    runs = history.runs
    confirmed = [(s, st) for s, st in history.steps() if st.confirmed]
    lines = [f"**zoo-bench history**: {len(runs)} runs ({runs[0].run_id} → {runs[-1].run_id}), "
             f"{len(history.series)} series, {len(confirmed)} steps", ""]
    if history.steps():
        lines += ["| first run with it | series | step | before | after | what changed |", "|---|---|---|---|---|---|"]
        for s, st in history.steps():
            run = s.points[st.index].run
            name = f"`{run.run_id}`" + (f" ({run.label})" if run.label else "")
            kind = st.verdict if st.confirmed else f"{st.verdict}, pending"
            lines.append(f"| {name} | {s.title} | {kind} {_change_text(st)} | {fmt_value(st.before)} | "
                         f"{fmt_value(st.after)} | {_what_changed_text(st).replace('|', '/')} |")
    else:
        lines.append("No step: every series stayed within its threshold and noise.")
    missing = [(s, m) for s in history.series for m in s.missing]
    if missing:
        lines += ["", "| run | series with no figure | stage |", "|---|---|---|"]
        lines += [f"| `{m['run_id']}` | {s.title} | {m['status']}: {m['reason'][:120].replace('|', '/')} |"
                  for s, m in missing[-20:]]
    busy = [r.run_id for r in runs if r.busy]
    if busy:
        lines += ["", f"> {len(busy)} runs were taken on a busy machine: {', '.join(busy)}"]
    lines += ["", "| series | runs | first | last | unit |", "|---|---|---|---|---|"]
    for s in history.series:
        lines.append(f"| {s.title} | {len(s.points)} | {fmt_value(s.points[0].value)} | "
                     f"{fmt_value(s.points[-1].value)} | {s.unit} |")
    return "\n".join(lines)


def format_terminal(history: History) -> str:
    runs = history.runs
    lines = [f"{len(runs)} finished runs of {history.root}, {len(history.series)} series"]
    rows = [[s.points[st.index].run.run_id, s.points[st.index].run.label or "", s.title,
             st.verdict + ("" if st.confirmed else " (pending)"), _change_text(st), _what_changed_text(st)]
            for s, st in history.steps()]
    lines.append(format_table(["first run", "label", "series", "step", "change", "what changed"], rows,
                              max_width=60) if rows else "no step")
    return "\n".join(lines)
