"""Commands that read the results store: `results`, `compare`, `card`, `report`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..errors import UsageError
from ..table import format_table
from ._common import _joined, _registry


@click.command()
@click.option("--output", "-o", type=click.Path(path_type=Path), default=Path("zoo-bench-results"),
              show_default=True, help="Results store directory.")
@click.option("--run", "run_id", help="Run id or prefix (default: the latest run).")
@click.option("--sql", help="SQL over the view `results` (all runs), e.g. \"select model, value from results\".")
@click.option("--list", "list_runs", is_flag=True, help="List the runs in the store.")
@click.option("--all-rows", is_flag=True, help="Include the stage_seconds rows of successful stages.")
@click.option("--json", "as_json", is_flag=True, help="Rows as JSON.")
def results(output: Path, run_id: str | None, sql: str | None, list_runs: bool, all_rows: bool, as_json: bool) -> None:
    """Print a run's rows as a table (or query all runs with SQL)."""
    from ..store import ResultsStore, table_rows

    store = ResultsStore(output)
    if list_runs:
        rows = []
        for rid in store.run_ids():
            m = store.manifest(rid)
            rows.append([rid, str(m.get("status", "")), _joined(m.get("models"))[:40], _joined(m.get("targets")),
                         json.dumps(m.get("jobs", {}), default=str), m.get("duration_s"), str(m.get("label") or ""),
                         "busy" if m.get("busy") is True else ""])
        click.echo(format_table(["run", "status", "models", "targets", "jobs", "seconds", "label", "machine"], rows))
        return
    if sql:
        table = store.query(sql)
    else:
        table = store.read(store.resolve_run(run_id))
    headers, values = table_rows(table)  # any SQL result, duplicate names or out-of-range dates
    if as_json:
        click.echo(json.dumps([dict(zip(headers, row, strict=True)) for row in values], indent=2, default=str))
        return
    if sql:
        click.echo(format_table(headers, values))
        return
    records = [dict(zip(headers, row, strict=True)) for row in values]
    shown = [r for r in records if all_rows or r["metric"] != "stage_seconds" or r["status"] != "ok"]
    rows = []
    for r in shown:
        if r["status"] == "ok":
            rows.append([r["model"], r["target"], r["stage"], r["metric"], r["value"], r["unit"], r["method"],
                         f"{r['tool']} {r['tool_version']}", "ok"])
        else:
            rows.append([r["model"], r["target"], r["stage"], "-", None, "", "", "", f"{r['status']}: {r['reason']}"])
    click.echo(format_table(["model", "target", "stage", "metric", "value", "unit", "method", "tool", "status"], rows,
                            max_width=80))


@click.command()
@click.argument("base_run", required=False)
@click.argument("new_run", required=False)
@click.option("--output", "-o", type=click.Path(path_type=Path), default=Path("zoo-bench-results"),
              show_default=True, help="Results store directory.")
@click.option("--latency-threshold", default=5.0, show_default=True, type=float,
              help="Percent slower (latency) or less throughput that counts.")
@click.option("--memory-threshold", default=1.0, show_default=True, type=float,
              help="Percent more memory (any *_kib figure) that counts.")
@click.option("--accuracy-threshold", default=0.5, show_default=True, type=float,
              help="Points of accuracy lost that count.")
@click.option("--threshold", "other_threshold", default=5.0, show_default=True, type=float,
              help="Percent change that counts for other judged figures (NPU cycles, op share).")
@click.option("--all", "show_all", is_flag=True, help="Also list unchanged figures.")
@click.option("--require-fresh", is_flag=True,
              help="Error (exit 2) when NEW served measurements from the cache instead of measuring.")
@click.option("--fail-on-regression", is_flag=True, hidden=True, help="Kept for old scripts: this is the default.")
@click.option("--exit-zero", is_flag=True, help="Report only: exit 0 even when something regressed.")
@click.option("--markdown", "as_markdown", is_flag=True, help="Print a markdown table (pull request, chat).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--baseline", metavar="RUN|LABEL",
              help="Compare against this run, or the latest finished run with this label (`run --label`).")
@click.option("--first-run-ok", is_flag=True,
              help="Exit 0 with a note when there is nothing to compare against yet (fewer than two finished "
                   "runs, or the baseline's only run is NEW: a new store's first night).")
def compare(base_run, new_run, output, latency_threshold, memory_threshold, accuracy_threshold, other_threshold,
            show_all, require_fresh, fail_on_regression, exit_zero, as_markdown, as_json, baseline,
            first_run_ok) -> None:
    """Compare two runs (default: the last two finished runs) for CI.

    \b
    A measured latency is judged by the median of its raw samples: a change is a
    regression only when it is beyond its threshold AND the 95 % bootstrap interval
    of the median ratio excludes 1 (else its verdict is "noise").
    Exit code 1 when a figure regressed, a stage broke, a figure is gone or NEW did not
    finish; 0 otherwise; 2 for bad input.
    \b
    Example, in a nightly CI job (docs/ci.md):
      zoo-bench run -m mobilenet_v2_0.35_128 -t cpu --rerun run --label nightly-42
      zoo-bench compare --baseline baseline --first-run-ok --markdown
    """
    from ..reports.compare import Thresholds
    from ..reports.compare_report import compare_runs, format_markdown, format_terminal, to_json
    from ..store import ResultsStore

    if as_json and as_markdown:
        raise UsageError("choose one of --json and --markdown")
    thresholds = Thresholds(latency_threshold, memory_threshold, accuracy_threshold, other_threshold)
    store = ResultsStore(output)
    try:
        base_id, new_id = _compared_runs(store, base_run, new_run, baseline)
    except UsageError as exc:
        from ..reports.compare_report import finished_runs

        # only "nothing to compare yet" is ok: a wrong run id or label stays an error
        if not first_run_ok or (len(finished_runs(store)) >= 2 and "its only run is" not in str(exc)):
            raise
        click.echo(f"zoo-bench: note: nothing to compare yet (--first-run-ok): {exc}", err=True)
        if as_markdown:
            click.echo(f"**zoo-bench compare: first run**\n\nNothing to compare against yet: {exc}")
        return
    comparison = compare_runs(store, base_id, new_id, thresholds)
    machine = _machine_notes(store, base_id, new_id)  # on stdout with the verdicts: a busy machine is common
    if require_fresh and comparison.cached():
        raise UsageError(f"run {new_id} served {len(comparison.cached())} measurements from the cache "
                         "(--require-fresh); re-measure with `zoo-bench run ... --rerun run`")
    if not as_json:
        for note in comparison.notes:
            click.echo(f"zoo-bench: note: {note}", err=True)
    if as_json:
        click.echo(json.dumps({**json.loads(to_json(comparison, show_all)), "machine_notes": machine}, indent=2))
    elif as_markdown:
        click.echo("\n".join([format_markdown(comparison, show_all), *(f"\n> ⚠ {n}" for n in machine)]))
    else:
        click.echo("\n".join([format_terminal(comparison, show_all), *(f"machine: {n}" for n in machine)]))
    if comparison.failed() and not exit_zero:
        sys.exit(1)


def _compared_runs(store, base_run: str | None, new_run: str | None, baseline: str | None) -> tuple[str, str]:
    """(base, new): ``--baseline`` pins the base (a run or a label), else `pick_runs`' defaults."""
    from ..reports.compare_report import pick_runs
    from ..reports.history_runs import resolve_baseline

    if baseline is None:
        return pick_runs(store, base_run, new_run)
    if new_run is not None:
        raise UsageError("give --baseline and at most one run (NEW), not two runs")
    new_id = pick_runs(store, None, base_run or "latest")[1]
    base_id = resolve_baseline(store, baseline, new_id)
    if base_id == new_id:
        raise UsageError(f"--baseline {baseline!r} is the run being judged ({new_id}); nothing to compare yet")
    return base_id, new_id


def _machine_notes(store, *run_ids: str) -> list[str]:
    """The machine warnings (busy, governor) that the runs' manifests recorded (docs/ci.md)."""
    from ..reports.history_runs import run_info

    notes = []
    for rid in run_ids:
        try:
            info = run_info(store, rid)
        except UsageError:
            continue
        busy = [w.removeprefix("busy machine ") for w in info.warnings if w.startswith("busy machine")]
        if busy:
            notes.append(f"run {rid} was timed on a busy machine ({'; '.join(busy)})")
    return notes


@click.command()
@click.argument("model_args", metavar="[MODEL]...", nargs=-1)
@click.option("--output", "-o", type=click.Path(path_type=Path), default=Path("zoo-bench-results"),
              show_default=True, help="Results store directory.")
@click.option("--run", "run_id", help="Run id or prefix (default: the latest finished run).")
@click.option("--model", "-m", "models", multiple=True, help="Only these models (default: every model of the run).")
@click.option("--output-dir", "--cards-dir", "cards_dir", type=click.Path(path_type=Path), default=Path("model_cards"),
              show_default=True, help="Where MODEL.md is written.")
@click.option("--rows", "rows_file", type=click.Path(path_type=Path),
              help="Make the cards from this rows file (see --export-rows) instead of a run of the store.")
@click.option("--export-rows", type=click.Path(path_type=Path),
              help="Also write the rows the cards are made from to this file (JSON lines, small, committable).")
def card(model_args: tuple[str, ...], output: Path, run_id: str | None, models: tuple[str, ...],
         cards_dir: Path, rows_file: Path | None, export_rows: Path | None) -> None:
    """Write model cards shaped like the vendors' (memory, inference time, accuracy, fit) from a run.

    \b
    Examples:
      zoo-bench card mobilenet_v2_0.35_224 --output-dir model_cards
      zoo-bench card --export-rows model_cards/results.jsonl      (the rows, to commit)
      zoo-bench card --rows model_cards/results.jsonl             (the cards again, same bytes)
    """
    from ..paths import ensure_writable_dir
    from ..plan import split_patterns
    from ..reports.cards import write_cards
    from ..reports.inputs import plugin_sections, report_run, target_facts
    from ..reports.rows_file import load_rows, save_rows
    from ..store import ResultsStore

    if rows_file is not None:
        if run_id is not None:
            raise UsageError("give --rows or --run, not both")
        rows = load_rows(rows_file)
        rid = ", ".join(sorted({str(r["run_id"]) for r in rows}))
        command = f"zoo-bench card --rows {rows_file.as_posix()} --output-dir {cards_dir.as_posix()}"
    else:
        store = ResultsStore(output)
        rid = report_run(store, run_id)
        rows = store.read(rid).to_pylist()
        command = "zoo-bench card {model} --run " + rid
    asked = (*model_args, *models)
    if asked and not split_patterns(asked):
        raise UsageError(f"--model names nothing (got {', '.join(repr(m) for m in asked)})")
    wanted = set(split_patterns(asked)) if asked else {r["model"] for r in rows}
    if not wanted:
        raise UsageError(f"run {rid} has no readable rows to make a card from")
    unknown = wanted - {r["model"] for r in rows}
    if unknown:
        raise UsageError(f"{'rows file' if rows_file else 'run'} {rid} has no rows for {', '.join(sorted(unknown))}")
    if export_rows is not None:
        save_rows([r for r in rows if r["model"] in wanted], export_rows)
        click.echo(str(export_rows))
    ensure_writable_dir(cards_dir, "--cards-dir")
    registry = _registry()
    for path in write_cards(rows, rid, cards_dir, wanted, target_facts(registry), plugin_sections(registry),
                            lambda m: command.replace("{model}", m)):
        click.echo(str(path))


@click.command()
@click.option("--run", "run_id", help="Run id or prefix (default: the latest finished run).")
@click.option("--output", "-o", "--results", "-r", "results_dir", type=click.Path(path_type=Path),
              default=Path("zoo-bench-results"), show_default=True,
              help="Results store directory (what `run -o` wrote); -r/--results is the old name.")
@click.option("--html", "html_path", type=click.Path(path_type=Path, dir_okay=False), default=Path("report.html"),
              show_default=True, help="The HTML file to write.")
def report(run_id: str | None, results_dir: Path, html_path: Path) -> None:
    """Write one self-contained HTML page of a run: plots and a sortable table of every figure.

    \b
    Example:
      zoo-bench report -o zoo-bench-results --html report.html
    The page needs no network: scripts, styles and SVG plots are inline.
    -o is the results store, as in every other command (the HTML file is --html).
    """
    if results_dir.suffix.lower() in (".html", ".htm") and not results_dir.is_dir():
        raise UsageError(f"-o {results_dir} is the results store, as in every command; "
                         f"write the page with --html {results_dir}")
    from ..reports.inputs import memory_limits, report_run
    from ..reports.report import render_report
    from ..store import ResultsStore

    store = ResultsStore(results_dir)
    rid = report_run(store, run_id)
    rows = store.read(rid).to_pylist()
    if not rows:
        raise UsageError(f"run {rid} has no rows to report")
    html = render_report(rows, rid, memory_limits(_registry()))
    try:
        html_path.write_text(html)
    except OSError as exc:
        raise UsageError(f"cannot write {html_path}: {exc.strerror or exc}") from None
    click.echo(str(html_path))
