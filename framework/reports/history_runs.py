"""Which runs `zoo-bench history` and `compare --baseline` look at: finished runs, their labels and start times.

A run's ``run.json`` may come from a shared store, so it is read as untrusted data: every value
kept is checked for its type (docs/security.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from .compare_report import run_status

if TYPE_CHECKING:
    from ..store import ResultsStore


@dataclass
class RunInfo:
    """One finished run, as its manifest describes it."""

    run_id: str
    label: str | None
    started_at: str
    zoo_bench_version: str | None
    git: dict[str, Any] | None
    options: dict[str, Any]
    busy: bool
    warnings: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "label": self.label, "started_at": self.started_at,
                "zoo_bench_version": self.zoo_bench_version, "git": self.git, "options": self.options,
                "busy": self.busy, "warnings": self.warnings}



def parse_since(text: str) -> datetime:
    """``2026-12-01``, an ISO date-time, or ``7d`` / ``12h`` before now (UTC)."""
    m = re.fullmatch(r"(\d+)([dh])", text.strip())
    if m:
        n = int(m.group(1))
        return datetime.now(UTC) - (timedelta(days=n) if m.group(2) == "d" else timedelta(hours=n))
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"--since {text!r}: expected a date (2026-12-01), an ISO date-time or Nd/Nh "
                         "(7d: the last seven days)") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _started(manifest: dict[str, Any], run_id: str) -> datetime | None:
    for text in (manifest.get("started_at"), run_id[:16]):
        try:
            when = datetime.fromisoformat(str(text))
        except (TypeError, ValueError):
            continue
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    return None


def run_info(store: ResultsStore, run_id: str) -> RunInfo:
    m = store.manifest(run_id)  # a shared store's run.json is not trusted: keep only values of the right type
    raw_git = m.get("git") if isinstance(m.get("git"), dict) else None
    git = None if raw_git is None else {
        "commit": raw_git["commit"] if isinstance(raw_git.get("commit"), str) else None,
        "branch": raw_git["branch"] if isinstance(raw_git.get("branch"), str) else None,
        "dirty": raw_git["dirty"] if isinstance(raw_git.get("dirty"), bool) else None}
    warnings = [str(w) for w in m.get("warnings") or [] if isinstance(w, str)]
    started = _started(m, run_id)
    version = m.get("zoo_bench_version")
    return RunInfo(run_id, str(m["label"]) if m.get("label") else None,
                   started.isoformat(timespec="seconds") if started else "", None if version is None else str(version),
                   git,
                   m.get("options") if isinstance(m.get("options"), dict) else {},
                   bool(m.get("busy")), warnings)


def select_runs(store: ResultsStore, label: str | None = None, since: datetime | None = None) -> list[RunInfo]:
    """Finished runs, oldest first, whose label matches ``label`` (a glob) and that started at or after ``since``.

    Oldest by the manifest's start time (microseconds): two runs started in the same second have ids that sort
    by their random suffix."""
    out = []
    when: dict[str, datetime] = {}
    for rid in store.run_ids():
        if run_status(store, rid) != "finished":
            continue
        info = run_info(store, rid)
        if label is not None and not (info.label and fnmatchcase(info.label, label)):
            continue
        started = _started(store.manifest(rid), rid)
        if since is not None and (started is None or started < since):
            continue
        when[rid] = started or datetime.min.replace(tzinfo=UTC)
        out.append(info)
    return sorted(out, key=lambda r: (when[r.run_id], r.run_id))


def resolve_baseline(store: ResultsStore, baseline: str, new_id: str) -> str:
    """``compare --baseline RUN|LABEL``: a run id (or prefix), else the latest finished run so labelled, not NEW."""
    ids = store.run_ids()
    if baseline in ids or sum(i.startswith(baseline) for i in ids) == 1:
        return store.resolve_run(baseline)
    labelled = [r.run_id for r in select_runs(store, label=baseline)]
    if labelled and labelled != [new_id]:
        return [r for r in labelled if r != new_id][-1]
    if labelled:
        raise UsageError(f"--baseline {baseline!r}: its only run is the run being judged ({new_id}); "
                         "nothing to compare yet")
    labels = sorted({r.label for r in select_runs(store) if r.label})
    known = f" (labels in the store: {', '.join(labels[:10])})" if labels else " (no run in the store has a label)"
    raise UsageError(f"--baseline {baseline!r}: no run id and no finished run labelled so in {store.root}{known}")
