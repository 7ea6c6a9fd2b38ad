"""`zoo-bench run`: models x targets into the results store, and its summary."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ..table import format_table
from ._common import DEFAULT_MODEL, DEFAULT_TARGET, _parse_kv, _registry, _timeout


def _label(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from ..run_facts import check_label

    return check_label(value)


@click.command()
@click.option("--model", "-m", "models", multiple=True, default=[DEFAULT_MODEL], show_default=True,
              help="Model names, family names, globs (efficientnet_lite*), 'all' or model files; comma lists allowed.")
@click.option("--target", "-t", "targets", multiple=True, default=[DEFAULT_TARGET], show_default=True,
              help="Target ids, globs or 'all'; comma lists allowed.")
@click.option("--output", "-o", "output", type=click.Path(path_type=Path), default=Path("zoo-bench-results"),
              show_default=True, help="Results store directory.")
@click.option("--dataset", type=click.Path(path_type=Path, exists=True, file_okay=False),
              help="Class-per-subfolder images for calibration and accuracy.")
@click.option("--calibration-dataset", type=click.Path(path_type=Path, exists=True, file_okay=False),
              help="Class-per-subfolder images for int8 calibration only (default: --dataset).")
@click.option("--preprocess", metavar="CONTRACT",
              help="Input contract of model files: raw | unit | symmetric | imagenet | caffe, or "
                   "range=LO:HI,order=RGB|BGR,layout=NHWC|NCHW,resize=N,crop=N (docs/models.md).")
@click.option("--jobs", "-j", default=1, show_default=True, type=click.IntRange(1, 64), help="Jobs run at once.")
@click.option("--threads", type=click.IntRange(1, 256), help="Runtime threads for host/board runs.")
@click.option("--runs", type=click.IntRange(1), help="Timed inferences per measurement.")
@click.option("--warmup", type=click.IntRange(0), help="Untimed inferences before timing.")
@click.option("--classes", type=click.IntRange(2), help="Rebuild the classifier head with N classes.")
@click.option("--resolution", type=click.IntRange(1, 8192),
              help="Input size for model files whose height/width are dynamic (others keep their own).")
@click.option("--boards", type=click.Path(path_type=Path), help="Board inventory (boards.toml) for board runners.")
@click.option("--set", "-s", "extra", multiple=True, metavar="KEY=VALUE",
              help="Any other component option, e.g. -s calibration_images=50 (listed by `zoo-bench plugins -v`).")
@click.option("--timeout", default="3600", show_default=True, callback=_timeout, help="Seconds per stage (>= 1).")
@click.option("--stage-memory", "stage_memory", type=click.IntRange(0), metavar="MIB",
              help="Resident memory one stage and its tools may use before it is killed and reported failed "
                   "(0: no limit) [env ZOO_BENCH_STAGE_MEMORY_MB, default min(8 GiB, half the RAM)].")
@click.option("--cache-dir", type=click.Path(path_type=Path),
              help="Artifact cache [env ZOO_BENCH_CACHE, ~/.cache/zoo-bench].")
@click.option("--rerun", multiple=True,
              type=click.Choice(["source", "export", "quantize", "compile", "run", "evaluate"]),
              help="Redo these stage kinds even when cached (e.g. --rerun run to re-measure).")
@click.option("--fresh", is_flag=True,
              help="Re-measure: redo every run and evaluate stage, reuse cached artifacts (for compare).")
@click.option("--dry-run", is_flag=True, help="Print each job's stages and exit without running anything.")
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines.")
@click.option("--cards", is_flag=True, help="Write model_cards/MODEL.md of the run's models at the end.")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="local: threads of this process; dask: a Dask cluster (--address, else a LocalCluster "
                   "of --jobs workers).")
@click.option("--address", metavar="tcp://HOST:PORT", help="Dask scheduler to use with --executor dask.")
@click.option("--label", callback=_label, help="A name for this run (nightly-42, baseline, ...): "
              "`history --label`, `compare --baseline LABEL`.")
def run(models, targets, output, dataset, calibration_dataset, preprocess, jobs, threads, runs, warmup, classes,
        resolution, boards, extra, timeout, cache_dir, rerun, fresh, dry_run, as_json, quiet, cards, executor, address,
        label, stage_memory) -> None:
    """Run models x targets and store one row per figure.

    \b
    Examples:
      zoo-bench run --model mobilenet_v2_0.35_128 --target cpu
      zoo-bench run --model 'efficientnet_lite*' --target all --jobs 2
      zoo-bench run --model all --target cpu --dataset ./images --json
    A repeated run is served from the artifact cache (its rows say cached); --fresh re-measures.
    Exit code: 0 when no job failed, 1 when one did, 2 for bad input.
    """
    from .. import api

    registry = _registry()
    options: dict[str, Any] = _parse_kv(extra)
    for key, value in (("threads", threads), ("runs", runs), ("warmup", warmup)):
        if value is not None:
            options[key] = value
    if calibration_dataset is not None:
        options["calibration_dataset"] = str(calibration_dataset.resolve())
    if dry_run:
        planned = api.plan(list(models), list(targets), dataset=dataset, boards=boards, options=options,
                           classes=classes, resolution=resolution, preprocess=preprocess, registry=registry)
        click.echo(plan_text(planned.jobs, as_json))
        return
    force = frozenset(rerun) | ({"run", "evaluate"} if fresh else frozenset())

    def announce(run_id: str, n_jobs: int, run_dir: Path) -> None:
        if not quiet:
            click.echo(f"run {run_id}: {n_jobs} jobs -> {run_dir}", err=True)

    try:
        result = api.run(list(models), list(targets), output=output, dataset=dataset, boards=boards,
                         options=options, classes=classes, resolution=resolution, preprocess=preprocess,
                         jobs=jobs, executor=executor,
                         address=address, cache_dir=cache_dir, force=force, stage_timeout_s=timeout,
                         progress=not quiet, on_start=announce, argv=sys.argv, registry=registry, label=label,
                         stage_memory_mb=stage_memory)
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM/SIGHUP (execute.Interrupted): recorded by the API
        run_dir = getattr(exc, "run_dir", None)
        if run_dir is None:  # before the run was recorded: nothing to point at
            raise
        click.echo(f"zoo-bench: interrupted; finished jobs are in {run_dir}", err=True)
        sys.exit(128 + int(getattr(exc, "signum", 2)))
    store, run_id, results, counts, duration = (result.store, result.run_id, result.results, result.counts,
                                                result.duration_s)
    if as_json:
        click.echo(json.dumps({
            "run_id": run_id, "results": str(store.run_dir(run_id)), "duration_s": round(duration, 3),
            "jobs": [{"job": r.job_id, "status": r.status, "reason": r.reason,
                      "stages": r.stage_statuses(), "cached": r.cached_stages()} for r in results],
            "counts": counts, "unsaved": store.unsaved_json(), "warnings": result.warnings,
            "answers": _answers(results),
        }, indent=2, default=str))
    else:
        from ..summary import summary_text

        click.echo(summary_text(results))
        click.echo(f"\n{counts['ok']} ok, {counts['failed']} failed, {counts['skipped']} skipped in {duration:.1f}s; "
                   f"rows: zoo-bench results --output {output} --run {run_id}")
    # busy machine, governor (docs/ci.md): conditions of the measurement, kept in run.json and shown
    # by compare and history; a note here, not a warning (nothing is wrong with the run itself)
    for note in result.warnings if not quiet else ():
        click.echo(f"zoo-bench: note: {note}", err=True)
    for line in store.unsaved_report(rows_on_stdout=not as_json):
        click.echo(f"zoo-bench: error: {line}", err=True)
    if not as_json:  # rows that could be written nowhere else (in the JSON summary with --json)
        for job in store.unsaved_json().values():
            for row in job["rows"] or []:
                click.echo(json.dumps(row, default=str))
    if cards:
        from .store_commands import card

        click.get_current_context().invoke(card, output=output, run_id=run_id)
    sys.exit(1 if counts["failed"] or store.unsaved else 0)


def _answers(results) -> list:
    """The summary lines as data (framework/summary.py): latency, RAM, flash, fit per job."""
    from ..summary import summary_json

    return summary_json(results)


def plan_text(jobs, as_json: bool) -> str:
    if as_json:
        return json.dumps([{"job": j.id, "skip_reason": j.skip_reason,
                            "stages": [{"id": s.id, "kind": s.kind, "component": s.component, "inputs": list(s.inputs),
                                        "options": s.options_dict(), "variant": s.variant, "side": s.side}
                                       for s in j.stages]}
                           for j in jobs], indent=2, default=str)
    lines = []
    for job in jobs:
        lines.append(f"{job.id}" + (f"  (skipped: {job.skip_reason})" if job.skip_reason else ""))
        for s in job.stages:
            opts = " ".join(f"{k}={v}" for k, v in s.options_dict().items())
            after = f"  <- {', '.join(s.inputs)}" if s.inputs else ""
            side = "  (side branch)" if s.side else ""
            lines.append(f"  {s.id:<28} {s.component:<20} {opts}{after}{side}")
    return "\n".join(lines)


def summary_table(results) -> str:
    """One line per stage that produced a latency (measured or estimated) per job."""
    headers = ["model", "target", "stage", "latency ms", "p90 ms", "size KiB", "method", "status", "cached"]
    rows = []
    for res in results:
        model, target = res.job_id.split("@", 1)
        ok = [r for r in res.records if r.status == "ok" and r.metric != "stage_seconds"]
        sizes = {r.variant: r.value for r in ok if r.metric == "model_size_kib"}
        stages: dict[str, dict[str, Any]] = {}
        for rec in ok:
            if rec.metric in ("latency_p50_ms", "latency_mean_ms", "latency_p90_ms"):
                slot = stages.setdefault(rec.stage, {"variant": rec.variant, "method": rec.method,
                                                     "cached": "cached" if rec.cached else ""})
                slot[rec.metric] = rec.value
        if not stages:
            rows.append([model, target, "", None, None, None, "", res.status, ""])
        for stage, slot in stages.items():
            latency = slot.get("latency_p50_ms", slot.get("latency_mean_ms"))
            rows.append([model, target, stage, latency, slot.get("latency_p90_ms"), sizes.get(slot["variant"]),
                         slot["method"], res.status, slot["cached"]])
    lines = [format_table(headers, rows)]
    problems = [(r.job_id, rec) for r in results for rec in r.records
                if rec.metric == "stage_seconds" and rec.status != "ok" and "blocked_by" not in rec.extra]
    if problems:
        lines.append("")
        lines += [f"{job}  {rec.stage}: {rec.status}: {rec.reason}" for job, rec in problems]
    return "\n".join(lines)
