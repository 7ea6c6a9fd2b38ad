"""The Python API under the command line: plan and run models x targets from a notebook or a script.

    from zoo_bench import api

    result = api.run("mobilenet_v2_0.35_128", "cpu", output="results", options={"runs": 20})
    result.run_id, result.counts, result.rows[0]["metric"]

``zoo-bench run`` is a thin layer over :func:`run` (flags in, summary out): both validate the
same way (a bad model, target, option or folder raises :class:`~zoo_bench.errors.UsageError`
before anything runs) and record the run in the results store the same way.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .errors import UsageError

if TYPE_CHECKING:
    from .components import ModelSpec, Target
    from .plan import Job
    from .plugins import Registry
    from .progress import Progress
    from .records import JobResult
    from .store import ResultsStore

EXECUTORS = ("local", "dask")
#: Stage kinds ``force`` can name (``--rerun``).
FORCE_KINDS = ("source", "export", "quantize", "compile", "run", "evaluate")
#: Options given as keyword arguments of :func:`plan` / :func:`run` rather than in ``options``.
_PATH_OPTIONS = ("dataset", "boards")


@dataclass
class Plan:
    """What a run would do: the chosen models and targets, the jobs and the checked, typed options."""

    models: list[ModelSpec]
    targets: list[Target]
    jobs: list[Job]
    options: dict[str, Any]
    registry: Registry


@dataclass
class RunResult:
    """A finished run: its id, the store it is recorded in and every job's result."""

    run_id: str
    store: ResultsStore
    results: list[JobResult]
    duration_s: float
    plan: Plan
    counts: dict[str, int] = field(default_factory=dict)
    #: machine warnings of the run (busy machine, CPU governor), as in its run.json (docs/ci.md)
    warnings: list[str] = field(default_factory=list)

    @property
    def run_dir(self) -> Path:
        return self.store.run_dir(self.run_id)

    @property
    def unsaved(self) -> dict[str, Any]:
        """Jobs whose rows the store could not take (see :meth:`ResultsStore.unsaved_json`)."""
        return self.store.unsaved_json()

    @property
    def ok(self) -> bool:
        """No job failed and every row is in the store."""
        return not self.counts.get("failed") and not self.store.unsaved

    @property
    def rows(self) -> list[dict[str, Any]]:
        """Every row of the run as dicts of the results schema (the unsaved ones included)."""
        from .records import to_table

        return to_table([rec for res in self.results for rec in res.records]).to_pylist()


def _names(value: str | Iterable[str]) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value]


def plan(models: str | Iterable[str], targets: str | Iterable[str], *, dataset: str | Path | None = None,
         boards: str | Path | None = None, options: Mapping[str, Any] | None = None, classes: int | None = None,
         resolution: int | None = None, registry: Registry | None = None, preprocess: str | None = None) -> Plan:
    """Resolve models and targets, plan the jobs and check every option against their components.

    ``models`` and ``targets`` take what ``--model`` / ``--target`` take (names, globs, ``all``,
    comma lists, model files). ``options`` are component options (``{"runs": 20, "threads": 2}``,
    raw strings are typed like ``-s KEY=VALUE``). ``preprocess`` declares the input contract of
    the model files (``--preprocess``, docs/models.md). Raises :class:`UsageError` on bad input.
    """
    from .options import CLI_OPTIONS, check_jobs
    from .plan import STAGE_KINDS, check_boards_file, plan_jobs, resolve_models, resolve_targets
    from .plugins import get_registry

    registry = registry or get_registry()
    chosen_targets = resolve_targets(_names(targets), registry)
    chosen_models = resolve_models(_names(models), registry, classes=classes, resolution=resolution,
                                   preprocess=preprocess)
    if dataset is not None and not Path(dataset).is_dir():
        raise UsageError(f"dataset {str(dataset)!r} is not a folder")
    check_boards_file(Path(boards) if boards is not None else None, registry)
    values: dict[str, Any] = dict(options or {})
    for key, value in zip(_PATH_OPTIONS, (dataset, boards), strict=True):
        if value is not None:
            values[key] = str(Path(value).resolve())
    jobs = plan_jobs(chosen_models, chosen_targets, values)  # plans see the options as given
    # Typed and checked against every component of the planned jobs before anything runs:
    # an unknown key or a bad value is a UsageError here, not a surprise in a worker.
    checked = check_jobs(jobs, lambda spec: registry.component(STAGE_KINDS[spec.kind], spec.component),
                         values, CLI_OPTIONS)
    return Plan(chosen_models, chosen_targets, jobs, checked, registry)


def run(models: str | Iterable[str], targets: str | Iterable[str], *, output: str | Path = "zoo-bench-results",
        dataset: str | Path | None = None, boards: str | Path | None = None,
        options: Mapping[str, Any] | None = None, classes: int | None = None, resolution: int | None = None,
        jobs: int = 1, executor: str = "local", address: str | None = None, cache_dir: str | Path | None = None,
        force: Iterable[str] = (), stage_timeout_s: float = 3600.0, progress: bool | Progress = False,
        on_start: Callable[[str, int, Path], None] | None = None, argv: list[str] | None = None,
        registry: Registry | None = None, label: str | None = None,
        preprocess: str | None = None, stage_memory_mb: int | None = None) -> RunResult:
    """Plan, validate, run and record models x targets in the results store ``output``.

    ``force`` names stage kinds to redo even when cached (``{"run", "evaluate"}`` re-measures).
    ``progress`` is ``True`` for progress lines on stderr, or a :class:`~zoo_bench.progress.Progress`.
    ``on_start(run_id, n_jobs, run_dir)`` is called once the run is recorded, before any job runs.
    ``label`` names the run (``history --label``, ``compare --baseline``); the run also records the git
    commit of the working directory and the machine's state at start and end (:mod:`zoo_bench.run_facts`).
    ``stage_memory_mb`` bounds the resident memory of each stage and the tools it starts (0: no bound;
    ``None``: ``$ZOO_BENCH_STAGE_MEMORY_MB``, else min(8 GiB, half the RAM)).

    A Ctrl-C or SIGTERM marks the run ``interrupted`` in the store and re-raises the
    ``KeyboardInterrupt``, with ``run_id`` and ``run_dir`` set on it.
    """
    from .cache import default_cache_dir
    from .execute import ExecutionOptions, LocalExecutor
    from .paths import ensure_writable_dir
    from .progress import Progress
    from .run_facts import check_label, end_facts, start_facts
    from .store import ResultsStore

    label = check_label(label)
    if not isinstance(jobs, int) or not 1 <= jobs <= 64:
        raise UsageError(f"jobs {jobs!r}: expected an integer from 1 to 64")
    if executor not in EXECUTORS:
        raise UsageError(f"executor {executor!r}: expected one of {', '.join(EXECUTORS)}")
    if stage_memory_mb is not None and (isinstance(stage_memory_mb, bool) or not isinstance(stage_memory_mb, int)
                                        or stage_memory_mb < 0):
        raise UsageError(f"stage memory {stage_memory_mb!r}: expected a whole number of MiB >= 0 (0: no limit)")
    forced = frozenset(force)
    unknown = sorted(forced - set(FORCE_KINDS))
    if unknown:
        raise UsageError(f"force {', '.join(unknown)}: not a stage kind")
    planned = plan(models, targets, dataset=dataset, boards=boards, options=options, classes=classes,
                   resolution=resolution, registry=registry, preprocess=preprocess)
    if address and executor != "dask":
        raise UsageError("--address needs --executor dask")
    store = ResultsStore(Path(output))
    store.check_writable()  # before any stage runs: a file, a read-only or full -o is one line, exit 2
    cache_root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    ensure_writable_dir(cache_root, "--cache-dir or $ZOO_BENCH_CACHE")
    # absolute: stage processes run in their own work directories
    settings = ExecutionOptions(cache_dir=cache_root.resolve(), jobs=jobs, stage_timeout_s=stage_timeout_s,
                                options=planned.options, force=forced, stage_memory_mb=stage_memory_mb)
    if isinstance(progress, Progress):
        reporter = progress
    else:
        reporter = Progress(stream=sys.stderr if progress else None)
    # first: a cache directory it refuses stops the run before it is recorded
    if executor == "dask":
        from .dask_executor import DaskExecutor

        settings.cache_dir = settings.cache_dir.resolve()  # the workers' path to the shared cache
        runner: LocalExecutor | DaskExecutor = DaskExecutor(planned.registry, store, settings, reporter,
                                                            address=address)
    else:
        runner = LocalExecutor(planned.registry, store, settings, reporter)
    facts = start_facts()  # git commit, machine at start (docs/ci.md)
    run_id = store.new_run({
        "argv": list(sys.argv if argv is None else argv), "models": [m.name for m in planned.models],
        "targets": [t.id for t in planned.targets], "options": planned.options, "zoo_bench_version": __version__,
        "label": label, **facts,
    })
    if on_start is not None:
        on_start(run_id, len(planned.jobs), store.run_dir(run_id))
    t0 = time.time()
    try:
        results = runner.run(run_id, planned.jobs)
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM/SIGHUP (execute.Interrupted)
        store.update_manifest(run_id, status="interrupted", duration_s=time.time() - t0)
        exc.run_id = run_id  # type: ignore[attr-defined]
        exc.run_dir = store.run_dir(run_id)  # type: ignore[attr-defined]
        raise
    duration = time.time() - t0
    counts = {s: sum(r.status == s for r in results) for s in ("ok", "failed", "skipped")}
    ended = end_facts(facts)
    store.update_manifest(run_id, status="finished", duration_s=duration, jobs=counts, **ended)
    return RunResult(run_id, store, results, duration, planned, counts, ended["warnings"])
