"""`zoo-bench history`: every finished run of a store as series, and the steps in them.

A series is one figure of one model on one target over runs: (model, target, stage, metric,
variant, qualifier), one point per finished run that has it. Steps are found segment by segment:

* a point *shifts* when it differs from the current segment's level (the median of its last
  :data:`REFERENCE_POINTS` points) by more than the metric's threshold (the thresholds of
  ``zoo-bench compare``) and, where both sides kept raw samples, beyond the noise: the 95 %
  bootstrap interval of the statistic's ratio (:func:`.noise.ratio_interval`, new run's samples
  against the segment's pooled samples) excludes 1;
* a shift is a **step** only when it holds: the next :data:`CONFIRM` runs shift the same way
  against the old level. The step is attributed to the first run that shows it, and the new
  segment starts there. A shift in the newest run cannot be confirmed yet: it is ``pending``.
  A shift that later runs do not repeat is an outlier, left out of the level.

Each step lists what changed between the run before it and the run that shows it (zoo-bench
and tool versions, the model file's hash, the commit, the run options, the machine), so a
vendor upgrade is not read as a model regression.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import UsageError
from .compare import Thresholds, _qualifier, direction
from .history_runs import RunInfo, parse_since, resolve_baseline, run_info, select_runs
from .noise import MIN_SAMPLES, STATISTICS, ratio_interval

__all__ = ["History", "HistoryPoint", "RunInfo", "Series", "Step", "build_history", "detect_steps", "parse_since",
           "resolve_baseline", "run_info", "select_runs", "stat_interval", "tool_changes", "what_changed"]

if TYPE_CHECKING:
    from ..store import ResultsStore

REFERENCE_POINTS = 5
CONFIRM = 1
#: statistics of a sampled latency that follow its median; shown only when asked for with --metric
FOLLOWERS = ("latency_p90_ms", "latency_p99_ms", "latency_mean_ms", "inferences_per_s")

SeriesKey = tuple[str, str, str, str, str, str]  # model, target, stage, metric, variant, qualifier


@dataclass
class HistoryPoint:
    run: RunInfo
    value: float
    method: str
    tool: str
    tool_version: str
    packages: dict[str, Any]
    cached: bool
    model_sha256: str
    host: str
    samples: list[float] | None = None
    low: float | None = None  # 95 % bootstrap interval of the statistic, from the samples
    high: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run.run_id, "label": self.run.label, "started_at": self.run.started_at,
                "value": self.value, "low": self.low, "high": self.high,
                "n_samples": len(self.samples) if self.samples else 0, "method": self.method, "tool": self.tool,
                "tool_version": self.tool_version, "cached": self.cached, "busy": self.run.busy}


@dataclass
class Step:
    index: int
    before: float
    after: float
    change: float  # percent, or points for accuracy
    unit: str
    verdict: str  # regression, improvement (judged metrics), up, down (others)
    confirmed: bool
    confirmed_by: list[str]
    interval: tuple[float, float] | None
    changes: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Series:
    key: SeriesKey
    unit: str
    points: list[HistoryPoint] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    tool_changes: list[dict[str, Any]] = field(default_factory=list)
    #: runs whose stage of this figure failed or was skipped: {run_id, status, reason}
    missing: list[dict[str, Any]] = field(default_factory=list)
    levels: list[tuple[int, int, float]] = field(default_factory=list)  # (first index, last index, level)

    @property
    def title(self) -> str:
        model, target, stage, metric, variant, qualifier = self.key
        return " · ".join(x for x in (model, target, stage, qualifier, metric) if x)

    def as_dict(self) -> dict[str, Any]:
        model, target, stage, metric, variant, qualifier = self.key
        return {"model": model, "target": target, "stage": stage, "metric": metric, "variant": variant,
                "qualifier": qualifier, "unit": self.unit, "direction": direction(metric),
                "points": [p.as_dict() for p in self.points],
                "steps": [_step_dict(self, s) for s in self.steps if s.confirmed],
                "pending": [_step_dict(self, s) for s in self.steps if not s.confirmed],
                "tool_changes": self.tool_changes, "missing": self.missing}


def _step_dict(series: Series, s: Step) -> dict[str, Any]:
    return {"run_id": series.points[s.index].run.run_id, "label": series.points[s.index].run.label,
            "previous_run_id": series.points[s.index - 1].run.run_id, "index": s.index, "before": s.before,
            "after": s.after, "change": s.change, "change_unit": s.unit, "verdict": s.verdict,
            "confirmed_by": s.confirmed_by,
            "noise_interval": None if s.interval is None else {"low": s.interval[0], "high": s.interval[1],
                                                               "confidence": 0.95},
            "what_changed": s.changes}


@dataclass
class History:
    root: str
    runs: list[RunInfo]
    series: list[Series]
    thresholds: Thresholds

    def steps(self) -> list[tuple[Series, Step]]:
        return [(s, st) for s in self.series for st in s.steps]

    def to_json(self) -> str:
        t = self.thresholds
        return json.dumps({
            "store": self.root, "runs": [r.as_dict() for r in self.runs],
            "thresholds": {"latency_pct": t.latency_pct, "memory_pct": t.memory_pct,
                           "accuracy_points": t.accuracy_points, "other_pct": t.other_pct},
            "series": [s.as_dict() for s in self.series]}, indent=2, default=str)


# --- series -----------------------------------------------------------------------------------------

def _json_dict(text: Any) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _match(value: str, patterns: list[str]) -> bool:
    return not patterns or any(fnmatchcase(value, p) for p in patterns)


def stat_interval(metric: str, samples: list[float], resamples: int = 1000) -> tuple[float, float] | None:
    """95 % bootstrap interval of the statistic behind ``metric`` (median for p50) from raw samples."""
    stat = STATISTICS.get(metric)
    if stat is None or len(samples) < MIN_SAMPLES:
        return None
    a = np.asarray(samples, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        return None
    boot = stat(a[np.random.default_rng(0).integers(0, len(a), size=(resamples, len(a)))])
    low, high = np.percentile(boot[np.isfinite(boot)], [2.5, 97.5])
    return float(low), float(high)


def build_series(runs: list[RunInfo], rows_of: dict[str, list[dict[str, Any]]], models: list[str],
                 targets: list[str], metrics: list[str]) -> list[Series]:
    """One series per (model, target, stage, metric, variant, qualifier) over ``runs``."""
    series: dict[SeriesKey, Series] = {}
    for run in runs:
        rows = rows_of[run.run_id]
        model_sha = {(r["model"], r["target"]): r.get("artifact_sha256") or "" for r in rows
                     if r.get("stage_kind") == "source" and r["metric"] == "stage_seconds" and r["status"] == "ok"}
        ok = [r for r in rows if r["status"] == "ok" and r["metric"] != "stage_seconds" and r["value"] is not None
              and math.isfinite(r["value"]) and _match(r["model"], models) and _match(r["target"], targets)]
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for r in ok:
            groups.setdefault((r["model"], r["target"], r["stage"], r["metric"], r["variant"]), []).append(r)
        index: dict[SeriesKey, dict[str, Any]] = {}
        for k, group in groups.items():
            for r in group:
                index[(*k, _qualifier(r) if len(group) > 1 else "")] = r  # type: ignore[index]
        for key, r in index.items():
            metric = key[3]
            p50 = index.get((*key[:3], "latency_p50_ms", *key[4:]))  # type: ignore[arg-type]
            sampled = bool(p50 and p50.get("samples") and p50.get("method") == r.get("method")
                           and metric in STATISTICS)
            if metrics:
                if not _match(metric, metrics):
                    continue
            elif metric in FOLLOWERS and sampled:
                continue  # follows the median of the same samples: --metric to see it
            samples = [float(v) for v in p50["samples"]] if sampled and p50 else None
            interval = stat_interval(metric, samples) if samples else None
            point = HistoryPoint(run, float(r["value"]), r.get("method") or "", r.get("tool") or "",
                                 r.get("tool_version") or "", _json_dict(r.get("packages")), bool(r.get("cached")),
                                 model_sha.get((r["model"], r["target"]), ""), r.get("host") or "", samples,
                                 *(interval or (None, None)))
            series.setdefault(key, Series(key, r.get("unit") or "")).points.append(point)
    for run in runs:  # where a figure is missing because its stage failed: when did it break?
        stages = {(r["model"], r["target"], r["stage"]): r for r in rows_of[run.run_id]
                  if r["metric"] == "stage_seconds"}
        for key, s in series.items():
            stage = stages.get(key[:3])
            if stage is not None and stage["status"] != "ok" and all(p.run is not run for p in s.points):
                s.missing.append({"run_id": run.run_id, "status": stage["status"], "reason": stage["reason"] or ""})
    return [series[k] for k in sorted(series)]


# --- change detection -------------------------------------------------------------------------------

def _shift(points: list[HistoryPoint], ref: list[int], k: int, metric: str,
           thresholds: Thresholds) -> tuple[int, tuple[float, float] | None]:
    """(+1 up, -1 down, 0 no shift) of point ``k`` against the level of the ``ref`` points, and the noise interval."""
    limit, unit = thresholds.for_metric(metric)
    level = float(np.median([points[i].value for i in ref]))
    value = points[k].value
    if unit == "points":
        change = value - level
    elif level == 0:
        change = 0.0 if value == 0 else math.copysign(math.inf, value)
    else:
        change = 100.0 * (value - level) / abs(level)
    if abs(change) <= limit:
        return 0, None
    pooled = [v for i in ref for v in (points[i].samples or [])]
    interval = None
    if points[k].samples and len(pooled) >= MIN_SAMPLES:
        found = ratio_interval(metric, pooled, points[k].samples)
        if found is not None:
            interval = (found.low, found.high)
            if not found.excludes_one():
                return 0, interval  # beyond the threshold, not beyond the noise
    return (1 if change > 0 else -1), interval


def _level(points: list[HistoryPoint], idx: list[int]) -> float:
    return float(np.median([points[i].value for i in idx]))


def detect_steps(series: Series, thresholds: Thresholds, confirm: int = CONFIRM) -> None:
    """Fill ``series.steps`` and ``series.levels`` (see the module docstring)."""
    pts, metric = series.points, series.key[3]
    if not pts:
        return
    unit = thresholds.for_metric(metric)[1]
    sign = direction(metric)
    segment = [0]
    seg_start = 0
    i = 1
    while i < len(pts):
        ref = segment[-REFERENCE_POINTS:]
        shift, interval = _shift(pts, ref, i, metric, thresholds)
        if not shift:
            segment.append(i)
            i += 1
            continue
        later = list(range(i + 1, min(len(pts), i + 1 + confirm)))
        holds = bool(later) and all(_shift(pts, ref, k, metric, thresholds)[0] == shift for k in later)
        if later and not holds:
            i += 1  # an outlier: not part of any level
            continue
        before, after = _level(pts, ref), _level(pts, [i, *later])
        if unit == "points":
            change = after - before
        else:
            change = 100.0 * (after - before) / abs(before) if before else math.inf
        verdict = ("up" if shift > 0 else "down") if not sign else ("improvement" if shift == sign else "regression")
        series.steps.append(Step(i, before, after, change, unit, verdict, holds, [pts[k].run.run_id for k in later],
                                 interval, what_changed(pts[i - 1], pts[i])))
        if not holds:  # pending in the newest run: the level stays
            break
        series.levels.append((seg_start, i - 1, _level(pts, segment)))
        segment, seg_start = [i], i
        i += 1
    series.levels.append((seg_start, len(pts) - 1, _level(pts, segment)))


def what_changed(a: HistoryPoint, b: HistoryPoint) -> list[dict[str, str]]:
    """What differs between the runs of two points of a series: versions, model file, commit, options, machine."""
    out: list[dict[str, str]] = []

    def diff(what: str, before: Any, after: Any) -> None:
        if before != after:
            out.append({"what": what, "before": "" if before is None else str(before),
                        "after": "" if after is None else str(after)})

    diff("zoo-bench", a.run.zoo_bench_version, b.run.zoo_bench_version)
    diff(f"tool {b.tool or a.tool}", f"{a.tool} {a.tool_version}".strip(), f"{b.tool} {b.tool_version}".strip())
    for name in sorted(set(a.packages) | set(b.packages)):
        if name != (b.tool or a.tool):
            diff(f"package {name}", a.packages.get(name), b.packages.get(name))
    diff("model file sha256", a.model_sha256[:12] or None, b.model_sha256[:12] or None)
    ga, gb = a.run.git or {}, b.run.git or {}
    diff("git commit", (ga.get("commit") or "")[:12] or None, (gb.get("commit") or "")[:12] or None)
    diff("git branch", ga.get("branch"), gb.get("branch"))
    if ga.get("dirty") or gb.get("dirty"):
        diff("uncommitted changes", ga.get("dirty"), gb.get("dirty"))
    for name in sorted(set(a.run.options) | set(b.run.options)):
        diff(f"option {name}", a.run.options.get(name), b.run.options.get(name))
    diff("method", a.method, b.method)
    diff("host", a.host, b.host)
    diff("busy machine", a.run.busy, b.run.busy)
    return out


def tool_changes(series: Series) -> None:
    """Where the tool (or a package it used) changed version between consecutive points: marked on the plots."""
    pts = series.points
    for i in range(1, len(pts)):
        a, b = pts[i - 1], pts[i]
        moved = []
        if (a.tool, a.tool_version) != (b.tool, b.tool_version):
            moved.append(f"{b.tool} {a.tool_version or '?'} → {b.tool_version or '?'}")
        for name in sorted(set(a.packages) | set(b.packages)):
            if name != b.tool and a.packages.get(name) != b.packages.get(name):
                moved.append(f"{name} {a.packages.get(name) or '-'} → {b.packages.get(name) or '-'}")
        if a.run.zoo_bench_version != b.run.zoo_bench_version:
            moved.append(f"zoo-bench {a.run.zoo_bench_version or '?'} → {b.run.zoo_bench_version or '?'}")
        if moved:
            series.tool_changes.append({"index": i, "run_id": b.run.run_id, "changes": moved})


def build_history(store: ResultsStore, *, label: str | None = None, since: datetime | None = None,
                  models: list[str] | None = None, targets: list[str] | None = None,
                  metrics: list[str] | None = None, thresholds: Thresholds | None = None) -> History:
    """Every finished run of ``store`` that passes the filters, as series with their steps."""
    thresholds = thresholds or Thresholds()
    runs = select_runs(store, label, since)
    if not runs:
        what = " matching the filters" if label or since else ""
        raise UsageError(f"no finished run{what} in {store.root} (see `zoo-bench results --list`)")
    rows_of = {r.run_id: store.read(r.run_id).to_pylist() for r in runs}
    series = build_series(runs, rows_of, models or [], targets or [], metrics or [])
    if not series:
        raise UsageError(f"no figure in {len(runs)} finished runs of {store.root} matches "
                         "--model/--target/--metric")
    for s in series:
        detect_steps(s, thresholds)
        tool_changes(s)
    return History(str(store.root), runs, series, thresholds)
