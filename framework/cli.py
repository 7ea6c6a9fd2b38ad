"""The ``zoo-bench`` command line.

Never imports tensorflow or torch: stages that need them run in worker processes.
User errors (:class:`UsageError`) print one line and exit with code 2.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from . import __version__
from .errors import UsageError, ZooBenchError
from .table import format_table

DEFAULT_MODEL = "mobilenet_v2_0.35_128"
DEFAULT_TARGET = "cpu"


def _registry():
    from .plugins import get_registry

    registry = get_registry()
    for err in registry.errors:
        click.echo(f"zoo-bench: warning: {err}", err=True)
    return registry


def _parse_kv(values: tuple[str, ...]) -> dict[str, str]:
    """``-s KEY=VALUE`` items as raw strings: the declaring components' options type them."""
    out: dict[str, str] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"option {item!r} is not KEY=VALUE")
        out[key.strip()] = raw
    return out


def _timeout(ctx: click.Context, param: click.Parameter, value: str) -> float:
    """Seconds per stage: a finite number >= 1 (nan or inf would turn the timeout off)."""
    import math

    try:
        seconds = float(value)
    except ValueError:
        raise UsageError(f"--timeout {value!r}: expected a number of seconds") from None
    if not math.isfinite(seconds) or seconds < 1:
        raise UsageError(f"--timeout {value!r}: expected a finite number of seconds >= 1")
    return seconds


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="zoo-bench")
def cli() -> None:
    """Benchmark image-classification models on edge targets into one results store.

    \b
    Pipeline of every job (one model on one target):
      source -> export -> quantize -> compile -> run / evaluate -> Parquet rows
    Every number says how it was obtained: measured-host, measured-board,
    tool-estimate or model-estimate, with the tool and its version.

    \b
    Start here:
      zoo-bench list models              what can be built
      zoo-bench list targets             where it can run
      zoo-bench run --model mobilenet_v2_0.35_128 --target cpu
      zoo-bench results                  the last run as a table
    """


@cli.command()
@click.option("--model", "-m", "models", multiple=True, default=[DEFAULT_MODEL], show_default=True,
              help="Model names, family names, globs (efficientnet_lite*), 'all' or model files; comma lists allowed.")
@click.option("--target", "-t", "targets", multiple=True, default=[DEFAULT_TARGET], show_default=True,
              help="Target ids, globs or 'all'; comma lists allowed.")
@click.option("--output", "-o", "output", type=click.Path(path_type=Path), default=Path("zoo-bench-results"),
              show_default=True, help="Results store directory.")
@click.option("--dataset", type=click.Path(path_type=Path, exists=True, file_okay=False),
              help="Class-per-subfolder images for calibration and accuracy.")
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
def run(models, targets, output, dataset, jobs, threads, runs, warmup, classes, resolution, boards, extra,
        timeout, cache_dir, rerun, fresh, dry_run, as_json, quiet, cards, executor, address) -> None:
    """Run models x targets and store one row per figure.

    \b
    Examples:
      zoo-bench run --model mobilenet_v2_0.35_128 --target cpu
      zoo-bench run --model 'efficientnet_lite*' --target cpu,imx93 --jobs 2
      zoo-bench run --model all --target cpu --dataset ./images --json
    A repeated run is served from the artifact cache (its rows say cached); --fresh re-measures.
    Exit code: 0 when no job failed, 1 when one did, 2 for bad input.
    """
    from .cache import default_cache_dir
    from .execute import ExecutionOptions, LocalExecutor
    from .options import CLI_OPTIONS, check_jobs
    from .paths import ensure_writable_dir
    from .plan import STAGE_KINDS, check_boards_file, plan_jobs, resolve_models, resolve_targets
    from .progress import Progress
    from .store import ResultsStore

    registry = _registry()
    chosen_targets = resolve_targets(list(targets), registry)
    chosen_models = resolve_models(list(models), registry, classes=classes, resolution=resolution)
    check_boards_file(boards, registry)
    options: dict[str, Any] = _parse_kv(extra)
    for key, value in (("dataset", dataset), ("threads", threads), ("runs", runs), ("warmup", warmup),
                       ("boards", boards)):
        if value is not None:
            options[key] = str(value.resolve()) if isinstance(value, Path) else value
    jobs_list = plan_jobs(chosen_models, chosen_targets, options)  # plans see the options as given
    # Typed and checked against every component of the planned jobs before anything runs:
    # an unknown key or a bad value is exit 2 here, not a surprise in a worker.
    options = check_jobs(jobs_list, lambda spec: registry.component(STAGE_KINDS[spec.kind], spec.component),
                         options, CLI_OPTIONS)
    if dry_run:
        click.echo(plan_text(jobs_list, as_json))
        return
    if address and executor != "dask":
        raise UsageError("--address needs --executor dask")
    store = ResultsStore(output)
    store.check_writable()  # before any stage runs: a file, a read-only or full -o is one line, exit 2
    cache_root = cache_dir or default_cache_dir()
    ensure_writable_dir(cache_root, "--cache-dir or $ZOO_BENCH_CACHE")
    force = frozenset(rerun) | ({"run", "evaluate"} if fresh else frozenset())
    settings = ExecutionOptions(cache_dir=cache_root, jobs=jobs,
                                stage_timeout_s=timeout, options=options, force=force)
    progress = Progress(stream=None if quiet else sys.stderr)
    # first: a cache directory it refuses stops the run before it is recorded
    if executor == "dask":
        from .dask_executor import DaskExecutor

        settings.cache_dir = settings.cache_dir.resolve()  # the workers' path to the shared cache
        runner: LocalExecutor | DaskExecutor = DaskExecutor(registry, store, settings, progress, address=address)
    else:
        runner = LocalExecutor(registry, store, settings, progress)
    run_id = store.new_run({
        "argv": sys.argv, "models": [m.name for m in chosen_models], "targets": [t.id for t in chosen_targets],
        "options": options, "zoo_bench_version": __version__,
    })
    if not quiet:
        click.echo(f"run {run_id}: {len(jobs_list)} jobs -> {store.run_dir(run_id)}", err=True)
    t0 = time.time()
    try:
        results = runner.run(run_id, jobs_list)
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM/SIGHUP (execute.Interrupted)
        store.update_manifest(run_id, status="interrupted", duration_s=time.time() - t0)
        click.echo(f"zoo-bench: interrupted; finished jobs are in {store.run_dir(run_id)}", err=True)
        sys.exit(128 + int(getattr(exc, "signum", 2)))
    duration = time.time() - t0
    counts = {s: sum(r.status == s for r in results) for s in ("ok", "failed", "skipped")}
    store.update_manifest(run_id, status="finished", duration_s=duration, jobs=counts)
    if as_json:
        click.echo(json.dumps({
            "run_id": run_id, "results": str(store.run_dir(run_id)), "duration_s": round(duration, 3),
            "jobs": [{"job": r.job_id, "status": r.status, "reason": r.reason,
                      "stages": r.stage_statuses()} for r in results],
            "counts": counts, "unsaved": store.unsaved_json(),
        }, indent=2, default=str))
    else:
        click.echo(summary_table(results))
        click.echo(f"\n{counts['ok']} ok, {counts['failed']} failed, {counts['skipped']} skipped in {duration:.1f}s; "
                   f"rows: zoo-bench results --output {output} --run {run_id}")
    for line in store.unsaved_report(rows_on_stdout=not as_json):
        click.echo(f"zoo-bench: error: {line}", err=True)
    if not as_json:  # rows that could be written nowhere else (in the JSON summary with --json)
        for job in store.unsaved_json().values():
            for row in job["rows"] or []:
                click.echo(json.dumps(row, default=str))
    if cards:
        click.get_current_context().invoke(card, output=output, run_id=run_id)
    sys.exit(1 if counts["failed"] or store.unsaved else 0)


def plan_text(jobs, as_json: bool) -> str:
    if as_json:
        return json.dumps([{"job": j.id, "skip_reason": j.skip_reason,
                            "stages": [{"id": s.id, "kind": s.kind, "component": s.component, "inputs": list(s.inputs),
                                        "options": s.options_dict(), "variant": s.variant} for s in j.stages]}
                           for j in jobs], indent=2, default=str)
    lines = []
    for job in jobs:
        lines.append(f"{job.id}" + (f"  (skipped: {job.skip_reason})" if job.skip_reason else ""))
        for s in job.stages:
            opts = " ".join(f"{k}={v}" for k, v in s.options_dict().items())
            after = f"  <- {', '.join(s.inputs)}" if s.inputs else ""
            lines.append(f"  {s.id:<28} {s.component:<20} {opts}{after}")
    return "\n".join(lines)


def _joined(value: Any) -> str:
    """A manifest's list of names as text (a shared store may hold a run.json of another shape)."""
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)


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


@cli.group()
def cache() -> None:
    """Inspect or empty the artifact cache."""


@cache.command(name="info")
@click.option("--cache-dir", type=click.Path(path_type=Path))
def cache_info(cache_dir: Path | None) -> None:
    """Where the cache is, how big it is, and the staging folders dead runs left."""
    from .cache import MARKER, ArtifactCache, default_cache_dir

    store = ArtifactCache(cache_dir or default_cache_dir())
    if not store.root.exists():
        click.echo(f"{store.root}: no cache yet (a run creates it)")
        return
    if not store.is_cache():  # read only: nothing is created in a folder that is not ours
        raise UsageError(f"{store.root} is not a zoo-bench cache (no {MARKER})")
    tmp = list((store.root / "tmp").iterdir()) if (store.root / "tmp").is_dir() else []
    stale = len(store.stale_staging())
    click.echo(f"{store.root}: {len(store.entries())} stage outputs, {store.size_bytes() / 2**20:.1f} MiB; "
               f"{len(tmp)} staging folders ({stale} left by dead runs, removed by the next run), "
               f"{store.size_bytes(store.root / 'tmp') / 2**20:.1f} MiB")


@cache.command(name="clear")
@click.option("--cache-dir", type=click.Path(path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def cache_clear(cache_dir: Path | None, yes: bool) -> None:
    """Delete every cached stage output (results are not touched).

    Only a directory marked as a zoo-bench cache is emptied, and only of the cache's own folders.
    """
    from .cache import MARKER, ArtifactCache, default_cache_dir

    store = ArtifactCache(cache_dir or default_cache_dir())
    if not store.root.exists():
        click.echo(f"{store.root}: no cache, nothing to delete")
        return
    if not store.is_cache():
        raise UsageError(f"{store.root} is not a zoo-bench cache (no {MARKER}): not deleting anything")
    if not yes:
        click.confirm(f"Delete every cached artifact in {store.root}?", abort=True)
    count = store.clear()
    click.echo(f"emptied {store.root} ({count} stage outputs deleted)")


@cli.group(name="list")
def list_() -> None:
    """List what the installed plugins provide."""


@list_.command(name="models")
@click.argument("pattern", required=False, default="*")
@click.option("--json", "as_json", is_flag=True)
def list_models(pattern: str, as_json: bool) -> None:
    """Catalog models (optionally matching a glob PATTERN)."""
    import fnmatch

    registry = _registry()
    specs = [s for n, s in sorted(registry.models().items()) if fnmatch.fnmatchcase(n, pattern)]
    if as_json:
        click.echo(json.dumps([{"name": s.name, "family": s.family, "source": s.source, "resolution": s.resolution,
                                "classes": s.classes, "params": s.params, "macs": s.macs, "weights": s.weights,
                                "format": s.native_format, "default_in_family": s.default_in_family}
                               for s in specs], indent=2))
        return
    rows = [[s.name, s.family + (" *" if s.default_in_family else ""), s.source, s.resolution,
             _mega(s.params), _mega(s.macs), s.weights] for s in specs]
    click.echo(format_table(["name", "family (* default)", "source", "res", "params M", "MACs M", "weights"], rows))


def _mega(value: int | None) -> float | None:
    return None if value is None else round(value / 1e6, 2)


@list_.command(name="targets")
@click.option("--json", "as_json", is_flag=True)
def list_targets(as_json: bool) -> None:
    """Targets: id, vendor, device class, clock and memory."""
    registry = _registry()
    targets = sorted(registry.targets.values(), key=lambda t: (t.vendor, t.id))
    if as_json:
        click.echo(json.dumps([{"id": t.id, "vendor": t.vendor, "device_class": t.device_class,
                                "clock_mhz": t.clock_mhz, "memory_kib": dict(t.memory_kib),
                                "description": t.description, "plugin": registry.provider[("target", t.id)]}
                               for t in targets], indent=2))
        return
    rows = [[t.id, t.vendor, t.device_class, t.clock_mhz,
             ", ".join(f"{k} {v:,} KiB" for k, v in t.memory_kib), t.description] for t in targets]
    click.echo(format_table(["id", "vendor", "class", "MHz", "memory", "description"], rows, max_width=60))


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.option("--verbose", "-v", is_flag=True, help="Also list each component's options: type, default, help.")
def plugins(as_json: bool, verbose: bool) -> None:
    """Installed plugins, their versions and what each provides.

    \b
    With -v, every component's options (set them with `zoo-bench run -s NAME=VALUE`).
    """
    from .options import CLI_OPTIONS, describe_options

    registry = _registry()
    infos = sorted(registry.plugins.values(), key=lambda i: i.name)

    def components_of(info) -> list[tuple[str, Any]]:
        return [(f"{kind}:{name}", registry.components[kind][name])
                for kind, names in sorted(info.provides.items()) if kind != "target" for name in names]

    if as_json:
        listed = []
        for i in infos:
            entry: dict[str, Any] = {"name": i.name, "distribution": i.distribution, "version": i.version,
                                     "provides": i.provides}
            if verbose:
                entry["options"] = {label: dict(describe_options(comp)) for label, comp in components_of(i)}
            listed.append(entry)
        click.echo(json.dumps(listed + [{"name": e.plugin, "error": str(e)} for e in registry.errors], indent=2))
        return
    rows = []
    for info in infos:
        provides = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in sorted(info.provides.items()))
        rows.append([info.name, info.distribution or "", info.version or "", provides or "(nothing)"])
    click.echo(format_table(["plugin", "distribution", "version", "provides"], rows, max_width=90))
    if verbose:
        lines = ["", "options of `zoo-bench run` (-s NAME=VALUE or their own flags):"]
        lines += [f"  {name}: {opt.describe()}" for name, opt in sorted(CLI_OPTIONS.items())]
        for info in infos:
            for label, comp in components_of(info):
                described = describe_options(comp)
                lines.append("")
                lines.append(f"{label} ({info.name}){'' if described else ': no options'}")
                lines += [f"  {name}: {text}" for name, text in described]
        click.echo("\n".join(lines))


@cli.command()
@click.option("--output", "-o", type=click.Path(path_type=Path), default=Path("zoo-bench-results"),
              show_default=True, help="Results store directory.")
@click.option("--run", "run_id", help="Run id or prefix (default: the latest run).")
@click.option("--sql", help="SQL over the view `results` (all runs), e.g. \"select model, value from results\".")
@click.option("--list", "list_runs", is_flag=True, help="List the runs in the store.")
@click.option("--all-rows", is_flag=True, help="Include the stage_seconds rows of successful stages.")
@click.option("--json", "as_json", is_flag=True, help="Rows as JSON.")
def results(output: Path, run_id: str | None, sql: str | None, list_runs: bool, all_rows: bool, as_json: bool) -> None:
    """Print a run's rows as a table (or query all runs with SQL)."""
    from .store import ResultsStore

    store = ResultsStore(output)
    if list_runs:
        rows = []
        for rid in store.run_ids():
            m = store.manifest(rid)
            rows.append([rid, str(m.get("status", "")), _joined(m.get("models"))[:40], _joined(m.get("targets")),
                         json.dumps(m.get("jobs", {}), default=str), m.get("duration_s")])
        click.echo(format_table(["run", "status", "models", "targets", "jobs", "seconds"], rows))
        return
    if sql:
        table = store.query(sql)
    else:
        table = store.read(store.resolve_run(run_id))
    records = table.to_pylist()
    if as_json:
        click.echo(json.dumps(records, indent=2, default=str))
        return
    if sql:
        click.echo(format_table(table.column_names, [list(r.values()) for r in records]))
        return
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


@cli.command()
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
def compare(base_run, new_run, output, latency_threshold, memory_threshold, accuracy_threshold, other_threshold,
            show_all, require_fresh, fail_on_regression, exit_zero, as_markdown, as_json) -> None:
    """Compare two runs (default: the last two finished runs) for CI.

    \b
    A measured latency is judged by the median of its raw samples: a change is a
    regression only when it is beyond its threshold AND the 95 % bootstrap interval
    of the median ratio excludes 1 (else its verdict is "noise").
    Exit code 1 when a figure regressed, a stage broke, a figure is gone or NEW did not
    finish; 0 otherwise; 2 for bad input.
    \b
    Example, in a nightly CI job:
      zoo-bench run -m mobilenet_v2_0.35_128 -t cpu --rerun run && zoo-bench compare --markdown
    """
    from .reports.compare import Thresholds
    from .reports.compare_report import compare_runs, format_markdown, format_terminal, pick_runs, to_json
    from .store import ResultsStore

    if as_json and as_markdown:
        raise UsageError("choose one of --json and --markdown")
    thresholds = Thresholds(latency_threshold, memory_threshold, accuracy_threshold, other_threshold)
    store = ResultsStore(output)
    base_id, new_id = pick_runs(store, base_run, new_run)
    comparison = compare_runs(store, base_id, new_id, thresholds)
    if require_fresh and comparison.cached():
        raise UsageError(f"run {new_id} served {len(comparison.cached())} measurements from the cache "
                         "(--require-fresh); re-measure with `zoo-bench run ... --rerun run`")
    if not as_json:
        for note in comparison.notes:
            click.echo(f"zoo-bench: note: {note}", err=True)
    if as_json:
        click.echo(to_json(comparison, show_all))
    elif as_markdown:
        click.echo(format_markdown(comparison, show_all))
    else:
        click.echo(format_terminal(comparison, show_all))
    if comparison.failed() and not exit_zero:
        sys.exit(1)


@cli.command()
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
    from .paths import ensure_writable_dir
    from .plan import split_patterns
    from .reports.cards import write_cards
    from .reports.inputs import plugin_sections, report_run, target_facts
    from .reports.rows_file import load_rows, save_rows
    from .store import ResultsStore

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


@cli.command()
@click.option("--scheduler", required=True, metavar="tcp://HOST:PORT", help="The Dask scheduler to join.")
@click.option("--resources", "resources", multiple=True, metavar="NAME=N",
              help="Resources this worker owns, e.g. board-imx93-lab1=1 for a board plugged in here.")
@click.option("--nworkers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (stages at once on this machine).")
def worker(scheduler, resources, nworkers) -> None:
    """Join a Dask cluster as a zoo-bench worker (a thin wrapper over `dask worker`).

    \b
    Examples:
      zoo-bench worker --scheduler tcp://10.0.0.5:8786
      zoo-bench worker --scheduler tcp://10.0.0.5:8786 --resources board-imx93-lab1=1
    Board runs of board imx93-lab1 go only to a worker that owns board-imx93-lab1. Every worker
    must see the run's --cache-dir at the same path (a shared folder) and have zoo-bench and
    its plugins installed.
    """
    import importlib.util
    import subprocess

    if importlib.util.find_spec("distributed") is None:
        raise UsageError("zoo-bench worker needs Dask: pip install 'zoo-bench[dask]'")
    for item in resources:
        name, sep, value = item.partition("=")
        try:
            float(value)
        except ValueError:
            sep = ""
        if not sep or not name:
            raise UsageError(f"resource {item!r} is not NAME=NUMBER (e.g. board-imx93-lab1=1)")
    cmd = [sys.executable, "-m", "distributed.cli.dask_worker", scheduler, "--nthreads", "1",
           "--nworkers", str(nworkers)]
    if resources:
        cmd += ["--resources", " ".join(resources)]
    sys.exit(subprocess.call(cmd))


@cli.command()
@click.option("--run", "run_id", help="Run id or prefix (default: the latest finished run).")
@click.option("--output", "-o", "html_path", type=click.Path(path_type=Path), default=Path("report.html"),
              show_default=True, help="The HTML file to write.")
@click.option("--results", "-r", "results_dir", type=click.Path(path_type=Path), default=Path("zoo-bench-results"),
              show_default=True, help="Results store directory (what `run -o` wrote).")
def report(run_id: str | None, html_path: Path, results_dir: Path) -> None:
    """Write one self-contained HTML page of a run: plots and a sortable table of every figure.

    \b
    Example:
      zoo-bench report -r zoo-bench-results -o report.html
    The page needs no network: scripts, styles and SVG plots are inline.
    """
    from .reports.inputs import memory_limits, report_run
    from .reports.report import render_report
    from .store import ResultsStore

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


from .estimate.cli import fidelity, fit  # noqa: E402  (estimators: commands of their own package)

cli.add_command(fidelity)
cli.add_command(fit)


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="zoo-bench", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("zoo-bench: aborted", err=True)
        sys.exit(130)
    except click.exceptions.UsageError as exc:  # bad flags and values: one line, like our own errors
        command = exc.ctx.command_path if exc.ctx else "zoo-bench"
        click.echo(f"zoo-bench: error: {exc.format_message()} (see `{command} --help`)", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (UsageError, ZooBenchError) as exc:
        click.echo(f"zoo-bench: error: {_one_line(str(exc))}", err=True)
        sys.exit(2)
    except BrokenPipeError:  # `zoo-bench results | head`: the reader left, nothing to say
        sys.stderr.close()
        sys.exit(141)
    except OSError as exc:  # a path the user gave that the system refuses (too long, unreadable, ...)
        from .paths import short_path

        where = f" {short_path(Path(exc.filename))}" if exc.filename else ""
        click.echo(f"zoo-bench: error: cannot use{where}: {exc.strerror or exc}", err=True)
        sys.exit(2)


def _one_line(text: str) -> str:
    """A message on one line (a path or tool output may hold newlines)."""
    return " | ".join(line.strip() for line in text.strip().splitlines() if line.strip())


if __name__ == "__main__":
    main()
