"""The local executor: runs jobs' stages, each in its own process, through the cache.

For every stage of a job, in order: skip it if an input failed; skip it if its component says
it cannot run here; serve it from the cache if its key is there; otherwise run
``python -m zoo_bench.worker`` in a new process group with a timeout, and commit its output to
the cache if it succeeded. Whatever happens, the stage yields a :class:`StageResult`, and the
job's rows are written to the store when it ends. Jobs run on ``jobs`` threads; the heavy work
is in the child processes.

No stage outlives its run: SIGTERM and SIGHUP take the Ctrl-C path (stage processes killed,
finished jobs kept, :class:`Interrupted` raised to the CLI), and the worker dies with its
parent and past its own timeout (see ``worker.py``). What the cache serves and what a worker
returns is validated; a cached input artifact is checked against its sha256 before a stage
uses it, and an entry that fails is evicted and recomputed.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import __version__
from .cache import CACHE_FORMAT, ArtifactCache, file_digest, files_sha256
from .components import Artifact, Component, Figure
from .plan import STAGE_KINDS, Job, StageSpec
from .plugins import Registry
from .progress import Progress
from .records import JobResult, Record
from .serialize import (
    artifact_from_dict,
    artifact_to_dict,
    figure_from_dict,
    spec_to_dict,
    validate_worker_result,
)
from .stage_key import stage_key
from .store import ResultsStore

__all__ = ["CACHE_FORMAT", "ExecutionOptions", "Interrupted", "LocalExecutor", "StageResult"]
#: Signals that stop a run the way Ctrl-C does.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal; ``signum`` is it (SIGINT for Ctrl-C)."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@dataclass
class ExecutionOptions:
    """How a run executes. ``options`` are the user's run options (threads, dataset, ...);
    ``force`` names stage kinds to redo even when cached (e.g. ``{"run"}`` to re-measure)."""

    cache_dir: Path
    jobs: int = 1
    stage_timeout_s: float = 3600.0
    options: dict[str, Any] = field(default_factory=dict)
    force: frozenset[str] = frozenset()


@dataclass
class StageResult:
    spec: StageSpec
    status: str
    reason: str = ""
    artifact: Artifact | None = None
    figures: list[Figure] = field(default_factory=list)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    duration_s: float = 0.0
    cached: bool = False
    key: str = ""
    tool_versions: dict[str, str] = field(default_factory=dict)
    artifact_sha256: str = ""
    input_sha256: str = ""
    log: str = ""
    #: For a stage skipped because an input did not succeed: the stage where the trouble began.
    blocked_by: str = ""
    #: Absolute path -> sha256 of the artifact's files, checked before a later stage uses them.
    files: dict[str, str] = field(default_factory=dict)


def host_facts() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"host": platform.node(), "host_cpu": cpu, "python_version": platform.python_version()}


def _json_safe(options: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in options.items()}


class LocalExecutor:
    def __init__(self, registry: Registry, store: ResultsStore, options: ExecutionOptions,
                 progress: Progress | None = None):
        self.registry = registry
        self.store = store
        self.opts = options
        self.progress = progress or Progress(stream=None)
        self.cache = ArtifactCache(options.cache_dir, warn=self.progress.warn).open()
        removed = self.cache.clean_staging()
        if removed:
            self.progress.warn(f"removed {removed} staging folders left in {self.cache.root / 'tmp'} by dead runs")
        self.host = host_facts()
        self._procs: set[subprocess.Popen] = set()
        self._lock = threading.Lock()
        self.cancelled = threading.Event()
        #: keys computed by this run: --rerun redoes a shared stage once, not once per job
        self._fresh: set[str] = set()
        #: (job, stage) whose cached output was found changed and recomputed (once, no loop)
        self._recomputed: set[tuple[str, str]] = set()

    # --- the run --------------------------------------------------------------------------
    def run(self, run_id: str, jobs: list[Job]) -> list[JobResult]:
        """Run every job; Ctrl-C, SIGTERM or SIGHUP stops running stages, keeps every finished
        job's rows and raises :class:`KeyboardInterrupt` (an :class:`Interrupted` for a signal)."""
        results: list[JobResult] = []
        self.progress.start(len(jobs))
        pool = ThreadPoolExecutor(max_workers=max(1, self.opts.jobs))
        futures = {pool.submit(self.run_job, run_id, job): job for job in jobs}
        pending = set(futures)
        with self._stop_signals_interrupt():
            try:
                while pending:
                    done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                    results.extend(self._job_result(f, futures[f]) for f in done)
            except KeyboardInterrupt:
                self.cancel()
                pool.shutdown(wait=True, cancel_futures=True)
                results.extend(self._job_result(f, futures[f]) for f in pending if f.done() and not f.cancelled())
                raise
            finally:
                pool.shutdown(wait=True)
        order = {job.id: i for i, job in enumerate(jobs)}
        return sorted(results, key=lambda r: order[r.job_id])

    def _job_result(self, future: Any, job: Job) -> JobResult:
        """A job's result; a harness bug inside one job fails that job, never the run."""
        try:
            return future.result()
        except Exception as exc:
            self.progress.warn(f"job {job.id} failed inside zoo-bench: {type(exc).__name__}: {exc}")
            return JobResult(job.id, "failed", [], f"zoo-bench error: {type(exc).__name__}: {exc}")

    @contextmanager
    def _stop_signals_interrupt(self) -> Iterator[None]:
        """SIGTERM/SIGHUP raise :class:`Interrupted` in the main thread (once: a second signal
        during the shutdown is ignored, the shutdown is already under way)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def stop(signum: int, frame: Any) -> None:
            if not self.cancelled.is_set():
                self.cancelled.set()
                raise Interrupted(signum)

        previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def cancel(self) -> None:
        self.cancelled.set()
        with self._lock:
            for proc in list(self._procs):
                _kill_group(proc)

    def run_job(self, run_id: str, job: Job) -> JobResult:
        t0 = time.time()
        self._event(self.registry.job_started, job, run_id)
        self.progress.job_started(job)
        done: dict[str, StageResult] = {}
        if job.skip_reason:
            spec = StageSpec("job", "job", job.target.id)
            done["job"] = StageResult(spec, "skipped", job.skip_reason)
        if job.plan_error:
            spec = StageSpec("plan", "plan", job.target.id)
            done["plan"] = StageResult(spec, "failed", f"target {job.target.id} could not plan: {job.plan_error}")
        for spec in job.stages:
            if self.cancelled.is_set():
                done[spec.id] = StageResult(spec, "failed", "interrupted before this stage started")
                continue
            self.progress.stage_started(job, spec)
            try:
                result = self.run_stage(run_id, job, spec, done)
            except Exception as exc:  # e.g. a plugin's unavailable_reason() raising: fail the stage only
                result = StageResult(spec, "failed", f"{type(exc).__name__}: {exc}")
            done[spec.id] = result
            self.progress.stage_finished(job, spec, result)
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
        result = JobResult(job.id, status, records, "; ".join(reasons), time.time() - t0)
        self.progress.job_finished(job, result)
        self._event(self.registry.job_finished, job, result)
        return result

    def _event(self, hook: Any, *args: Any) -> None:
        """Lifecycle hooks are observers: one that raises is reported, the run goes on."""
        try:
            hook(*args)
        except Exception as exc:
            self.progress.warn(f"a {hook.__name__} hook failed: {type(exc).__name__}: {exc}")

    # --- one stage ------------------------------------------------------------------------
    def run_stage(self, run_id: str, job: Job, spec: StageSpec, done: dict[str, StageResult]) -> StageResult:
        for ref in spec.inputs:
            up = done[ref]
            if up.status != "ok":
                root = done[up.blocked_by] if up.blocked_by else up
                why = f": {root.reason}" if root.status == "skipped" else " (see that stage)"
                return StageResult(spec, "skipped", f"{root.spec.id} {root.status}{why}", blocked_by=root.spec.id)
        component = self.registry.component(STAGE_KINDS[spec.kind], spec.component)
        options = self.stage_options(job, spec, component)
        reason = component.unavailable_reason(job.target, options)
        if reason:
            return StageResult(spec, "skipped", reason)
        inputs = {ref: done[ref].artifact for ref in spec.inputs}
        input_shas = [done[ref].artifact_sha256 for ref in spec.inputs]
        key = self.stage_key(job, spec, component, options, input_shas)
        base = StageResult(spec, "failed", key=key, input_sha256=input_shas[0] if input_shas else "",
                           tool_versions=component.tool_versions())
        with self.cache.lock(key):
            if self.cancelled.is_set():  # Ctrl-C while this job waited for another's identical stage
                base.reason = "interrupted"
                return base
            if spec.kind not in self.opts.force or key in self._fresh:
                hit = self.cache.lookup(key)
                if hit is not None:
                    return self._from_cache(base, hit)
            changed = self._changed_inputs(spec, done)
            if not changed:
                result = self._execute(run_id, job, spec, base, options, inputs)
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
            with self.cache.lock(up.key):
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
        base.duration_s = float(hit["duration_s"])
        base.started_at = datetime.fromisoformat(hit["started_at"])
        if base.started_at.tzinfo is None:
            base.started_at = base.started_at.replace(tzinfo=UTC)
        base.artifact_sha256 = hit.get("artifact_sha256", "")
        base.tool_versions = hit.get("tool_versions", base.tool_versions)
        base.files = {str(entry / rel): sha for rel, sha in hit["files_sha256"].items()}
        return base

    def _execute(self, run_id: str, job: Job, spec: StageSpec, base: StageResult, options: dict[str, Any],
                 inputs: dict[str, Artifact | None]) -> StageResult:
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
        }
        (staging / "request.json").write_text(json.dumps(request, default=str))
        log_file = staging / "stage.log"
        t0 = time.time()
        returncode, timed_out = self._spawn(job, spec, staging, log_file)
        base.duration_s = time.time() - t0
        base.started_at = datetime.fromtimestamp(t0, UTC)
        result = _read_json(staging / "result.json")
        log_text = log_file.read_text(errors="replace") if log_file.exists() else ""
        problem = validate_worker_result(result) if result is not None and returncode == 0 else None
        if result is None or returncode != 0:
            base.status = "failed"
            base.reason = self._death_reason(returncode, timed_out, log_text)
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
        stored = dict(result, started_at=base.started_at.isoformat(), duration_s=base.duration_s,
                      artifact_sha256=base.artifact_sha256, files_sha256=shas)
        (staging / "result.json").write_text(json.dumps(stored, default=str))
        entry = self.cache.commit(base.key, staging)
        base.artifact = artifact_from_dict(result["artifact"], entry) if artifact else None
        base.files = {str(entry / rel): sha for rel, sha in shas.items()}
        return base

    def _spawn(self, job: Job, spec: StageSpec, staging: Path, log_file: Path) -> tuple[int, bool]:
        cmd = [sys.executable, "-m", "zoo_bench.worker", str(staging / "request.json")]
        env = dict(os.environ, PYTHONUNBUFFERED="1", TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"))
        with open(log_file, "wb") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    cwd=staging, env=env, start_new_session=True)
            with self._lock:
                self._procs.add(proc)
            deadline = time.time() + self.opts.stage_timeout_s
            timed_out = False
            try:
                while True:
                    try:
                        proc.wait(timeout=min(10.0, max(0.1, deadline - time.time())))
                        break
                    except subprocess.TimeoutExpired:
                        if time.time() >= deadline:
                            timed_out = True
                            _kill_group(proc)
                            proc.wait()
                            break
                        self.progress.stage_tick(job, spec)
            finally:
                with self._lock:
                    self._procs.discard(proc)
        return proc.returncode, timed_out

    def _death_reason(self, returncode: int, timed_out: bool, log_text: str) -> str:
        if timed_out:
            return f"timed out after {self.opts.stage_timeout_s:g} s (--timeout) and was killed"
        if self.cancelled.is_set():
            return "interrupted"
        tail = " | ".join(line.strip() for line in log_text.strip().splitlines()[-3:] if line.strip())
        if returncode < 0:
            try:
                name = signal.Signals(-returncode).name
            except ValueError:
                name = str(-returncode)
            what = f"stage process killed by {name}"
        else:
            what = f"stage process exited with code {returncode} without a result"
        return f"{what}; last output: {tail}" if tail else what

    # --- rows -----------------------------------------------------------------------------
    def records(self, run_id: str, job: Job, results: list[StageResult]) -> list[Record]:
        source = next((r for r in results if r.spec.kind == "source" and r.artifact), None)
        weights = str(source.artifact.meta.get("weights", job.model.weights)) if source else job.model.weights
        rows: list[Record] = []
        for res in results:
            common = dict(
                run_id=run_id, job_id=job.id, model=job.model.name, target=job.target.id,
                vendor=job.target.vendor, stage=res.spec.id, stage_kind=res.spec.kind,
                component=res.spec.component, variant=res.spec.variant, status=res.status,
                reason=res.reason, started_at=res.started_at, duration_s=res.duration_s,
                cached=res.cached, weights=weights, classes=job.model.classes,
                resolution=job.model.resolution, zoo_bench_version=__version__,
                packages=res.tool_versions, artifact_sha256=res.artifact_sha256,
                input_sha256=res.input_sha256, cache_key=res.key, **self.host,
            )
            extra = {"log": res.log} if res.log else {}
            if res.blocked_by:
                extra["blocked_by"] = res.blocked_by
            rows.append(Record(metric="stage_seconds", value=res.duration_s, unit="s", method="measured-host",
                               tool="zoo-bench", tool_version=__version__, extra=extra, **common))
            for fig in res.figures:
                fextra = dict(fig.extra)
                n_images = fextra.pop("n_images", None)
                dataset = str(fextra.pop("dataset", "") or "")
                rows.append(Record(metric=fig.metric, value=fig.value, unit=fig.unit, method=fig.method,
                                   tool=fig.tool, tool_version=fig.tool_version, samples=fig.samples,
                                   n_images=n_images, dataset=dataset, extra=fextra, **common))
        return rows


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
