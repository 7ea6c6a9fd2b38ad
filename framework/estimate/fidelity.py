"""The fidelity report: per target and published point, estimate vs published figure.

For every fitted (target, metric): each fitted point's in-sample estimate, its error, its
leave-one-model-out (LOMO) error, and the median and worst |LOMO error|; then the holdout points
(MobileNet v2 alpha 1.0, never fitted) and check-only points, predicted by the full model.
"""

from __future__ import annotations

import statistics
from typing import Any

from ..table import format_table
from .estimators import TargetFit
from .fit import FittedModel, Sample

#: Goals of issue 11: LOMO median |error| on targets with at least 8 points.
GOALS = {"latency_mean_ms": 0.15, "activation_ram_kib": 0.05, "weights_flash_kib": 0.05}
GOAL_MIN_POINTS = 8


def _err(est: float, published: float) -> float:
    return (est - published) / published


def point_rows(tf: TargetFit) -> list[dict[str, Any]]:
    """One dict per point: fitted ones first, then holdout, then check-only."""
    m = tf.model
    rows = []
    for s, est, lomo in zip(m.samples, m.fitted, m.lomo, strict=True):
        rows.append(_row(m, s, est, "fit", lomo))
    for kind, samples in (("holdout", tf.holdout), ("check", tf.check)):
        for s in samples:
            rows.append(_row(m, s, m.predict(s.features), kind, None))
    return rows


def _row(m: FittedModel, s: Sample, est: float, kind: str, lomo: float | None) -> dict[str, Any]:
    p = s.point
    return {"target": m.target, "metric": m.metric, "model": p["model"], "kind": kind,
            "published": float(p["value"]), "unit": p["unit"], "estimate": round(est, 4),
            "error_pct": round(100.0 * _err(est, float(p["value"])), 1),
            "lomo_error_pct": None if lomo is None else round(100.0 * lomo, 1),
            "source": p["source"], "path": p.get("path"), "tool_version": p.get("tool_version"),
            "note": p.get("check_only")}


def summary(tf: TargetFit) -> dict[str, Any]:
    """Median and worst |LOMO error|, the goal and whether it is met."""
    m = tf.model
    lomo = m.lomo_abs_errors()
    hold = [abs(_err(m.predict(s.features), float(s.point["value"]))) for s in tf.holdout]
    goal = GOALS.get(m.metric)
    applies = goal is not None and len(m.samples) >= GOAL_MIN_POINTS
    median = statistics.median(lomo) if lomo else None
    return {**m.describe(),
            "lomo_worst_abs_error_pct": round(100 * max(lomo), 1) if lomo else None,
            "fit_median_abs_error_pct": round(100 * statistics.median(
                abs(_err(e, float(s.point["value"]))) for s, e in zip(m.samples, m.fitted, strict=True)), 1),
            "holdout_abs_error_pct": [round(100 * h, 1) for h in hold],
            "goal_pct": None if goal is None else 100 * goal,
            "goal_met": (median is not None and median <= goal) if applies else None,
            "missing_workloads": sorted(set(tf.missing))}


def report(fits: list[TargetFit]) -> dict[str, Any]:
    return {"targets": [{"summary": summary(tf), "points": point_rows(tf)} for tf in fits]}


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:+.1f}" if abs(v) < 1000 else f"{v:+.0f}"
    return str(v)


def _num(v: float) -> str:
    return f"{v:.4g}" if v < 1e4 else f"{v:.0f}"


def text_report(fits: list[TargetFit]) -> str:
    """The tables ``zoo-bench fidelity`` prints (and docs/estimators.md holds)."""
    out = []
    for tf in fits:
        s = summary(tf)
        m = tf.model
        coefs = ", ".join(f"{k}={v:.4g}" for k, v in s["coefficients"].items())
        goal = "no goal (< 8 points)" if s["goal_met"] is None else "goal met" if s["goal_met"] else "goal NOT met"
        out.append(f"{m.target} {m.metric}: {s['points']} points, {s['networks']} networks; "
                   f"LOMO median |err| {_fmt(s['lomo_median_abs_error_pct'])} %, worst "
                   f"{_fmt(s['lomo_worst_abs_error_pct'])} % ({goal}, goal {s['goal_pct']} %)")
        out.append(f"  model: {coefs}")
        rows = [[r["model"], r["kind"], _num(r["estimate"]), _num(r["published"]), _fmt(r["error_pct"]),
                 _fmt(r["lomo_error_pct"])] for r in point_rows(tf)]
        table = format_table(["model", "kind", "estimate", "published", "err %", "LOMO err %"], rows)
        out.append("\n".join("  " + line for line in table.splitlines()))
        if s["missing_workloads"]:
            out.append(f"  no cached workload (python -m zoo_bench.estimate.build_workloads): "
                       f"{', '.join(s['missing_workloads'])}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def catalog_workloads(workloads: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """Catalog model name -> cached entry: built as a catalog model, or a points-file model whose
    definition says it is that catalog model (same network and head)."""
    catalog = {n: e for n, e in workloads.items() if e.get("definition", {}).get("builder") == "catalog"}
    for name, definition in definitions.items():
        if definition.get("catalog") and name in workloads:
            catalog.setdefault(definition["catalog"], workloads[name])
    return catalog


def catalog_estimates(fits: list[TargetFit], catalog: dict[str, Any]) -> list[dict[str, Any]]:
    """Latency estimate and interval of every catalog model with a cached workload, per target."""
    from .fit import FEATURES, features_of

    rows = []
    for tf in fits:
        m = tf.model
        if m.metric != "latency_mean_ms" or not set(m.features) <= set(FEATURES):  # (a target fitted on its
            continue  # plugin's own figures, estimators.figure_samples, has no workload features)
        for name, entry in sorted(catalog.items()):
            base = (entry.get("baselines", {}).get(m.target) or {}).get("latency_mean_ms")
            if "baseline_ms" in m.features and base is None:
                continue
            value = m.predict(features_of(entry["workload"], m.features, base))
            interval = m.interval(value)
            rows.append({"model": name, "target": m.target, "estimate_ms": value,
                         "interval_ms": None if interval is None else list(interval)})
    return rows


def catalog_text(rows: list[dict[str, Any]]) -> str:
    """Catalog models x targets: ``estimate [low-high]`` in ms."""
    targets = sorted({r["target"] for r in rows})
    models = sorted({r["model"] for r in rows})
    cell = {(r["model"], r["target"]): r for r in rows}

    def fmt(r: dict[str, Any] | None) -> str:
        if r is None:
            return "-"
        lo_hi = r["interval_ms"]
        span = f" [{_num(lo_hi[0])}-{_num(lo_hi[1])}]" if lo_hi else ""
        return f"{_num(r['estimate_ms'])}{span}"

    table = [[m, *[fmt(cell.get((m, t))) for t in targets]] for m in models]
    return format_table(["model (ms)", *targets], table, max_width=30) + "\n"
