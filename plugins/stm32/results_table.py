"""The STM32 footprint tables of docs/stm32.md, rendered from a results store (reproducible).

    zoo-bench stm32 tables -o DIR --summary docs/stm32_results.json --update-doc docs/stm32.md

(a command of this plugin, through ``zoo_bench_register_commands``; ``python -m
zoo_bench_stm32.results_table`` takes the same options). ``-o DIR`` (alias ``--results``; a
``zoo-bench run -o DIR`` store; every run in it, the latest figure winning per model, class
count, target and metric) writes the small summary ``--summary`` (one object per footprint
figure, or per failed stage of a job without figures); without ``-o`` the
summary is read back. The tables go to stdout, or between the ``<!-- stm32-tables:begin/end -->``
markers of ``--update-doc``. ST's published figures (``st_card_figures.json``, the STM32 footprints of ST's
model-zoo cards) stand beside ours with the error in %, marked when the card's class count
differs from ours.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import click

TARGETS = ("stm32h7", "stm32n6")
CARD_FIGURES = Path(__file__).with_name("st_card_figures.json")
BEGIN, END = "<!-- stm32-tables:begin -->", "<!-- stm32-tables:end -->"
#: Columns of each target's table: metric -> heading.
COLUMNS = {
    "stm32h7": {"weights_flash_kib": "weights flash", "activation_ram_kib": "activation RAM",
                "runtime_ram_kib": "runtime RAM", "code_flash_kib": "code flash", "total_ram_kib": "total RAM",
                "total_flash_kib": "total flash"},
    "stm32n6": {"weights_flash_kib": "weights flash", "activation_ram_kib": "activation RAM",
                "internal_ram_kib": "internal RAM", "external_ram_kib": "external RAM"},
}
VERDICTS = {"fits_internal_ram": "RAM", "fits_internal_flash": "flash"}
#: Figures that grow with the classifier head: a card for another class count is shown, not compared.
HEAD_DEPENDENT = {"weights_flash_kib", "total_flash_kib"}


def summarize(results_dir: Path) -> list[dict[str, Any]]:
    """Footprint figures and verdicts of every STM32 MCU/N6 job in a store, and the failed stages
    of jobs that have none."""
    from zoo_bench.store import ResultsStore

    store = ResultsStore(results_dir)
    wanted = {m for cols in COLUMNS.values() for m in cols} | set(VERDICTS)
    latest: dict[tuple, dict[str, Any]] = {}
    models: dict[str, None] = {}
    for run_id in store.run_ids():
        models.update(dict.fromkeys(store.manifest(run_id).get("models", [])))
        for row in store.read(run_id).to_pylist():
            if row["target"] not in TARGETS:
                continue
            failed = row["status"] == "failed" and row["metric"] == "stage_seconds"
            figure = row["stage_kind"] == "compile" and row["status"] == "ok" and row["metric"] in wanted
            if not (failed or figure):
                continue
            extra = json.loads(row["extra"] or "{}")
            item = {"model": row["model"], "classes": row["classes"], "target": row["target"], "stage": row["stage"],
                    "metric": row["metric"] if not failed else "failed", "value": row["value"] if not failed else None,
                    "unit": row["unit"], "method": row["method"], "tool": row["tool"],
                    "tool_version": row["tool_version"]}
            if failed:
                item["reason"] = row["reason"]
            if "verdict" in extra:
                item["verdict"] = extra["verdict"]
            key = (row["model"], row["classes"], row["target"], row["stage"], item["metric"])
            if key not in latest or row["started_at"] >= latest[key]["_at"]:
                latest[key] = {**item, "_at": row["started_at"]}
    measured = {(r["model"], r["classes"], r["target"]) for r in latest.values() if r["metric"] != "failed"}
    # a failure is kept only for a job that has no figures (a later run may have made them)
    rows = [{k: v for k, v in item.items() if k != "_at"} for item in latest.values()
            if item["metric"] != "failed" or (item["model"], item["classes"], item["target"]) not in measured]
    order = {m: i for i, m in enumerate(models)}
    rows.sort(key=lambda r: (r["target"], order.get(r["model"], len(order)), r["model"], r["classes"], r["stage"]))
    return rows


def card_figures(path: Path = CARD_FIGURES) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    """ST's published figures by (model, target, metric)."""
    out: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for fig in json.loads(path.read_text())["figures"]:
        out.setdefault((fig["model"], fig["target"], fig["metric"]), []).append(fig)
    return out


def _num(value: float) -> str:
    return f"{value:,.1f}" if abs(value) < 100_000 else f"{value:,.0f}"


def _cell(ours: float | None, metric: str, classes: int, published: list[dict[str, Any]], notes: set[str]) -> str:
    """``ours (ST x, err %)``; a card for another class count is marked and, for head-dependent
    figures, not compared."""
    text = "-" if ours is None else _num(ours)
    if not published:
        return text
    same = [p for p in published if p["classes"] == classes]
    card = same[0] if same else min(published, key=lambda p: abs(p["classes"] - classes))
    mark = "" if same else f" at {card['classes']} cl."
    if not same:
        notes.add(f"\"at N cl.\": the card's model has N classes, ours {classes}")
    compare = ours is not None and card["value"] and (same or metric not in HEAD_DEPENDENT)
    err = f", {100.0 * (ours - card['value']) / card['value']:+.1f} %" if compare else ""
    return f"{text} (ST {_num(card['value'])}{mark}{err})"


def render(summary: list[dict[str, Any]], cards: dict[tuple[str, str, str], list[dict[str, Any]]]) -> str:
    """The Markdown tables, one per target, from :func:`summarize`'s rows."""
    parts: list[str] = []
    for target in TARGETS:
        rows = [r for r in summary if r["target"] == target]
        if not rows:
            continue
        jobs: dict[tuple[str, int], dict[str, Any]] = {}
        for r in rows:
            job = jobs.setdefault((r["model"], r["classes"]), {"figures": {}, "tools": {}})
            if r["metric"] == "failed":
                job["failed"] = f"{r['stage']} failed: {r.get('reason', '')}"
            else:
                job["figures"][r["metric"]] = r
        cols = COLUMNS[target]
        head = ["model", "classes", *[f"{h} KiB" for h in cols.values()], "RAM", "flash", "estimated by"]
        lines = [f"#### {target}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        notes: set[str] = set()
        for (model, classes), job in jobs.items():
            figs = job["figures"]
            if not figs and "failed" in job:
                reason = re.sub(r"\s+", " ", job["failed"])[:160].replace("|", "/")
                lines.append(f"| {model} | {classes} | {reason} |" + " |" * (len(head) - 3))
                continue
            cells = [model, str(classes)]
            for metric in cols:
                value = figs[metric]["value"] if metric in figs else None
                cells.append(_cell(value, metric, classes, cards.get((model, target, metric), []), notes))
            cells += [figs[v].get("verdict", "-") if v in figs else "-" for v in VERDICTS]
            act = figs.get("activation_ram_kib")
            cells.append(f"{act['tool']} {act['method']}" if act else "-")
            lines.append("| " + " | ".join(cells) + " |")
        lines += [""] + [f"{n}." for n in sorted(notes)] + ([""] if notes else [])
        parts.append("\n".join(lines))
    return "\n".join(parts).rstrip() + "\n"


def update_doc(doc: Path, tables: str) -> None:
    """Replace the text between the markers of ``doc`` with ``tables``."""
    text = doc.read_text()
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"{doc}: markers {BEGIN} ... {END} not found")
    doc.write_text(text[:start + len(BEGIN)] + "\n" + tables + text[end:])


@click.group(name="stm32")
def stm32_group() -> None:
    """Commands of the ST STM32 plugin."""


@stm32_group.command(name="tables")
@click.option("--output", "-o", "--results", "results", type=click.Path(path_type=Path, file_okay=False),
              help="Results store to summarise (a `zoo-bench run -o DIR` store); without it --summary is read.")
@click.option("--summary", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="Summary JSON: written from --output, else read.")
@click.option("--cards", type=click.Path(path_type=Path, exists=True, dir_okay=False), default=CARD_FIGURES,
              show_default="the plugin's st_card_figures.json", help="ST's published figures.")
@click.option("--update-doc", "doc", type=click.Path(path_type=Path, dir_okay=False),
              help="Markdown file whose marked block receives the tables (else stdout).")
def tables(results: Path | None, summary: Path, cards: Path, doc: Path | None) -> None:
    """The STM32 footprint tables of docs/stm32.md, from a results store (reproducible)."""
    if results is not None:
        rows = summarize(results)
        summary.write_text(json.dumps(rows, indent=1) + "\n")
    elif not summary.exists():
        raise click.UsageError(f"{summary} does not exist (give --output DIR to write it)")
    else:
        rows = json.loads(summary.read_text())
    text = render(rows, card_figures(cards))
    if doc:
        update_doc(doc, text)
    else:
        sys.stdout.write(text)


def main(argv: list[str] | None = None) -> int:
    """``python -m zoo_bench_stm32.results_table``: the same as ``zoo-bench stm32 tables``."""
    try:
        stm32_group.main(args=["tables", *(sys.argv[1:] if argv is None else argv)],
                         prog_name="python -m zoo_bench_stm32.results_table", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
