"""The fidelity report: per target and published point, estimate vs published figure.

For every fitted (target, metric), measured as the best latency predictors report it (nn-Meter,
MobiSys 2021): the share of leave-one-model-out (LOMO) predictions within +-10 % and +-20 % of
the published figure, the median and worst |LOMO error|, the Spearman rank correlation of LOMO
predictions with the published figures, and the coverage of the 10-90 % interval (each network's
interval built from the other networks' LOMO errors). Held-out points (MobileNet v2 width 1.0,
never fitted) and check-only points are predicted by the full model and reported apart.
"""

from __future__ import annotations

import statistics
from typing import Any

from ..table import format_table
from .estimators import TargetFit
from .fit import FittedModel, Sample

#: Goals on LOMO predictions of targets with at least 8 networks: metric -> (|error| bound,
#: share of networks that must be within it). Latency's is the project's (issue 20); a plugin
#: declares others per target (``goals`` of a target in its points file) and may override it.
GOALS = {"latency_mean_ms": (0.10, 0.90)}
GOAL_MIN_NETWORKS = 8
#: The held-out figures are checked against this bound (never tuned on).
HOLDOUT_GOAL = 0.10


def _err(est: float, published: float) -> float:
    return (est - published) / published


def point_rows(tf: TargetFit) -> list[dict[str, Any]]:
    """One dict per point: fitted ones first, then holdout, then check-only."""
    m = tf.model
    rows = []
    for s, est, lomo in zip(m.samples, m.fitted, m.lomo, strict=True):
        rows.append(_row(m, s, est, "fit", lomo, _covered(m, s, lomo)))
    for kind, samples in (("holdout", tf.holdout), ("check", tf.check)):
        for s in samples:
            rows.append(_row(m, s, m.predict(s.features, s.floor), kind, None, None))
    return rows


def _covered(m: FittedModel, s: Sample, lomo: float | None) -> bool | None:
    """Did the published figure fall in the 10-90 % interval of its LOMO estimate, the interval
    built from the other networks' LOMO errors (the network itself never contributes)?"""
    if lomo is None:
        return None
    est = float(s.point["value"]) * (1.0 + lomo)
    widen = 2.0 if m.extrapolation(s.features, s.group) else 1.0  # as a job of that network gets it
    interval = m.interval_from(est, m.lomo_errors_without(s.group), widen)
    return None if interval is None else interval[0] <= float(s.point["value"]) <= interval[1]


def _row(m: FittedModel, s: Sample, est: float, kind: str, lomo: float | None,
         covered: bool | None) -> dict[str, Any]:
    p = s.point
    published = float(p["value"])
    return {"target": m.target, "metric": m.metric, "model": p["model"], "kind": kind,
            "published": published, "unit": p["unit"], "estimate": round(est, 4),
            "error_pct": round(100.0 * _err(est, published), 1),
            "lomo_estimate": None if lomo is None else round(published * (1.0 + lomo), 4),
            "lomo_error_pct": None if lomo is None else round(100.0 * lomo, 1),
            "in_interval": covered, "floor": round(s.floor, 4) if s.floor else None,
            "source": p["source"], "path": p.get("path"), "tool_version": p.get("tool_version"),
            "note": p.get("check_only")}


def spearman(xs: list[float], ys: list[float]) -> float | None:
    """Spearman rank correlation (average ranks for ties); ``None`` under 3 pairs."""
    if len(xs) < 3:
        return None

    def ranks(v: list[float]) -> list[float]:
        order = sorted(range(len(v)), key=lambda i: v[i])
        r = [0.0] * len(v)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and v[order[j + 1]] == v[order[i]]:
                j += 1
            for k in range(i, j + 1):
                r[order[k]] = (i + j) / 2.0
            i = j + 1
        return r

    rx, ry = ranks(xs), ranks(ys)
    mx, my = statistics.fmean(rx), statistics.fmean(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    sx = sum((a - mx) ** 2 for a in rx) ** 0.5
    sy = sum((b - my) ** 2 for b in ry) ** 0.5
    return None if sx == 0 or sy == 0 else round(cov / (sx * sy), 3)


def _share(errors: list[float], bound: float) -> float | None:
    return round(100.0 * sum(abs(e) <= bound + 1e-12 for e in errors) / len(errors), 1) if errors else None


def summary(tf: TargetFit) -> dict[str, Any]:
    """Shares within +-10/20 %, median and worst |LOMO error|, Spearman, interval coverage,
    held-out errors apart, the goal and whether it is met."""
    m = tf.model
    rows = point_rows(tf)
    fitted = [r for r in rows if r["kind"] == "fit" and r["lomo_error_pct"] is not None]
    lomo = [r["lomo_error_pct"] / 100.0 for r in fitted]
    covered = [r["in_interval"] for r in fitted if r["in_interval"] is not None]
    hold = [r for r in rows if r["kind"] == "holdout"]
    bound, share_needed = ({**GOALS, **{k: tuple(v) for k, v in tf.goals.items()}}).get(m.metric, (None, None))
    applies = bound is not None and len(m.groups) >= GOAL_MIN_NETWORKS and bool(lomo)
    within_goal = _share(lomo, bound) if bound is not None else None
    return {**m.describe(),
            "within_5_pct": _share(lomo, 0.05), "within_10_pct": _share(lomo, 0.10),
            "within_20_pct": _share(lomo, 0.20),
            "lomo_worst_abs_error_pct": round(100 * max(abs(e) for e in lomo), 1) if lomo else None,
            "spearman": spearman([r["lomo_estimate"] for r in fitted], [r["published"] for r in fitted]),
            "interval_coverage_pct": round(100.0 * sum(covered) / len(covered), 1) if covered else None,
            "fit_median_abs_error_pct": round(100 * statistics.median(
                abs(_err(e, float(s.point["value"]))) for s, e in zip(m.samples, m.fitted, strict=True)), 1),
            "holdout": [{"model": r["model"], "error_pct": r["error_pct"],
                         "within_goal": abs(r["error_pct"]) <= 100 * HOLDOUT_GOAL} for r in hold],
            "holdout_abs_error_pct": [abs(r["error_pct"]) for r in hold],
            "goal": None if bound is None else f"{100 * share_needed:.0f} % of points within +-{100 * bound:.0f} %",
            "goal_pct": None if bound is None else 100 * bound,
            "goal_within_pct": within_goal,
            "goal_met": (within_goal is not None and within_goal >= 100 * share_needed) if applies else None,
            "bounds": m.bounds or None,
            "missing_workloads": sorted(set(tf.missing))}


def report(fits: list[TargetFit]) -> dict[str, Any]:
    return {"targets": [{"summary": summary(tf), "points": point_rows(tf)} for tf in fits]}


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:+.1f}" if abs(v) < 1000 else f"{v:+.0f}"
    return str(v)


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f} %"


def _num(v: float) -> str:
    return f"{v:.4g}" if v < 1e4 else f"{v:.0f}"


def text_report(fits: list[TargetFit]) -> str:
    """The tables ``zoo-bench fidelity`` prints (and docs/estimators.md holds)."""
    out = []
    for tf in fits:
        s = summary(tf)
        m = tf.model
        coefs = ", ".join(f"{k}={v:.4g}" for k, v in s["coefficients"].items())
        goal = ("no goal for this metric" if s["goal"] is None else
                "no goal (< 8 networks)" if s["goal_met"] is None else
                f"goal {s['goal']}: {'met' if s['goal_met'] else 'NOT met'}")
        out.append(f"{m.target} {m.metric}: {s['points']} points, {s['networks']} networks; LOMO within 10 % "
                   f"{_pct(s['within_10_pct'])}, within 20 % {_pct(s['within_20_pct'])}, median |err| "
                   f"{_pct(s['lomo_median_abs_error_pct'])}, worst {_pct(s['lomo_worst_abs_error_pct'])}, "
                   f"Spearman {'-' if s['spearman'] is None else format(s['spearman'], '.2f')}, "
                   f"interval coverage {_pct(s['interval_coverage_pct'])} ({goal})")
        if s["holdout"]:
            out.append("  held out (never fitted): " + ", ".join(
                f"{h['model']} {h['error_pct']:+.1f} %" for h in s["holdout"]))
        out.append(f"  model: {coefs}")
        rows = [[r["model"], r["kind"], _num(r["estimate"]), _num(r["published"]), _fmt(r["error_pct"]),
                 _fmt(r["lomo_error_pct"]), {True: "yes", False: "no", None: "-"}[r["in_interval"]]]
                for r in point_rows(tf)]
        table = format_table(["model", "kind", "estimate", "published", "err %", "LOMO err %", "in interval"],
                             rows)
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


def catalog_estimates(fits: list[TargetFit], catalog: dict[str, Any],
                      definitions: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Latency estimate and interval of every catalog model with a cached workload, per target.

    A catalog model that is one of a target's fitted networks (a points-file definition names it)
    gets the leave-one-network-out estimate, marked ``in_fit``: never its in-sample value."""
    from .estimators import network_key
    from .fit import FEATURES, features_of, physical_floor_ms

    groups = {d["catalog"]: network_key(d) for d in (definitions or {}).values() if d.get("catalog")}
    rows = []
    for tf in fits:
        m = tf.model
        if m.metric != "latency_mean_ms" or not set(m.features) <= set(FEATURES):  # (a target fitted on its
            continue  # plugin's own figures, estimators.figure_samples, has no workload features)
        for name, entry in sorted(catalog.items()):
            base = (entry.get("baselines", {}).get(m.target) or {}).get("latency_mean_ms")
            if "baseline_ms" in m.features and base is None:
                continue
            feats = features_of(entry["workload"], m.features, base, m.context)
            floor = physical_floor_ms(entry["workload"], m.bounds)
            group = groups.get(name) if groups.get(name) in set(m.groups) else None
            loo = m.predict_without(group, feats, floor) if group else None
            value = loo if loo is not None else m.predict(feats, floor)
            errors = m.lomo_errors_without(group) if group else [e for e in m.lomo if e is not None]
            interval = m.interval_from(value, errors, widen=2.0 if m.extrapolation(feats, group) else 1.0)
            rows.append({"model": name, "target": m.target, "estimate_ms": value, "in_fit": loo is not None,
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
        return f"{_num(r['estimate_ms'])}{span}{' *' if r.get('in_fit') else ''}"

    table = [[m, *[fmt(cell.get((m, t))) for t in targets]] for m in models]
    note = "* in the fit: the leave-one-network-out estimate\n" if any(r.get("in_fit") for r in rows) else ""
    return format_table(["model (ms)", *targets], table, max_width=30) + "\n" + note


def summary_markdown(fits: list[TargetFit]) -> str:
    """The per target and metric summary table docs/estimators.md holds (a test keeps it in step)."""
    head = ["target", "metric", "networks", "points", "within 10 %", "within 20 %", "median abs err", "worst",
            "Spearman", "interval coverage", "held out (err %)", "goal"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for tf in fits:
        s = summary(tf)
        goal = ("-" if s["goal"] is None else f"{s['goal']}: " +
                ("too few networks" if s["goal_met"] is None else "met" if s["goal_met"] else "**not met**"))
        held = ", ".join(f"{h['error_pct']:+.1f}" for h in s["holdout"]) or "-"
        cells = [tf.model.target, tf.model.metric, str(s["networks"]), str(s["points"]), _pct(s["within_10_pct"]),
                 _pct(s["within_20_pct"]), _pct(s["lomo_median_abs_error_pct"]), _pct(s["lomo_worst_abs_error_pct"]),
                 "-" if s["spearman"] is None else f"{s['spearman']:.2f}", _pct(s["interval_coverage_pct"]), held,
                 goal]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
