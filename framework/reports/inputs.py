"""What the report commands take from outside the rows: which run, target facts, plugin sections.

The CLI hands the registry in; nothing here imports a plugin.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from .card_tables import TargetFacts
from .cards import CardSection
from .compare_report import finished_runs

if TYPE_CHECKING:
    from ..store import ResultsStore


def report_run(store: ResultsStore, run_id: str | None) -> str:
    """The run a card or report is made from: the one named, else the latest finished run."""
    if run_id not in (None, "latest"):
        return store.resolve_run(run_id)
    finished = finished_runs(store)
    if not finished:
        store.resolve_run(None)  # says "no runs" when the store is empty
        raise UsageError(f"no finished run in {store.root}; name one with --run (see `zoo-bench results --list`)")
    return finished[-1]


def target_facts(registry: Any) -> dict[str, TargetFacts]:
    """Device class, clock and description of every registered target."""
    return {t.id: TargetFacts(t.id, t.device_class, t.clock_mhz, t.description)
            for t in registry.targets.values()}


def memory_limits(registry: Any) -> dict[str, dict[str, int]]:
    """Each registered target's memory sizes (KiB) by region, as the target declares them."""
    return {t.id: dict(t.memory_kib) for t in registry.targets.values() if t.memory_kib}


def plugin_sections(registry: Any, layers: list[dict[str, Any]] | None = None
                    ) -> Callable[[str, list[dict[str, Any]]], list[CardSection]]:
    """``sections_for(model, rows)`` calling the ``zoo_bench_card_sections`` hook of every plugin,
    plus the per-layer section when ``layers`` (:func:`zoo_bench.layers.read_layers`) has the model's.

    A plugin whose hook raises or returns something else than (title, body) pairs is named in a
    warning and left out of the card; the card is still written.
    """
    from .card_layers import layer_section

    def sections_for(model: str, rows: list[dict[str, Any]]) -> list[CardSection]:
        out: list[CardSection] = []
        own = layer_section(model, layers or [])
        if own:
            out.append(CardSection(*own))
        hook = registry.pm.hook.zoo_bench_card_sections
        for impl in hook.get_hookimpls():
            try:
                result = impl.function(model=model, rows=rows) or []
                out += [CardSection(str(title), str(body)) for title, body in result]
            except Exception as exc:  # a plugin's bug must not cost the card
                print(f"zoo-bench: warning: plugin {impl.plugin_name!r} card section failed: {exc!r}",
                      file=sys.stderr)
        return out

    return sections_for


def report_runs(store: ResultsStore, values: tuple[str, ...] | list[str]) -> list[str]:
    """The runs one report shows: each value a run id (or prefix), ``latest``, or a label given with
    ``run --label`` (its latest finished run); none: the latest finished run."""
    if not values:
        return [report_run(store, None)]
    out: list[str] = []
    for value in values:
        rid = _run_by_label(store, value)
        if rid is None:
            rid = report_run(store, value)
        if rid not in out:
            out.append(rid)
    return out


def _run_by_label(store: ResultsStore, label: str) -> str | None:
    if label in store.run_ids():
        return None  # a run id wins over a label
    labelled = [rid for rid in finished_runs(store) if run_label(store, rid) == label]
    return labelled[-1] if labelled else None


def run_label(store: ResultsStore, run_id: str) -> str:
    """The run's ``--label`` from its run.json ("" when none, or when run.json cannot be read)."""
    try:
        label = store.manifest(run_id).get("label")
    except Exception:  # an unreadable run.json costs the label only
        return ""
    return label if isinstance(label, str) else ""


def report_sections(registry: Any, rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """``(title, HTML)`` from every plugin's ``zoo_bench_report_sections(rows)``; a plugin whose hook
    raises or answers something else is named in a warning and left out."""
    hook = getattr(registry.pm.hook, "zoo_bench_report_sections", None)
    if hook is None:
        return []
    out: list[tuple[str, str]] = []
    for impl in hook.get_hookimpls():
        try:
            result = impl.function(rows=rows) or []
            out += [(str(title), str(body)) for title, body in result]
        except Exception as exc:  # a plugin's bug must not cost the report
            print(f"zoo-bench: warning: plugin {impl.plugin_name!r} report section failed: {exc!r}", file=sys.stderr)
    return sorted(out)


def report_html(store: ResultsStore, run_values: tuple[str, ...] | list[str], registry: Any) -> str:
    """The HTML report of the runs ``run_values`` name (see :func:`report_runs`), with the targets'
    memory, the runs' per-layer rows and the plugins' sections."""
    from ..layers import read_layers
    from .report import render_report

    run_ids = report_runs(store, run_values)
    rows = [r for rid in run_ids for r in store.read(rid).to_pylist()]
    if not rows:
        raise UsageError(f"run {', '.join(run_ids)} has no rows to report")
    return render_report(rows, run_ids, memory_limits(registry), read_layers(store.root, run_ids),
                         report_sections(registry, rows), {rid: run_label(store, rid) for rid in run_ids})
