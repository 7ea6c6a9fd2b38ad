"""The local executor: runs jobs' stages, each in its own process, through the cache.

For every stage of a job, in order: skip it if an input failed; skip it if its component says
it cannot run here; serve it from the cache if its key is there; otherwise run
``python -m zoo_bench.worker`` in a new process group with a timeout, and commit its output to
the cache if it succeeded. Whatever happens, the stage yields a :class:`StageResult`, and the
job's rows are written to the store when it ends. Jobs run on ``jobs`` threads; the heavy work
is in the child processes.
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
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import __version__
from .cache import ArtifactCache, cache_key
from .components import Artifact, Component, Figure
from .plan import STAGE_KINDS, Job, StageSpec
from .plugins import Registry
from .progress import Progress
from .records import JobResult, Record
from .serialize import artifact_from_dict, artifact_to_dict, figure_from_dict, spec_to_dict
from .store import ResultsStore

CACHE_FORMAT = 1  # bump to invalidate every cache entry when the entry layout changes


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


def _path_aware(options: dict[str, Any]) -> dict[str, Any]:
    """Option values that name existing files or folders enter cache keys by fingerprint."""
    out = {}
    for k, v in options.items():
        if isinstance(v, str) and os.sep in v and Path(v).exists():
            v = Path(v)
        out[k] = v
    return out


class LocalExecutor:
    def __init__(self, registry: Registry, store: ResultsStore, options: ExecutionOptions,
                 progress: Progress | None = None):
        self.registry = registry
        self.store = store
        self.opts = options
        self.cache = ArtifactCache(options.cache_dir)
        self.progress = progress or Progress(stream=None)
        self.host = host_facts()
        self._procs: set[subprocess.Popen] = set()
        self._lock = threading.Lock()
        self.cancelled = threading.Event()
        #: keys computed by this run: --rerun redoes a shared stage once, not once per job
        self._fresh: set[str] = set()

    # --- the run --------------------------------------------------------------------------
    def run(self, run_id: str, jobs: list[Job]) -> list[JobResult]:
        """Run every job; Ctrl-C stops running stages and keeps every finished job's rows."""
        results: list[JobResult] = []
        self.progress.start(len(jobs))
        pool = ThreadPoolExecutor(max_workers=max(1, self.opts.jobs))
        futures = {pool.submit(self.run_job, run_id, job): job for job in jobs}
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                results.extend(f.result() for f in done)
        except KeyboardInterrupt:
            self.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
            results.extend(f.result() for f in pending if f.done() and not f.cancelled())
            raise
        finally:
            pool.shutdown(wait=True)
        order = {job.id: i for i, job in enumerate(jobs)}
        return sorted(results, key=lambda r: order[r.job_id])

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
        result = JobResult(job.id, status, records, "; ".join(reasons), time.time() - t0)
        self.store.write_job(run_id, job.id, records)
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
            result = self._execute(run_id, job, spec, base, options, inputs)
            if result.status == "ok":
                self._fresh.add(key)
            return result

    def stage_options(self, job: Job, spec: StageSpec, component: Component) -> dict[str, Any]:
        """Declared defaults < target defaults < user run options < the plan's stage options,
        each typed by the component's declarations (:func:`zoo_bench.options.stage_options`)."""
        from .options import stage_options

        return stage_options(component, dict(job.target.defaults), self.opts.options, spec.options_dict())

    def stage_key(self, job: Job, spec: StageSpec, component: Component, options: dict[str, Any],
                  input_shas: list[str]) -> str:
        payload: dict[str, Any] = {
            "cache_format": CACHE_FORMAT,
            "kind": spec.kind,
            "component": spec.component,
            "tool_versions": component.tool_versions(),
            "options": _path_aware(options),
            "inputs": input_shas,
            "model": spec_to_dict(job.model),
            # model files named by the spec (local models, weights) enter by fingerprint
            "model_files": _path_aware({k: v for k, v in job.model.builder if isinstance(v, str)}),
        }
        if spec.kind in ("compile", "run", "evaluate"):
            payload["target"] = job.target.id
        if component.host_dependent:
            payload["host"] = [self.host["host"], self.host["host_cpu"]]
        return cache_key(payload)

    def _from_cache(self, base: StageResult, hit: dict[str, Any]) -> StageResult:
        entry = Path(hit["entry"])
        base.status = "ok"
        base.cached = True
        base.artifact = artifact_from_dict(hit["artifact"], entry) if hit.get("artifact") else None
        base.figures = [figure_from_dict(f) for f in hit.get("figures", [])]
        base.duration_s = float(hit.get("duration_s", 0.0))
        base.started_at = datetime.fromisoformat(hit["started_at"])
        base.artifact_sha256 = hit.get("artifact_sha256", "")
        base.tool_versions = hit.get("tool_versions", base.tool_versions)
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
        }
        (staging / "request.json").write_text(json.dumps(request, default=str))
        log_file = staging / "stage.log"
        t0 = time.time()
        returncode, timed_out = self._spawn(job, spec, staging, log_file)
        base.duration_s = time.time() - t0
        base.started_at = datetime.fromtimestamp(t0, UTC)
        result = _read_json(staging / "result.json")
        log_text = log_file.read_text(errors="replace") if log_file.exists() else ""
        if result is None or returncode != 0:
            base.status = "failed"
            base.reason = self._death_reason(returncode, timed_out, log_text)
        else:
            base.status = result["status"]
            base.reason = result.get("reason", "")
            base.tool_versions = result.get("tool_versions", base.tool_versions)
        if base.status != "ok":
            log_path = self.store.log_path(run_id, job.id, spec.id)
            log_path.write_text(log_text)
            if base.status == "failed":
                base.log = str(log_path)
            self.cache.discard(staging)
            return base
        artifact = artifact_from_dict(result["artifact"], staging) if result.get("artifact") else None
        base.artifact_sha256 = artifact.sha256() if artifact else ""
        base.figures = [figure_from_dict(f) for f in result.get("figures", [])]
        stored = dict(result, started_at=base.started_at.isoformat(), duration_s=base.duration_s,
                      artifact_sha256=base.artifact_sha256)
        (staging / "result.json").write_text(json.dumps(stored, default=str))
        entry = self.cache.commit(base.key, staging)
        base.artifact = artifact_from_dict(result["artifact"], entry) if artifact else None
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
