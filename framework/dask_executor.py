"""The Dask executor: every stage is a Dask task; stages run on Dask workers through the same
:class:`~zoo_bench.stage_runner.StageRunner` as locally, rows are written here.

``zoo-bench run ... --executor dask --address tcp://HOST:PORT`` uses a running scheduler;
``--executor dask`` alone starts a ``LocalCluster`` of ``--jobs`` worker processes. A stage
is submitted once its inputs' tasks are; Dask starts it when they finish. A stage that occupies
a board (``Component.device``) asks for the Dask resource ``board-<id>=1``, so it runs only on
a worker that declared it (``zoo-bench worker --resources board-imx93-lab1=1``), one at a time;
every other stage goes anywhere.

Artifacts move through the cache directory, which every worker must see at the same path (a
shared folder): same keys, same atomic commits, same per-key locks. A worker lost mid-stage:
Dask gives the task to another worker (up to ``distributed.scheduler.allowed-failures`` times);
past that the stage is a failed row with the reason. A stage that hangs is killed by its timeout
on the worker (the stage process watches its parent and its deadline, ``worker.py``).
"""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Any

from .execute import job_results_in_order, stop_signals_interrupt
from .plan import STAGE_KINDS, Job, StageSpec
from .records import JobResult
from .resources import default_machine_lock_dir, stage_device
from .stage_runner import ExecutionOptions, StageResult, StageRunner, blocked_by_inputs

#: One StageRunner per worker process and run settings (a cache opened once, not per stage).
_RUNNERS: dict[tuple[str, str], StageRunner] = {}


def _worker_runner(output: str, opts: ExecutionOptions) -> StageRunner:
    from .plugins import get_registry
    from .store import ResultsStore

    key = (output, repr(opts))
    runner = _RUNNERS.get(key)
    if runner is None:
        runner = _RUNNERS[key] = StageRunner(get_registry(), ResultsStore(output), opts)
    return runner


def remote_stage(output: str, opts: ExecutionOptions, run_id: str, job: Job, spec: StageSpec,
                 *upstream: dict[str, StageResult]) -> dict[str, StageResult]:
    """Runs on a Dask worker: one stage, given its inputs' results (and theirs); returns them
    with this stage's. Never raises for the stage's trouble (a failed result instead)."""
    runner = _worker_runner(output, opts)
    done: dict[str, StageResult] = {}
    for results in upstream:
        done.update(results)
    result = runner.run_stage_safely(run_id, job, spec, done)
    result.host = result.host or runner.host
    done[spec.id] = result
    return done


def unplaceable_stage(spec: StageSpec, reason: str, *upstream: dict[str, StageResult]) -> dict[str, StageResult]:
    """Runs on any worker, in place of a stage that needs a resource no worker has: the stage
    is skipped with ``reason`` (or blocked by an input, as :meth:`StageRunner.run_stage` says)."""
    done: dict[str, StageResult] = {}
    for results in upstream:
        done.update(results)
    done[spec.id] = blocked_by_inputs(spec, done) or StageResult(spec, "skipped", reason)
    return done


def worker_resources(client: Any) -> list[dict[str, float]]:
    """The resources each worker of the cluster declared (``[]``: no worker, or none known)."""
    try:
        workers = client.scheduler_info(n_workers=-1).get("workers", {})
    except TypeError:  # older distributed: no n_workers argument
        workers = client.scheduler_info().get("workers", {})
    return [dict(w.get("resources") or {}) for w in workers.values()]


def placeable(resources: dict[str, float] | None, workers: list[dict[str, float]]) -> bool:
    """Whether some worker owns every resource in ``resources`` (in the quantity asked)."""
    return not resources or any(all(w.get(name, 0) >= amount for name, amount in resources.items())
                                for w in workers)


class DaskExecutor(StageRunner):
    """Schedules stages on a Dask cluster (``address``) or on a LocalCluster of ``jobs`` workers."""

    def __init__(self, *args: Any, address: str | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.address = address
        if self.opts.device_lock_dir is None:  # workers of one machine share its CPUs and boards
            self.opts = dataclasses.replace(self.opts, device_lock_dir=default_machine_lock_dir())

    def _client(self) -> Any:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            from .errors import UsageError

            raise UsageError("--executor dask needs Dask: pip install 'zoo-bench[dask]'") from None
        if self.address:
            return Client(self.address, timeout=30), None
        cluster = LocalCluster(n_workers=max(1, self.opts.jobs), threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=40)
        return Client(cluster), cluster

    def resources_of(self, job: Job, spec: StageSpec) -> dict[str, float] | None:
        """The Dask resources a stage needs: its board, if it occupies one."""
        component = self.registry.component(STAGE_KINDS[spec.kind], spec.component)
        device, _ = stage_device(component, job.target, self.stage_options(job, spec, component))
        return {device: 1} if device.startswith("board-") else None

    def _unplaceable_reason(self, job: Job, spec: StageSpec, resources: dict[str, float] | None) -> str:
        """Why a stage no worker can take is skipped: its component's own reason when it cannot
        run anyway (no boards file, as the local executor says), else the missing resource."""
        try:
            component = self.registry.component(STAGE_KINDS[spec.kind], spec.component)
            reason = component.unavailable_reason(job.target, self.stage_options(job, spec, component))
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
        if reason:
            return reason
        names = ", ".join(f"{name}={amount:g}" for name, amount in sorted((resources or {}).items()))
        return (f"no Dask worker of this cluster owns {names}; start one on the machine the board is "
                f"plugged into: zoo-bench worker --scheduler ADDRESS --resources {names}")

    def run(self, run_id: str, jobs: list[Job]) -> list[JobResult]:
        """Run every job on the cluster; rows are written here as each job's stages finish."""
        client, cluster = self._client()
        self.progress.start(len(jobs))
        output = str(self.store.root.resolve())
        try:
            with stop_signals_interrupt(self.cancelled):
                try:
                    return job_results_in_order(jobs, self._run_all(client, output, run_id, jobs))
                except KeyboardInterrupt:
                    self.cancelled.set()
                    raise
        finally:
            client.close()
            if cluster is not None:
                cluster.close()

    def _run_all(self, client: Any, output: str, run_id: str, jobs: list[Job]) -> list[JobResult]:
        from distributed import as_completed

        started = {}
        futures: dict[Any, tuple[Job, StageSpec]] = {}
        remaining: dict[str, int] = {}
        workers = worker_resources(client)
        for job in jobs:
            self._event(self.registry.job_started, job, run_id)
            self.progress.job_started(job)
            started[job.id] = time.time()
            by_id: dict[str, Any] = {}
            for spec in job.stages:
                try:
                    resources = self.resources_of(job, spec)
                except Exception:  # a plugin error: the stage itself will fail on the worker, with it
                    resources = None
                key = f"{run_id}-{job.id}-{spec.id}-{os.urandom(4).hex()}"
                inputs = [by_id[ref] for ref in spec.inputs]
                if placeable(resources, workers):
                    fut = client.submit(remote_stage, output, self.opts, run_id, job, spec, *inputs,
                                        resources=resources, key=key, pure=False)
                else:  # Dask would wait forever for a worker that owns it: skip it with the reason
                    fut = client.submit(unplaceable_stage, spec, self._unplaceable_reason(job, spec, resources),
                                        *inputs, key=key, pure=False)
                by_id[spec.id] = fut
                futures[fut] = (job, spec)
            remaining[job.id] = len(job.stages)
        done: dict[str, dict[str, StageResult]] = {job.id: self.job_preamble(job) for job in jobs}
        results: list[JobResult] = [self.finish_job(run_id, job, done[job.id], started[job.id])
                                    for job in jobs if not job.stages]
        for fut in as_completed(list(futures)):
            job, spec = futures[fut]
            try:
                result = fut.result()[spec.id]
            except Exception as exc:  # KilledWorker past the allowed failures, a lost input, ...
                result = StageResult(spec, "failed", _lost_reason(exc))
            done[job.id][spec.id] = result
            self.progress.stage_finished(job, spec, result)
            remaining[job.id] -= 1
            if remaining[job.id] == 0:
                results.append(self.finish_job(run_id, job, _in_order(job, done[job.id]), started[job.id]))
        return results


def _in_order(job: Job, done: dict[str, StageResult]) -> dict[str, StageResult]:
    """A job's results in stage order; a stage whose task failed only because an input's did is
    a skip blocked by that input, as the local executor records it."""
    ordered = {k: v for k, v in done.items() if k not in {s.id for s in job.stages}}
    for spec in job.stages:
        result = done[spec.id]
        bad = [ref for ref in spec.inputs if ordered[ref].status != "ok"]
        if bad and result.status == "failed" and not result.key:
            up = ordered[bad[0]]
            root = ordered[up.blocked_by] if up.blocked_by else up
            why = f": {root.reason}" if root.status == "skipped" else " (see that stage)"
            result = StageResult(spec, "skipped", f"{root.spec.id} {root.status}{why}", blocked_by=root.spec.id)
        ordered[spec.id] = result
    return ordered


def _lost_reason(exc: BaseException) -> str:
    name = type(exc).__name__
    if name == "KilledWorker":
        return f"the Dask workers running this stage died (KilledWorker, no retries left): {exc}"
    return f"the stage did not come back from Dask: {name}: {exc}"
