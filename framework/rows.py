"""Rows of a job: one ``stage_seconds`` row per stage and one row per figure it produced.

Kept apart from execution so that every executor (local, Dask) writes the same rows from the
same :class:`~zoo_bench.stage_runner.StageResult` objects, and so the columns a row carries
are visible in one place.
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .records import Record

if TYPE_CHECKING:
    from .plan import Job
    from .stage_runner import StageResult


def host_facts() -> dict[str, str]:
    """Name, CPU model and Python version of this machine (columns of every row)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"host": platform.node(), "host_cpu": cpu, "python_version": platform.python_version()}


#: ``extra`` keys the framework itself writes (how and where the stage ran): a figure's own value
#: for one of these never replaces the framework's; it is kept as ``"<component>:<key>"``.
FRAMEWORK_EXTRA = ("device", "exclusive", "log", "blocked_by", "measured_in_run")


def figure_extra(fig_extra: dict[str, Any], how: dict[str, Any], component: str) -> dict[str, Any]:
    """A figure's ``extra`` merged with the stage's facts ``how``: the framework's keys
    (:data:`FRAMEWORK_EXTRA`) win, the plugin's value moving to ``"<component>:<key>"``;
    other keys of ``how`` (``threads``) are defaults a figure may state itself (a board's threads)."""
    merged: dict[str, Any] = {}
    for name, value in fig_extra.items():
        if name not in FRAMEWORK_EXTRA:
            merged[name] = value
        elif how.get(name) != value:  # the same fact twice is said once
            merged[f"{component}:{name}"] = value
    for name, value in how.items():
        if name in FRAMEWORK_EXTRA:
            merged[name] = value
        else:
            merged.setdefault(name, value)
    return merged


def stage_extra(res: StageResult) -> dict[str, Any]:
    """What the stage row's ``extra`` says about how the stage ran (device, exclusivity, threads)
    and, for a stage served from the cache (column ``cached``), the run that measured it."""
    extra: dict[str, Any] = {}
    if res.device:
        extra["device"] = res.device
    if res.exclusive is not None:
        extra["exclusive"] = res.exclusive
    if res.threads is not None:
        extra["threads"] = res.threads
    if res.cached and res.measured_in_run:  # a cached figure keeps its method: say where it was made
        extra["measured_in_run"] = res.measured_in_run
    return extra


def build_records(run_id: str, job: Job, results: list[StageResult], host: dict[str, str]) -> list[Record]:
    """The rows of one job, in stage order."""
    source = next((r for r in results if r.spec.kind == "source" and r.artifact), None)
    weights = str(source.artifact.meta.get("weights", job.model.weights)) if source else job.model.weights
    # the built model's output count where the source measured it (a user's module: known only once built)
    built_classes = source.artifact.meta.get("classes") if source else None
    classes = built_classes if isinstance(built_classes, int) and built_classes > 0 else job.model.classes
    rows: list[Record] = []
    for res in results:
        common = dict(
            run_id=run_id, job_id=job.id, model=job.model.name, target=job.target.id,
            vendor=job.target.vendor, stage=res.spec.id, stage_kind=res.spec.kind,
            component=res.spec.component, variant=res.spec.variant, status=res.status,
            reason=res.reason, started_at=res.started_at, duration_s=res.duration_s,
            cached=res.cached, weights=weights, classes=classes,
            resolution=job.model.resolution, zoo_bench_version=__version__,
            packages=res.tool_versions, artifact_sha256=res.artifact_sha256,
            input_sha256=res.input_sha256, cache_key=res.key, **(res.host or host),
        )
        how = stage_extra(res)
        extra: dict[str, Any] = dict(how)
        if res.log:
            extra["log"] = res.log
        if res.blocked_by:
            extra["blocked_by"] = res.blocked_by
        rows.append(Record(metric="stage_seconds", value=res.duration_s, unit="s", method="measured-host",
                           tool="zoo-bench", tool_version=__version__, extra=extra, **common))
        for fig in res.figures:
            fextra = dict(fig.extra)
            n_images = fextra.pop("n_images", None)
            dataset = str(fextra.pop("dataset", "") or "")
            fextra = figure_extra(fextra, how, res.spec.component)  # the framework's own facts win
            rows.append(Record(metric=fig.metric, value=fig.value, unit=fig.unit, method=fig.method,
                               tool=fig.tool, tool_version=fig.tool_version, samples=fig.samples,
                               n_images=n_images, dataset=dataset, extra=fextra, **common))
    return rows
