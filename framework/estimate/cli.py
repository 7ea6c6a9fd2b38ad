"""``zoo-bench fidelity`` and ``zoo-bench fit``: the estimators' quality, and refits from your boards.

Both read only JSON (points files, cached workloads, the results store): no model is built and
no TensorFlow is imported, so they run in seconds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..errors import UsageError


def _files(points: tuple[Path, ...]) -> list[Path]:
    from .data import points_files

    files = list(points) or points_files()
    if not files:
        raise UsageError("no plugin registers estimator data (zoo_bench_register_estimator_data); give --points FILE")
    return files


@click.command()
@click.option("--target", "-t", help="Only this target id (default: every target with points).")
@click.option("--points", type=click.Path(path_type=Path, exists=True, dir_okay=False), multiple=True,
              help="Points files (default: every installed plugin's published_points.json).")
@click.option("--measured", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="Measured points written by `zoo-bench fit`, added to the published ones.")
@click.option("--workloads", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="Cached workloads (default: the catalog's and every plugin's registered workloads).")
@click.option("--catalog", is_flag=True, help="Also the latency estimate of every catalog model, per target.")
@click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
@click.option("--markdown", is_flag=True, help="Only the summary table, as docs/estimators.md holds it.")
def fidelity(target: str | None, points: tuple[Path, ...], measured: Path | None, workloads: Path | None,
             catalog: bool, as_json: bool, markdown: bool = False) -> None:
    """How good the estimates are: per target and published point, the estimate, the published
    figure, the error and the leave-one-model-out error; median and worst per target.

    \b
    Holdout points (MobileNet v2 alpha 1.0) are never fitted on and are shown apart.
    """
    from .data import load_workloads
    from .estimators import fit_all
    from .fidelity import catalog_estimates, catalog_text, catalog_workloads, report, summary_markdown, text_report

    fits = fit_all(_files(points), workloads_file=workloads, extra=measured, target=target)
    if target and not fits:
        known = sorted({p["target"] for f in _files(points) for p in json.loads(f.read_text()).get("points", [])})
        raise UsageError(f"no fitted estimate for target {target!r} (targets with points: {', '.join(known)})")
    rows = []
    if catalog:
        from .data import load_points

        definitions = {k: v for f in _files(points) for k, v in load_points(f).models.items()}
        table = catalog_workloads(load_workloads(workloads) if workloads else load_workloads(), definitions)
        rows = catalog_estimates(fits, table, definitions)
    if markdown:
        click.echo(summary_markdown(fits), nl=False)
    elif as_json:
        click.echo(json.dumps({**report(fits), **({"catalog": rows} if catalog else {})}, indent=1))
    else:
        click.echo(text_report(fits), nl=False)
        if catalog:
            click.echo("\nCatalog models, latency estimate [interval]:\n" + catalog_text(rows), nl=False)


def measured_points(rows: list[dict[str, Any]], targets: set[str], stage: str | None,
                    workloads: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any], list[str]]:
    """Measured-board latency rows -> points (with their workloads) for the estimators.

    A row's workload comes from the estimate row of the same model and target (its ``extra``
    keeps the workload of the very model that ran) or from the cached workloads by model name.
    Returns (points, workloads, messages about rows that could not be used).
    """
    estimates: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        if r["method"] == "model-estimate" and r["metric"] == "latency_mean_ms" and r["status"] == "ok":
            try:  # a store is untrusted input: an extra that is not a JSON object is no estimate
                extra = json.loads(r["extra"] or "{}")
            except ValueError:
                extra = None
            if isinstance(extra, dict):
                estimates[(r["model"], r["target"])] = extra
    points, used, notes = [], {}, []
    for r in rows:
        if (r["method"] != "measured-board" or r["metric"] != "latency_mean_ms" or r["status"] != "ok"
                or r["target"] not in targets or (stage and r["stage"] != stage)):
            continue
        key = f"measured:{r['model']}@{r['target']}:{r['stage']}"
        est = estimates.get((r["model"], r["target"]))
        if est and "workload" in est:
            base = {r["target"]: {"latency_mean_ms": est["baseline_ms"]}} if "baseline_ms" in est else {}
            entry = {"definition": {"builder": "measured", "model": r["model"]}, "workload": est["workload"],
                     "baselines": base}
        elif r["model"] in workloads:
            entry = workloads[r["model"]]
        else:
            notes.append(f"{r['model']}@{r['target']}: no workload (run the target's estimate stage on it first)")
            continue
        used[key] = {**entry, "definition": {**entry.get("definition", {}), "measured_model": r["model"]}}
        points.append({"model": key, "target": r["target"], "metric": "latency_mean_ms", "value": r["value"],
                       "unit": "ms", "source": "measured", "path": f"run {r['run_id']} stage {r['stage']}",
                       "tool_version": f"{r['tool']} {r['tool_version']}", "engine": r["stage"]})
    return points, used, notes


@click.command()
@click.option("--target", "-t", "targets", multiple=True, required=True, help="Target ids to refit (repeatable).")
@click.option("--output", "-o", type=click.Path(path_type=Path, file_okay=False), default=Path("zoo-bench-results"),
              show_default=True, help="Results store directory to read measured-board rows from.")
@click.option("--stage", help="Only rows of this stage id (e.g. run:<board runner>:npu); default: every "
                              "measured-board latency_mean_ms row of the target.")
@click.option("--points-out", type=click.Path(path_type=Path, dir_okay=False),
              help="Where to write the measured points (default: <output>/estimates/measured_points.json).")
@click.option("--points", type=click.Path(path_type=Path, exists=True, dir_okay=False), multiple=True,
              help="Points files (default: every installed plugin's published_points.json).")
@click.option("--workloads", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="Cached workloads (default: the one zoo-bench ships).")
@click.option("--json", "as_json", is_flag=True, help="The refitted fidelity report as JSON.")
def fit(targets: tuple[str, ...], output: Path, stage: str | None, points_out: Path | None,
        points: tuple[Path, ...], workloads: Path | None, as_json: bool) -> None:
    """Refit estimators with your own board measurements from a results store.

    \b
    Writes the measured points, then prints the refitted fidelity of each target. Use them with
      zoo-bench run ... -s measured_points=<output>/estimates/measured_points.json
    """
    from ..store import ResultsStore
    from .data import load_workloads
    from .estimators import fit_all
    from .fidelity import report, text_report

    store = ResultsStore(output)
    if not store.run_ids():
        raise UsageError(f"no runs in {output} (run `zoo-bench run` with a board first, or pass --output)")
    rows = store.query("select * from results").to_pylist()
    found, used, notes = measured_points(rows, set(targets), stage,
                                        load_workloads(workloads) if workloads else load_workloads())
    for note in notes:
        click.echo(f"zoo-bench: note: {note}", err=True)
    if not found:
        raise UsageError(f"no measured-board latency_mean_ms rows for {', '.join(targets)} in {output}")
    path = points_out or output / "estimates" / "measured_points.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"sources": {"measured": {"repo": "local results store", "commit": str(output.resolve()),
                                                         "note": "written by zoo-bench fit"}},
                                "points": found, "workloads": used}, indent=1) + "\n")
    click.echo(f"wrote {len(found)} measured points to {path}", err=True)
    fits = [f for t in targets for f in fit_all(_files(points), workloads_file=workloads, extra=path, target=t)]
    click.echo(json.dumps(report(fits), indent=1) if as_json else text_report(fits).rstrip("\n"))
