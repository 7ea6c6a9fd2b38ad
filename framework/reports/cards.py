"""Model cards in markdown from the results store, in the shape of the vendors' model-zoo cards.

The tables come from :mod:`.card_tables`; the page is the Jinja2 template
``templates/card.md.j2``. Plugins add sections through the ``zoo_bench_card_sections`` hook.
The same rows always give the same bytes: rows are sorted first, and the body holds no timestamp.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .card_tables import (
    LEGEND,
    CardRows,
    TargetFacts,
    accuracy_tables,
    inference_time,
    inputs_outputs,
    memory_tables,
    multi_thread_tables,
    network_information,
    published_sources,
    recommended_platforms,
)

__all__ = ["CardSection", "TargetFacts", "render_card", "write_cards"]


@dataclass(frozen=True)
class CardSection:
    """A section a plugin adds to a model card: a heading and its markdown body."""

    title: str
    body: str


def _environment():
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("zoo_bench.reports", "templates"),
                             autoescape=False, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["cell"] = lambda value: str(value).replace("|", "\\|").replace("\n", " ")
    return env


def _row_order(r: dict[str, Any]) -> tuple:
    return (r["target"], r["stage"], r["metric"], r["variant"], r.get("extra") or "", r["value"] is None,
            r["value"] or 0.0)


def render_card(model: str, rows: list[dict[str, Any]], run_id: str, targets: dict[str, TargetFacts] | None = None,
                sections: Iterable[CardSection] = (), command: str | None = None) -> str:
    """Markdown for one model from its rows of one run.

    :param targets: facts of the targets (device class, clock, board) from the installed plugins;
        targets without facts are still shown, with what their rows say.
    :param sections: extra sections from plugins, placed after the vendor-shaped ones by title.
    """
    if not rows:
        raise ValueError(f"no rows for model {model!r}")
    cr = CardRows(model, sorted(rows, key=_row_order), targets or {})
    context = {
        "model": model, "run_id": run_id, "resolution": cr.resolution, "classes": cr.classes,
        "command": command or f"zoo-bench card {model} --run {run_id}",
        "network": network_information(cr), "io": inputs_outputs(cr), "platforms": recommended_platforms(cr),
        "legend": LEGEND, "published_note": source_note_short(), "memory": memory_tables(cr),
        "timing": inference_time(cr), "threads": multi_thread_tables(cr), "accuracy": accuracy_tables(cr),
        "sections": sorted(sections, key=lambda s: (s.title, s.body)),
    }
    context["published"] = published_sources(cr)  # after the tables: it lists what they printed
    text = _environment().get_template("card.md.j2").render(**context)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.rstrip() + "\n"


def source_note_short() -> str:
    """One line on where published figures come from (the data file holds the full note)."""
    return ("Published figures come from the vendors' own model cards (the project's seed set of five cards), "
            "shipped by the plugins that publish them (hook `zoo_bench_published_figures`).")


def write_cards(rows: list[dict[str, Any]], run_id: str, out_dir: Path, models: Iterable[str],
                targets: dict[str, TargetFacts] | None = None,
                sections_for: Any = None, command_for: Any = None) -> list[Path]:
    """Write ``out_dir/<model>.md`` for each model; ``sections_for(model, rows)`` gives plugin sections."""
    from ..errors import UsageError
    from ..store import safe_name

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot write cards into {out_dir}: {exc.strerror or exc}") from None
    written = []
    for model in sorted(models):
        mrows = [r for r in rows if r["model"] == model]
        sections = sections_for(model, mrows) if sections_for else ()
        command = command_for(model) if command_for else None
        path = out_dir / f"{safe_name(model)}.md"
        text = render_card(model, mrows, run_id, targets, sections, command)
        # write only on change, so regenerating an unchanged card leaves its file untouched
        try:
            if not path.is_file() or path.read_text() != text:
                path.write_text(text)
        except OSError as exc:
            raise UsageError(f"cannot write card {path}: {exc.strerror or exc}") from None
        written.append(path)
    return written
