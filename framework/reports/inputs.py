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


def plugin_sections(registry: Any) -> Callable[[str, list[dict[str, Any]]], list[CardSection]]:
    """``sections_for(model, rows)`` calling the ``zoo_bench_card_sections`` hook of every plugin.

    A plugin whose hook raises or returns something else than (title, body) pairs is named in a
    warning and left out of the card; the card is still written.
    """

    def sections_for(model: str, rows: list[dict[str, Any]]) -> list[CardSection]:
        out: list[CardSection] = []
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
