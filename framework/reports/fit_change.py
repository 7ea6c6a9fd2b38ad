"""Fit verdict changes between two runs: the event an MCU team cares most about.

A fit verdict row (``fits_internal_ram``, ``fits_with_external_ram``, ``fits_internal_flash``,
``fits_with_external_flash``; 1 = yes) that goes from 1 to 0 is a ``fit change``: its own
verdict class, listed first and failing the comparison whatever the thresholds (a model that
no longer fits the chip's internal RAM needs another board design, however small the change in
KiB). A 0 -> 1 is an ``improvement``.

Above the rows, one headline per model and target whose verdict changed, e.g.
``stm32h7: RAM 730 -> 1,450 KiB, now needs external RAM; latency model est. 127 -> 217 ms;
likely cause: MACs 12.1M -> 24.5M, params 1.2M -> 2.3M``.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from ..records import extra_dict
from ..summary import LATENCY_METRICS, METHOD_RANK, METHOD_SHORT, best

FIT_CHANGE = "fit change"
VERDICTS = ("fits internal", "needs external", "does not fit")
KINDS = {"ram": "RAM", "flash": "flash"}


def is_fit_metric(metric: str) -> bool:
    return metric.startswith(("fits_internal_", "fits_with_external_"))


def judge_fit(base_value: float | None, new_value: float | None) -> str:
    """``fit change`` when a fit verdict went from yes to no, ``improvement`` for no to yes."""
    if base_value is None or new_value is None or base_value == new_value:
        return "same"
    return FIT_CHANGE if new_value < base_value else "improvement"


def _extra(row: dict[str, Any]) -> dict[str, Any]:
    return extra_dict(row.get("extra"))


def _verdict(rows: list[dict[str, Any]], kind: str) -> tuple[str, float | None] | None:
    """(verdict text, need KiB) of the best-grounded ``fits_internal_<kind>`` row."""
    found = [r for r in rows if r["status"] == "ok" and r["metric"] == f"fits_internal_{kind}"]
    if not found:
        return None
    row = min(found, key=lambda r: METHOD_RANK.get(r.get("method", ""), 9))
    extra = _extra(row)
    verdict = str(extra.get("verdict") or ("fits internal" if row["value"] else "needs external"))
    need = extra.get("need_kib")
    return verdict, float(need) if isinstance(need, (int, float)) else None


def _short(value: float) -> str:
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= div:
            return f"{value / div:.3g}{suffix}"
    return f"{value:.3g}"


@dataclass
class FitChange:
    """One model on one target whose fit verdict changed."""

    model: str
    target: str
    headline: str
    worse: bool

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "target": self.target, "headline": self.headline, "worse": self.worse}


def fit_changes(base_rows: list[dict[str, Any]], new_rows: list[dict[str, Any]]) -> list[FitChange]:
    """The headline of every model and target whose fit verdict changed, worse ones first."""
    def by_job(rows: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
        out: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for r in rows:
            out.setdefault((r["model"], r["target"]), []).append(r)
        return out

    base, new = by_job(base_rows), by_job(new_rows)
    found = []
    for key in sorted(set(base) & set(new)):
        parts, worse, changed = [], False, False
        for kind, label in KINDS.items():
            b, n = _verdict(base[key], kind), _verdict(new[key], kind)
            if b is None or n is None or b[0] == n[0]:
                continue
            changed = True
            b_rank = VERDICTS.index(b[0]) if b[0] in VERDICTS else 0
            n_rank = VERDICTS.index(n[0]) if n[0] in VERDICTS else 0
            worse = worse or n_rank > b_rank
            amount = f" {b[1]:,.0f} -> {n[1]:,.0f} KiB" if b[1] is not None and n[1] is not None else ""
            parts.append(f"{label}{amount}, now {n[0]}" + (f" {label}" if n[0] == "needs external" else ""))
        if not changed:
            continue
        parts += _latency(base[key], new[key]) + _cause(base_rows, new_rows, key[0])
        found.append(FitChange(key[0], key[1], f"{key[1]}: " + "; ".join(parts), worse))
    return sorted(found, key=lambda f: (not f.worse, f.model, f.target))


def _latency(base: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[str]:
    b = best([SimpleNamespace(**r) for r in base], LATENCY_METRICS)
    n = best([SimpleNamespace(**r) for r in new], LATENCY_METRICS)
    if b is None or n is None:
        return []
    how = METHOD_SHORT.get(n.method, n.method)
    return [f"latency {how} {b.value:.3g} -> {n.value:.3g} ms"]


def _cause(base_rows: list[dict[str, Any]], new_rows: list[dict[str, Any]], model: str) -> list[str]:
    """MACs and params of the model in both runs: the likely cause of a fit change."""
    def value(rows: list[dict[str, Any]], metric: str) -> float | None:
        return next((r["value"] for r in rows if r["model"] == model and r["metric"] == metric
                     and r["status"] == "ok" and r["value"] is not None), None)

    parts = []
    for metric, label in (("macs", "MACs"), ("params", "params")):
        b, n = value(base_rows, metric), value(new_rows, metric)
        if b is not None and n is not None:
            parts.append(f"{label} {_short(b)} -> {_short(n)}")
    return [f"likely cause: {', '.join(parts)}"] if parts else []
