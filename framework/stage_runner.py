"""One stage, start to end, the same under every executor.

For a stage of a job: skip it if an input did not succeed; skip it if its component says it
cannot run here (decided in this process, no child started); serve it from the cache if its
key is there; otherwise hold its device and memory (``resources.py``), run
``python -m zoo_bench.worker`` in a new process group with a timeout (``stage_process.py``)
and commit its output to the cache if it succeeded. Whatever happens the stage yields a
:class:`StageResult`; :meth:`StageRunner.run_job` runs a job's stages in order and writes its
rows (``rows.py``). Executors (``execute.py``, ``executors/dask.py``) only decide what runs
when and where.

What the cache serves and what a worker returns is validated; a cached input artifact is
checked against its sha256 before a stage uses it, and an entry that fails is evicted and
recomputed.
"""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .cache import ArtifactCache, file_digest, files_sha256
from .components import Artifact, Component
from .layers import clean_layers, write_job_layers
from .metrics import metrics_for
from .plan import STAGE_KINDS, Job, StageSpec, side_branch_outcome
from .plugins import Registry
from .progress import Progress
from .records import JobResult, Record
from .resources import MachineLocks, Resources, available_memory_mb, stage_device
from .rows import build_records, host_facts
from .safe_io import load_json, write_bytes
from .serialize import artifact_from_dict, artifact_to_dict, figure_from_dict, spec_to_dict, validate_worker_result
from .stage_key import stage_key
from .stage_process import StageProcesses, death_reason, stage_memory_limit_mb
from .stage_result import ExecutionOptions, Interrupted, StageResult  # noqa: F401  (re-exported)
from .store import ResultsStore


def _json_safe(options: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in options.items()}


def _threads(options: dict[str, Any]) -> int | None:
    try:
        return int(options["threads"]) if options.get("threads") is not None else None
    except (TypeError, ValueError):
        return None


class StageRunner:
    """Runs stages through the cache, each in its own process; shared by every executor."""

    def __init__(self, registry: Registry, store: ResultsStore, options: ExecutionOptions,
                 progress: Progress | None = None):
        self.registry = registry
        self.store = store
        self.opts = options
        self.progress = progress or Progress(stream=None)
        self.cache = ArtifactCache(options.cache_dir, warn=self.progress.warn).open()
        #: the metric registry every figure is checked against (its domain) where it enters
        self.metrics = self.cache.metrics = metrics_for(registry.pm)
        #: memory bound of each stage process in MiB (0: none); a bad $ZOO_BENCH_STAGE_MEMORY_MB
        #: is a usage error here, before the run is recorded
        self.stage_memory_mb = stage_memory_limit_mb(options.stage_memory_mb)
        removed = self.cache.clean_staging()
        if removed:
            self.progress.warn(f"removed {removed} staging folders left in {self.cache.root / 'tmp'} by dead runs")
        self.host = host_facts()
        self.processes = StageProcesses()
        budget = options.memory_mb if options.memory_mb is not None else available_memory_mb()
        locks = MachineLocks(options.device_lock_dir, self.progress.warn) if options.device_lock_dir else None
        self.resources = Resources(budget, locks)
        self.cancelled = threading.Event()
        #: keys computed by this run: --rerun redoes a shared stage once, not once per job
        self._fresh: set[str] = set()
        #: (job, stage) whose cached output was found changed and recomputed (once, no loop)
        self._recomputed: set[tuple[str, str]] = set()

    def cancel(self) -> None:
        self.cancelled.set()
        self.processes.kill_all()

    # --- one job --------------------------------------------------------------------------
    def run_job(self, run_id: str, job: Job) -> JobResult:
        """Run a job's stages in order, write its rows, return its result (never raises for a
        stage's trouble: that is a failed or skipped row)."""
        t0 = time.time()
        self._event(self.registry.job_started, job, run_id)
        self.progress.job_started(job)
        done = self.job_preamble(job)
        for spec in job.stages:
            if self.cancelled.is_set():
                done[spec.id] = StageResult(spec, "failed", "interrupted before this stage started")
                continue
            self.progress.stage_started(job, spec)
            done[spec.id] = self.run_stage_safely(run_id, job, spec, done)
            self.progress.stage_finished(job, spec, done[spec.id])
        return self.finish_job(run_id, job, done, t0)

    @staticmethod
    def job_preamble(job: Job) -> dict[str, StageResult]:
        """The rows a job has before any stage: skipped as a whole, or a plan that failed."""
        done: dict[str, StageResult] = {}
        if job.skip_reason:
            spec = StageSpec("job", "job", job.target.id)
            done["job"] = StageResult(spec, "skipped", job.skip_reason)
        if job.plan_error:
            spec = StageSpec("plan", "plan", job.target.id)
            done["plan"] = StageResult(spec, "failed", f"target {job.target.id} could not plan: {job.plan_error}")
        return done

    def run_stage_safely(self, run_id: str, job: Job, spec: StageSpec, done: dict[str, StageResult]) -> StageResult:
        try:
            return self.run_stage(run_id, job, spec, done)
        except Exception as exc:  # e.g. a plugin's unavailable_reason() raising: fail the stage only
            return StageResult(spec, "failed", f"{type(exc).__name__}: {exc}")

    def finish_job(self, run_id: str, job: Job, done: dict[str, StageResult], t0: float) -> JobResult:
        """Write the job's rows to the store and fire ``job_finished``."""
        side_branch_outcome(done)  # a side branch that could not run is skipped, never fails the job
        records = self.records(run_id, job, list(done.values()))
        statuses = [r.status for r in done.values()]
        status = "failed" if "failed" in statuses else "ok" if "ok" in statuses else "skipped"
        reasons = [f"{r.spec.id}: {r.reason}" for r in done.values() if r.status == "failed"]
        try:
            self.store.write_job(run_id, job.id, records)
        except Exception as exc:  # this job's rows only: other jobs' files are separate and stay
            where = f"{type(exc).__name__}: {exc}"
            self.progress.warn(f"the rows of job {job.id} could not be written: {where}")
            status = "failed"
            reasons.append(f"rows not written: {where}")
        try:
            write_job_layers(self.store.run_dir(run_id), run_id, job, done.values())
        except Exception as exc:  # per-layer detail is extra: its loss never costs the job's rows
            self.progress.warn(f"the per-layer rows of job {job.id} could not be written: {type(exc).__name__}: {exc}")
        result = JobResult(job.id, status, records, "; ".join(reasons), time.time() - t0)
        self.progress.job_finished(job, result)
        self._event(self.registry.job_finished, job, result)
        return result

    def records(self, run_id: str, job: Job, results: list[StageResult]) -> list[Record]:
        return build_records(run_id, job, results, self.host)

    def _event(self, hook: Any, *args: Any) -> None:
        """Lifecycle hooks are observers: one that raises is reported, the run goes on."""
        try:
            hook(*args)
        except Exception as exc:
            self.progress.warn(f"a {hook.__name__} hook failed: {type(exc).__name__}: {exc}")

    # --- one stage ------------------------------------------------------------------------
    def run_stage(self, run_id: str, job: Job, spec: StageSpec, done: dict[str, StageResult]) -> StageResult:
        blocked = blocked_by_inputs(spec, done)
        if blocked is not None:
            return blocked
        component = self.registry.component(STAGE_KINDS[spec.kind], spec.component)
        options = self.stage_options(job, spec, component)
        reason = component.unavailable_reason(job.target, options)
        if reason:
            return StageResult(spec, "skipped", reason)
        inputs = {ref: done[ref].artifact for ref in spec.inputs}
        input_shas = [done[ref].artifact_sha256 for ref in spec.inputs]
        key = self.stage_key(job, spec, component, options, input_shas)
        base = StageResult(spec, "failed", key=key, input_sha256=input_shas[0] if input_shas else "",
                           tool_versions=component.tool_versions(), threads=_threads(options))
        with self.cache.lock(key, self.cancelled) as locked:
            if not locked or self.cancelled.is_set():  # a stop while waiting for another run's identical stage
                base.reason = "interrupted"
                return base
            if spec.kind not in self.opts.force or key in self._fresh:
                hit = self.cache.lookup(key)
                if hit is not None:
                    return self._from_cache(base, hit)
            changed = self._changed_inputs(spec, done)
            if not changed:
                device, exclusive = stage_device(component, job.target, options)
                with self.resources.hold(device, exclusive, component.peak_memory_mb, self.cancelled) as claim:
                    if claim is None:
                        base.reason = "interrupted"
                        return base
                    base.device = device
                    result = self._execute(run_id, job, spec, base, options, inputs, claim)
                if result.status == "ok":
                    self._fresh.add(key)
                return result
        # An input's files changed on disk since it was made or served: recompute it, then this.
        for ref, problem in changed.items():
            if (job.id, ref) in self._recomputed:
                base.reason = f"input {ref} changed on disk again after it was recomputed: {problem}"
                return base
            self._recomputed.add((job.id, ref))
            self.progress.warn(f"{job.id}: the cached output of {ref} is not what was recorded ({problem}); "
                               "evicted, recomputing")
            up = done[ref]
            with self.cache.lock(up.key, self.cancelled) as locked:
                if not locked:
                    base.reason = "interrupted"
                    return base
                self.cache.evict(up.key)
            self._fresh.discard(up.key)
            upstream = next(s for s in job.stages if s.id == ref)
            done[ref] = self.run_stage(run_id, job, upstream, done)
        return self.run_stage(run_id, job, spec, done)

    def _changed_inputs(self, spec: StageSpec, done: dict[str, StageResult]) -> dict[str, str]:
        """Input stages whose artifact files no longer have their recorded sha256."""
        changed = {}
        for ref in spec.inputs:
            for path, expected in done[ref].files.items():
                try:
                    actual = file_digest(Path(path))
                except OSError:
                    changed[ref] = f"{Path(path).name} is missing"
                    break
                if actual != expected:
                    changed[ref] = f"{Path(path).name} does not match its sha256"
                    break
        return changed

    def stage_options(self, job: Job, spec: StageSpec, component: Component) -> dict[str, Any]:
        """Declared defaults < target defaults < user run options < the plan's stage options,
        each typed by the component's declarations (:func:`zoo_bench.options.stage_options`)."""
        from .options import stage_options

        return stage_options(component, dict(job.target.defaults), self.opts.options, spec.options_dict())

    def stage_key(self, job: Job, spec: StageSpec, component: Component, options: dict[str, Any],
                  input_shas: list[str]) -> str:
        """The stage's cache key (``stage_key.py`` says what enters it)."""
        host = [self.host["host"], self.host["host_cpu"]] if component.host_dependent else None
        return stage_key(self.registry, job, spec, component, options, input_shas, host)

    def _from_cache(self, base: StageResult, hit: dict[str, Any]) -> StageResult:
        """A stage served from a validated, verified cache entry (``ArtifactCache.lookup``)."""
        entry = Path(hit["entry"])
        base.status = "ok"
        base.cached = True
        base.artifact = artifact_from_dict(hit["artifact"], entry) if hit.get("artifact") else None
        base.figures = [figure_from_dict(f) for f in hit.get("figures", [])]
        base.layers = clean_layers(hit.get("layers"))
        base.duration_s = float(hit["duration_s"])
        base.started_at = datetime.fromisoformat(hit["started_at"])
        if base.started_at.tzinfo is None:
            base.started_at = base.started_at.replace(tzinfo=UTC)
        base.artifact_sha256 = hit.get("artifact_sha256", "")
        base.tool_versions = hit.get("tool_versions", base.tool_versions)
        base.files = {str(entry / rel): sha for rel, sha in hit["files_sha256"].items()}
        # how the cached figures were measured (entries written before these existed say nothing)
        base.device = str(hit.get("device") or "")
        base.exclusive = hit["exclusive"] if isinstance(hit.get("exclusive"), bool) else None
        base.measured_in_run = str(hit.get("run_id") or "")
        return base

    def _execute(self, run_id: str, job: Job, spec: StageSpec, base: StageResult, options: dict[str, Any],
                 inputs: dict[str, Artifact | None], claim: Any) -> StageResult:
        staging = self.cache.staging(base.key)
        request = {
            "stage": {"id": spec.id, "kind": spec.kind, "component": spec.component,
                      "inputs": list(spec.inputs), "options": spec.options_dict()},
            "model": spec_to_dict(job.model),
            "target": job.target.id,
            "options": _json_safe(options),
            "inputs": {ref: artifact_to_dict(a, Path("/")) for ref, a in inputs.items() if a is not None},
            "workdir": str(staging),
            "result": str(staging / "result.json"),
            # the worker stops itself when this process dies or the stage outlives its timeout
            "parent_pid": os.getpid(),
            "timeout_s": self.opts.stage_timeout_s,
            # ... and when it and its tools hold more memory than this (MiB; 0: no limit)
            "memory_limit_mb": self.stage_memory_mb,
        }
        (staging / "request.json").write_text(json.dumps(request, default=str))
        log_file = staging / "stage.log"
        t0 = time.time()
        returncode, timed_out = self.processes.run(staging, log_file, self.opts.stage_timeout_s,
                                                   lambda: self.progress.stage_tick(job, spec))
        base.duration_s = time.time() - t0
        base.started_at = datetime.fromtimestamp(t0, UTC)
        base.exclusive = not claim.shared
        result = _read_json(staging / "result.json")
        log_text = log_file.read_text(errors="replace") if log_file.exists() else ""
        problem = validate_worker_result(result, self.metrics) if result is not None and returncode == 0 else None
        if returncode != 0 and isinstance(result, dict) and result.get("status") == "failed" \
                and isinstance(result.get("reason"), str) and result["reason"]:
            base.status = "failed"  # the worker stopped itself and said why (memory, timeout)
            base.reason = result["reason"]
        elif result is None or returncode != 0:
            base.status = "failed"
            base.reason = death_reason(returncode, timed_out, self.opts.stage_timeout_s, self.cancelled.is_set(),
                                       log_text)
        elif problem:
            base.status = "failed"
            base.reason = f"{spec.component} returned an invalid result: {problem}"
        else:
            base.status = result["status"]
            base.reason = result.get("reason", "")
            base.tool_versions = result.get("tool_versions", base.tool_versions)
        if base.status == "ok" and result.get("artifact"):
            artifact = artifact_from_dict(result["artifact"], staging)
            missing = [p for p in (artifact.path, *artifact.files.values()) if not p.is_file()]
            if missing:
                base.status = "failed"
                base.reason = f"{spec.component} returned an artifact whose file {missing[0].name} does not exist"
        if base.status != "ok":
            log_path = self.store.log_path(run_id, job.id, spec.id)
            log_path.write_text(log_text)
            if base.status == "failed":
                base.log = str(log_path)
            self.cache.discard(staging)
            return base
        artifact = artifact_from_dict(result["artifact"], staging) if result.get("artifact") else None
        shas = files_sha256(staging, [artifact.path, *artifact.files.values()]) if artifact else {}
        base.artifact_sha256 = file_digest(artifact.path) if artifact else ""
        base.figures = [figure_from_dict(f) for f in result.get("figures", [])]
        base.layers = clean_layers(result.get("layers"))
        stored = dict(result, started_at=base.started_at.isoformat(), duration_s=base.duration_s,
                      artifact_sha256=base.artifact_sha256, files_sha256=shas, device=base.device,
                      exclusive=base.exclusive, run_id=run_id)
        write_bytes(staging / "result.json", json.dumps(stored, default=str).encode())
        entry = self.cache.commit(base.key, staging)
        base.artifact = artifact_from_dict(result["artifact"], entry) if artifact else None
        base.files = {str(entry / rel): sha for rel, sha in shas.items()}
        return base


def blocked_by_inputs(spec: StageSpec, done: dict[str, StageResult]) -> StageResult | None:
    """A skipped result when an input of ``spec`` did not succeed (naming the stage where the
    trouble began), else ``None``: the same under every executor."""
    for ref in spec.inputs:
        up = done[ref]
        if up.status != "ok":
            root = done[up.blocked_by] if up.blocked_by else up
            why = f": {root.reason}" if root.status == "skipped" else " (see that stage)"
            return StageResult(spec, "skipped", f"{root.spec.id} {root.status}{why}", blocked_by=root.spec.id)
    return None


def _read_json(path: Path) -> dict[str, Any] | None:
    """A worker's result.json, or ``None`` when it is missing, not a regular file or not JSON."""
    try:
        return load_json(path, nofollow=True)
    except (OSError, ValueError):
        return None
