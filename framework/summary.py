"""The end of ``zoo-bench run``: per model and target, the answer (docs/models.md, "The run summary").

One line per job: latency (with its interval and method), RAM and flash needed against the
chip's internal memory (% of capacity) and the fit verdict. One figure per quantity, the
best-grounded one (:func:`best`); every other figure stays in ``zoo-bench results``. Under the
table, failures one per line and skip reasons grouped: each distinct reason once, with the
stages it applies to.

"Best-grounded" is, in order: the method (``measured-board`` > ``measured-host`` >
``tool-estimate`` > ``model-estimate``); a figure computed for this model (a memory planner,
a compiler report) over one fitted on other models (its ``extra`` names ``fitted_on``); the
int8 variant (what is deployed) over the float one; the preferred metric of the quantity
(``total_ram_kib`` over ``activation_ram_kib``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .records import extra_dict
from .table import format_table

METHOD_RANK = {"measured-board": 0, "measured-host": 1, "tool-estimate": 2, "model-estimate": 3}
LATENCY_METRICS = ("latency_p50_ms", "latency_mean_ms")
RAM_METRICS = ("total_ram_kib", "activation_ram_kib")
FLASH_METRICS = ("total_flash_kib", "weights_flash_kib")
VERDICT_ORDER = ("fits internal", "needs external", "does not fit")
METHOD_SHORT = {"measured-board": "board", "measured-host": "host", "tool-estimate": "tool est.",
                "model-estimate": "model est."}


def _extra(rec: Any) -> dict[str, Any]:
    return extra_dict(getattr(rec, "extra", None))


def _rank(rec: Any, metrics: tuple[str, ...]) -> tuple[int, int, int, int]:
    return (METHOD_RANK.get(rec.method, 9), 1 if "fitted_on" in _extra(rec) else 0,
            0 if rec.variant == "int8" else 1, metrics.index(rec.metric))


def best(records: Iterable[Any], metrics: tuple[str, ...]) -> Any | None:
    """The best-grounded ok row among ``metrics`` (see the module docstring), or None."""
    rows = [r for r in records if r.status == "ok" and r.metric in metrics and r.value is not None]
    return min(rows, key=lambda r: _rank(r, metrics)) if rows else None


def _interval(rec: Any, records: list[Any]) -> str:
    """``[low-high]``: the estimate's published interval, or a measurement's p10-p90 of its samples."""
    extra = _extra(rec)
    if isinstance(extra.get("interval"), (list, tuple)) and len(extra["interval"]) == 2:
        low, high = extra["interval"]
        return f"[{low:.3g}-{high:.3g}]"
    samples = list(getattr(rec, "samples", None) or [])
    if len(samples) >= 5:
        import numpy as np

        low, high = np.percentile(samples, [10, 90])
        return f"[{low:.3g}-{high:.3g}] p10-p90"
    return ""


@dataclass
class Answer:
    """The summary line of one job."""

    model: str
    target: str
    latency: str = ""
    ram: str = ""
    flash: str = ""
    fit: str = ""
    status: str = ""
    #: ``cached`` when the latency shown was served from the artifact cache (``--fresh`` re-measures)
    cached: str = ""

    def row(self) -> list[Any]:
        return [self.model, self.target, self.latency, self.ram, self.flash, self.fit, self.status, self.cached]


def _need(rec: Any | None, verdict_row: Any | None) -> str:
    if rec is None:
        return ""
    text = f"{rec.value:,.0f} KiB"
    internal = _extra(verdict_row).get("internal_kib") if verdict_row is not None else None
    if internal:
        text += f" ({100.0 * rec.value / float(internal):.0f}% of {float(internal):,.0f})"
    return f"{text} {METHOD_SHORT.get(rec.method, rec.method)}"


def _verdict(records: list[Any], kind: str) -> tuple[Any | None, str]:
    rows = [r for r in records if r.status == "ok" and r.metric == f"fits_internal_{kind}"]
    if not rows:
        return None, ""
    row = min(rows, key=lambda r: METHOD_RANK.get(r.method, 9))
    return row, str(_extra(row).get("verdict") or ("fits internal" if row.value else "needs external"))


def answer(result: Any) -> Answer:
    """The answer line of one :class:`~zoo_bench.records.JobResult`."""
    model, target = result.job_id.split("@", 1)
    records = [r for r in result.records if r.metric != "stage_seconds"]
    out = Answer(model, target, status=result.status)
    lat = best(records, LATENCY_METRICS)
    if lat is not None:
        out.latency = " ".join(filter(None, [f"{lat.value:.3g} ms", _interval(lat, records),
                                             METHOD_SHORT.get(lat.method, lat.method), lat.variant]))
        out.cached = "cached" if lat.cached else ""
    ram_verdict, ram_text = _verdict(records, "ram")
    flash_verdict, flash_text = _verdict(records, "flash")
    out.ram = _need(best(records, RAM_METRICS), ram_verdict)
    out.flash = _need(best(records, FLASH_METRICS), flash_verdict)
    verdicts = [v for v in (ram_text, flash_text) if v]
    if verdicts:
        worst = max(verdicts, key=lambda v: VERDICT_ORDER.index(v) if v in VERDICT_ORDER else 0)
        parts = [f"{kind} {text}" for kind, text in (("RAM", ram_text), ("flash", flash_text))
                 if text and text != "fits internal"]
        out.fit = worst if worst == "fits internal" else ", ".join(parts)
    return out


def grouped_skips(results: Iterable[Any]) -> dict[str, list[str]]:
    """Each distinct skip reason once, with the ``job stage`` ids it applies to (stages skipped
    only because an upstream stage was are left out: their root is listed)."""
    groups: dict[str, list[str]] = {}
    for res in results:
        target = res.job_id.split("@", 1)[-1]
        for rec in res.records:
            if rec.metric == "stage_seconds" and rec.status == "skipped" and "blocked_by" not in _extra(rec):
                # "no board for target imx93" and "... imx8mp" are one reason, listed with both stages
                reason = (rec.reason or "(no reason given)").replace(f"target {target}", "target <target>")
                groups.setdefault(reason, []).append(f"{res.job_id} {rec.stage}")
    return groups


def summary_text(results: list[Any], width: int = 100) -> str:
    """The table, then failures, then grouped skip reasons."""
    headers = ["model", "target", "latency (interval, method)", "RAM need (% internal)",
               "flash need (% internal)", "fit", "status", "cached"]
    lines = [format_table(headers, [answer(r).row() for r in results])]
    failures = [(r.job_id, rec) for r in results for rec in r.records
                if rec.metric == "stage_seconds" and rec.status == "failed" and "blocked_by" not in _extra(rec)]
    if failures:
        lines.append("")
        lines += [f"failed: {job} {rec.stage}: {rec.reason}" for job, rec in failures]
    groups = grouped_skips(results)
    if groups:
        lines.append("")
        for reason, where in groups.items():
            shown = ", ".join(where[:6]) + (f" and {len(where) - 6} more" if len(where) > 6 else "")
            lines.append(f"skipped ({len(where)}): {reason}\n    {shown}")
    return "\n".join(lines)


def summary_json(results: list[Any]) -> list[Mapping[str, Any]]:
    """The answer lines as data (for callers that want them; ``run --json`` keeps its format)."""
    return [vars(answer(r)) for r in results]
