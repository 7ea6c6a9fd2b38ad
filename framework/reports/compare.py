"""Compare two runs figure by figure: what a nightly CI job prints when it puts two runs side by side.

Rows are matched on (model, target, stage, metric, variant), plus the thread count when one run
holds several rows for the same figure (multi-thread tables). Each judged metric has a direction
(lower latency is better, higher accuracy is better) and a threshold of its kind: latency and
throughput in percent, memory in percent, accuracy in points. A measured latency whose raw samples
exist in both runs is judged by its median only, and is a regression only when it is beyond the
threshold *and* beyond the noise (a bootstrap interval of the median ratio, :mod:`.noise`);
otherwise its verdict is ``noise``. The tails and the mean of the same samples are reported, not
judged: they follow the load of a shared machine more than the build.

A stage that was ok in the base and is not now is ``broken``; a figure of the base that the new
run lacks is ``gone``. Both are failures, as are regressions, and a fit verdict that flipped to
"no" (``fit change``, :mod:`.fit_change`), whatever the thresholds.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from ..errors import UsageError
from ..metrics import MetricRegistry, get_metrics
from .fit_change import FitChange, is_fit_metric, judge_fit
from .noise import STATISTICS, RatioInterval, ratio_interval

FAILURES = ("fit change", "regression", "broken", "gone")

Key = tuple[str, str, str, str, str, str]  # model, target, stage, metric, variant, qualifier


def direction(metric: str, metrics: MetricRegistry | None = None) -> int:
    """+1 (higher is better), -1 (lower is better) or 0 (not judged), from the metric registry
    (``metrics.py``): a metric registered with ``compared=False``, a single-sample figure
    (``init_ms``: one measurement, too noisy for a fixed threshold) and a metric nobody
    registered are informational."""
    known = (metrics or get_metrics()).get(metric)
    if known is None or not known.compared or known.noise == "single-sample":
        return 0
    return {"higher": 1, "lower": -1}.get(known.direction, 0)


def _kind(metric: str, metrics: MetricRegistry | None = None) -> str:
    """accuracy (judged in points), latency (ms, 1/s), memory (KiB) or other, by the metric's unit."""
    known = (metrics or get_metrics()).get(metric)
    unit = known.unit if known else ""
    if known is not None and known.domain == "percent":
        return "accuracy"
    return {"ms": "latency", "1/s": "latency", "KiB": "memory"}.get(unit, "other")


@dataclass(frozen=True)
class Thresholds:
    """How large a change must be to count: percent for latency, memory and others, points for accuracy."""

    latency_pct: float = 5.0
    memory_pct: float = 1.0
    accuracy_points: float = 0.5
    other_pct: float = 5.0

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                flag = "--" + name.rsplit("_", 1)[0].replace("_", "-") + "-threshold"
                raise UsageError(f"{flag} must be a finite number >= 0, not {value!r}")

    def for_metric(self, metric: str) -> tuple[float, str]:
        """(threshold, unit) for ``metric``: unit is '%' (relative) or 'points' (absolute)."""
        kind = _kind(metric)
        if kind == "accuracy":
            return self.accuracy_points, "points"
        if kind == "latency":
            return self.latency_pct, "%"
        if kind == "memory":
            return self.memory_pct, "%"
        return self.other_pct, "%"


@dataclass
class Change:
    key: Key
    base: float | None
    new: float | None
    base_status: str
    new_status: str
    method: str
    verdict: str  # regression, improvement, same, noise, new, gone, broken, fixed
    reason: str = ""
    cached: bool = False
    interval: RatioInterval | None = None

    @property
    def delta_pct(self) -> float | None:
        if self.base in (None, 0) or self.new is None:
            return None
        return 100.0 * (self.new - self.base) / abs(self.base)

    def as_dict(self) -> dict[str, Any]:
        model, target, stage, metric, variant, qualifier = self.key
        out = {"model": model, "target": target, "stage": stage, "metric": metric, "variant": variant,
               "qualifier": qualifier, "base": self.base, "new": self.new, "delta_pct": self.delta_pct,
               "verdict": self.verdict, "base_status": self.base_status, "new_status": self.new_status,
               "method": self.method, "cached": self.cached, "reason": self.reason, "noise_interval": None}
        if self.interval is not None:
            out["noise_interval"] = {"ratio": self.interval.ratio, "low": self.interval.low,
                                     "high": self.interval.high, "confidence": self.interval.confidence}
        return out


@dataclass
class Comparison:
    base_id: str
    new_id: str
    thresholds: Thresholds
    changes: list[Change]
    new_finished: bool = True
    new_status: str = "finished"
    notes: list[str] = field(default_factory=list)
    #: models and targets whose fit verdict changed (:mod:`.fit_change`), headlines above the rows
    fit_changes: list[FitChange] = field(default_factory=list)

    def failures(self) -> list[Change]:
        return [c for c in self.changes if c.verdict in FAILURES]

    def failed(self) -> bool:
        """What CI acts on: a regression, a broken stage, a figure gone, or a new run that did not finish."""
        return bool(self.failures()) or not self.new_finished

    def cached(self) -> list[Change]:
        return [c for c in self.changes if c.cached]


def _qualifier(row: dict[str, Any]) -> str:
    try:
        extra = json.loads(row.get("extra") or "{}")
    except (TypeError, ValueError):
        return ""
    threads = extra.get("threads") if isinstance(extra, dict) else None
    return "" if threads is None else f"threads={threads}"


def _index(rows: list[dict[str, Any]]) -> dict[Key, dict[str, Any]]:
    """Rows by key; failed and skipped stages by their stage_seconds row. Threads qualify only on collision."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for r in rows:
        metric = r["metric"] if r["status"] == "ok" else "stage_seconds"
        groups.setdefault((r["model"], r["target"], r["stage"], metric, r["variant"]), []).append(r)
    out: dict[Key, dict[str, Any]] = {}
    for base_key, group in groups.items():
        for r in group:
            out[(*base_key, _qualifier(r) if len(group) > 1 else "")] = r
    return out


def _stage_status(rows: list[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(r["model"], r["target"], r["stage"]): r for r in rows if r["metric"] == "stage_seconds"}


def _judge(metric: str, b: dict[str, Any], n: dict[str, Any], thresholds: Thresholds,
           samples: tuple[list[float] | None, list[float] | None]) -> tuple[str, RatioInterval | None]:
    sign = direction(metric)
    b_val, n_val = b["value"], n["value"]
    if not sign or b_val is None or n_val is None:
        return "same", None
    limit, unit = thresholds.for_metric(metric)
    if unit == "points":
        change = n_val - b_val
    elif b_val == 0:
        return "same", None
    else:
        change = 100.0 * (n_val - b_val) / abs(b_val)
    if change * sign < -limit:
        verdict = "regression"
    elif change * sign > limit:
        verdict = "improvement"
    else:
        return "same", None
    interval = None
    if samples[0] and samples[1]:
        interval = ratio_interval(metric, samples[0], samples[1])
        if interval is not None and not interval.excludes_one():
            verdict = "noise"  # beyond the threshold, not beyond the noise
    return verdict, interval


def _samples(rows_by_key: dict[Key, dict[str, Any]], key: Key) -> list[float] | None:
    """Raw samples behind a latency figure: those of the p50 row of the same stage and qualifier."""
    p50 = rows_by_key.get((*key[:3], "latency_p50_ms", *key[4:]))
    if p50 is None or p50.get("method") != rows_by_key[key].get("method"):
        return None
    return list(p50["samples"]) if p50.get("samples") else None


def compare_rows(base_rows: list[dict[str, Any]], new_rows: list[dict[str, Any]],
                 thresholds: Thresholds | None = None) -> list[Change]:
    """Every matched, new, gone, broken or fixed figure between two runs' rows."""
    thresholds = thresholds or Thresholds()
    base, new = _index(base_rows), _index(new_rows)
    new_stages = _stage_status(new_rows)
    changes = []
    for key in sorted(set(base) | set(new)):
        b, n = base.get(key), new.get(key)
        metric = key[3]
        if metric == "stage_seconds" and b and n and b["status"] == n["status"] == "ok":
            continue  # wall time of stages is not a benchmark figure
        b_status = b["status"] if b else "absent"
        n_status = n["status"] if n else "absent"
        reason, interval = "", None
        if b is None:
            verdict = "new"
        elif n is None:
            stage = new_stages.get(key[:3])
            if stage is not None and stage["status"] != "ok" and b_status == "ok":
                continue  # the stage's own row says it broke; its figures are not repeated
            verdict, reason = "gone", "the new run has no such figure"
        elif b_status == "ok" and n_status != "ok":
            verdict, reason = "broken", n.get("reason") or ""
        elif b_status != "ok" and n_status == "ok":
            verdict = "fixed"
        elif b_status != "ok":
            verdict, reason = "same", n.get("reason") or ""
        elif metric != "stage_seconds" and _impossible(metric, n["value"]):
            # a figure that cannot be true (NaN, missing, zero or negative latency) is no result
            verdict, reason = "broken", f"the new figure cannot be true: {_impossible(metric, n['value'])}"
        elif metric != "stage_seconds" and _impossible(metric, b["value"]):
            verdict, reason = "same", f"the base figure cannot be true ({_impossible(metric, b['value'])}): not judged"
        elif is_fit_metric(metric):  # a verdict flip fails whatever the thresholds (fit_change.py)
            verdict = judge_fit(b["value"], n["value"])
        elif metric != "stage_seconds" and direction(metric) == 0 and (known := get_metrics().get(metric)) \
                and known.noise == "single-sample":
            verdict, reason = "same", "a single measurement: informational, not judged on a threshold"
        elif metric != "latency_p50_ms" and metric in STATISTICS and _samples(base, key) and _samples(new, key):
            # tails and means of a sampled distribution move with the machine's load; the median decides
            verdict, reason = "same", "judged by the median (latency_p50_ms) of the same samples"
        else:
            verdict, interval = _judge(metric, b, n, thresholds, (_samples(base, key), _samples(new, key)))
        b_val = b["value"] if b and b_status == "ok" else None
        n_val = n["value"] if n and n_status == "ok" else None
        cached = bool(n and n_status == "ok" and n.get("cached") and n.get("stage_kind") == "run"
                      and metric != "stage_seconds")
        method = (n or b or {}).get("method", "")
        changes.append(Change(key, b_val, n_val, b_status, n_status, method, verdict, reason, cached, interval))
    return changes


def _impossible(metric: str, value: Any) -> str | None:
    """Why an ok row's value cannot be a figure of ``metric``: missing, or outside its domain."""
    if value is None:
        return f"{metric} has no value"
    return get_metrics().problem(metric, value)


def is_failure(change: Change) -> bool:
    return change.verdict in FAILURES
