"""Which runs `zoo-bench compare` puts side by side, and how it prints them (terminal, markdown, JSON).

A run whose process was killed keeps the status ``running`` in its manifest forever, so "the
latest run" means the latest *finished* one; a run given explicitly that did not finish is
compared but counts as a failure.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..table import fmt_value, format_table
from .compare import Change, Comparison, Thresholds, _kind, compare_rows
from .fit_change import fit_changes

if TYPE_CHECKING:
    from ..store import ResultsStore

VERDICT_ORDER = ("fit change", "regression", "broken", "gone", "noise", "improvement", "fixed", "new", "same")


def run_status(store: ResultsStore, run_id: str) -> str:
    """The manifest's status of a run; ``unknown`` when its run.json cannot be read."""
    try:
        return str(store.manifest(run_id).get("status") or "unknown")
    except (UsageError, OSError, ValueError, AttributeError):
        return "unknown"


def finished_runs(store: ResultsStore) -> list[str]:
    return [rid for rid in store.run_ids() if run_status(store, rid) == "finished"]


def pick_runs(store: ResultsStore, base: str | None, new: str | None) -> tuple[str, str]:
    """(base, new) run ids: by default the last two finished runs; ``latest`` is the latest finished run."""
    finished = finished_runs(store)
    if base is None and new is None:
        if len(finished) < 2:
            others = len(store.run_ids()) - len(finished)
            raise UsageError(f"need two finished runs in {store.root} to compare (found {len(finished)}"
                             + (f", and {others} that did not finish" if others else "") + ")")
        return finished[-2], finished[-1]

    def resolve(run_id: str | None) -> str:
        if run_id in (None, "latest"):
            if not finished:
                raise UsageError(f"no finished run in {store.root}")
            return finished[-1]
        return store.resolve_run(run_id)

    return resolve(base), resolve(new)


def compare_runs(store: ResultsStore, base_id: str, new_id: str, thresholds: Thresholds) -> Comparison:
    new_rows = store.read(new_id).to_pylist()
    base_rows = store.read(base_id).to_pylist()
    changes = compare_rows(base_rows, new_rows, thresholds)
    status = run_status(store, new_id)
    comparison = Comparison(base_id, new_id, thresholds, changes, new_finished=status == "finished",
                            new_status=status, fit_changes=fit_changes(base_rows, new_rows))
    if not comparison.new_finished:
        comparison.notes.append(f"run {new_id} did not finish (status {status}): its missing figures are not "
                                "a result")
    cached = comparison.cached()
    if cached:
        comparison.notes.append(f"{len(cached)} measurements of run {new_id} were served from the cache, not "
                                "re-measured (run with --rerun run to measure again)")
    return comparison


def _ordered(changes: list[Change], show_all: bool) -> list[Change]:
    shown = changes if show_all else [c for c in changes if c.verdict != "same"]
    return sorted(shown, key=lambda c: (VERDICT_ORDER.index(c.verdict), c.key))


def _delta(c: Change) -> str:
    if _kind(c.key[3]) == "accuracy":  # percentages change by points (metric registry)
        if c.base is not None and c.new is not None:
            return f"{c.new - c.base:+.2f} pt"
        return ""
    if c.delta_pct is None:
        return ""
    text = f"{c.delta_pct:+.1f} %"
    if c.interval is not None:
        lo, hi = (100 * (c.interval.low - 1), 100 * (c.interval.high - 1))
        text += f" [{lo:+.1f}, {hi:+.1f}]"
    return text


def _cells(c: Change) -> list[Any]:
    model, target, stage, metric, variant, qualifier = c.key
    verdict = c.verdict + (" (cached)" if c.cached else "")
    note = c.reason if c.reason else ""
    return [model, target, stage + (f" {qualifier}" if qualifier else ""), metric, variant, c.base, c.new,
            _delta(c), c.method, verdict, note]


HEADERS = ["model", "target", "stage", "metric", "variant", "base", "new", "change [noise 95 %]", "method",
           "verdict", "note"]


def _summary(comparison: Comparison) -> str:
    counts = {v: sum(c.verdict == v for c in comparison.changes) for v in VERDICT_ORDER if v != "same"}
    text = ", ".join(f"{n} {v}" for v, n in counts.items())
    return text + (f"; FAIL ({len(comparison.failures())} failures)" if comparison.failed() else "; ok")


def _threshold_text(t: Thresholds) -> str:
    return (f"latency +{t.latency_pct:g} %, memory +{t.memory_pct:g} %, accuracy -{t.accuracy_points:g} points, "
            f"other {t.other_pct:g} %")


def format_terminal(comparison: Comparison, show_all: bool = False) -> str:
    lines = [f"base {comparison.base_id} -> new {comparison.new_id} ({_threshold_text(comparison.thresholds)})"]
    lines += [f"FIT CHANGE {f.headline}" if f.worse else f"fit improved {f.headline}"
              for f in comparison.fit_changes]
    rows = [_cells(c) for c in _ordered(comparison.changes, show_all)]
    lines.append(format_table(HEADERS, rows, max_width=60) if rows else "no changes")
    lines.append(_summary(comparison))
    return "\n".join(lines)


def format_markdown(comparison: Comparison, show_all: bool = False) -> str:
    """A pull-request or chat comment: summary line, then a table of what changed."""
    head = "❌ regression" if comparison.failed() else "✅ no regression"
    lines = [f"**zoo-bench compare: {head}**", "",
             f"base `{comparison.base_id}` → new `{comparison.new_id}`; thresholds: "
             f"{_threshold_text(comparison.thresholds)}", ""]
    lines += [f"> {note}" for note in comparison.notes]
    if comparison.notes:
        lines.append("")
    lines += [f"- **{'fit change' if f.worse else 'fit improved'}** {f.headline}" for f in comparison.fit_changes]
    if comparison.fit_changes:
        lines.append("")
    rows = [_cells(c) for c in _ordered(comparison.changes, show_all)]
    if rows:
        lines.append("| " + " | ".join(HEADERS) + " |")
        lines.append("|" + "---|" * len(HEADERS))
        lines += ["| " + " | ".join(fmt_value(v).replace("|", "\\|") for v in row) + " |" for row in rows]
    else:
        lines.append("No figure changed beyond its threshold.")
    lines += ["", _summary(comparison)]
    return "\n".join(lines)


def to_json(comparison: Comparison, show_all: bool = False) -> str:
    t = comparison.thresholds
    return json.dumps({
        "base": comparison.base_id, "new": comparison.new_id, "new_status": comparison.new_status,
        "thresholds": {"latency_pct": t.latency_pct, "memory_pct": t.memory_pct,
                       "accuracy_points": t.accuracy_points, "other_pct": t.other_pct},
        "failed": comparison.failed(), "notes": comparison.notes,
        "fit_changes": [f.as_dict() for f in comparison.fit_changes],
        "changes": [c.as_dict() for c in _ordered(comparison.changes, show_all)],
    }, indent=2)
