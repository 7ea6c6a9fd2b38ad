"""The local executor: schedules jobs on threads of this process; stages run through the
shared :class:`~zoo_bench.stage_runner.StageRunner` (one child process per stage).

Jobs run on ``jobs`` threads; what may run at once is further limited by the stages' device
and memory claims (``resources.py``): a host timing never overlaps another stage, and no more
memory-heavy stages start than fit in memory.

No stage outlives its run: SIGTERM and SIGHUP take the Ctrl-C path (stage processes killed,
finished jobs kept, :class:`Interrupted` raised to the CLI), and the worker dies with its
parent and past its own timeout (see ``worker.py``).
"""

from __future__ import annotations

import queue
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from .cache import CACHE_FORMAT
from .plan import Job
from .records import JobResult
from .rows import host_facts
from .stage_runner import ExecutionOptions, Interrupted, StageResult, StageRunner

__all__ = ["CACHE_FORMAT", "ExecutionOptions", "Interrupted", "LocalExecutor", "StageResult", "host_facts",
           "job_results_in_order"]
#: Signals that stop a run the way Ctrl-C does.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def job_results_in_order(jobs: list[Job], results: list[JobResult]) -> list[JobResult]:
    order = {job.id: i for i, job in enumerate(jobs)}
    return sorted(results, key=lambda r: order[r.job_id])


class LocalExecutor(StageRunner):
    """Runs jobs on ``ExecutionOptions.jobs`` threads of this process."""

    def run(self, run_id: str, jobs: list[Job]) -> list[JobResult]:
        """Run every job; Ctrl-C, SIGTERM or SIGHUP stops running stages, keeps every finished
        job's rows and raises :class:`KeyboardInterrupt` (an :class:`Interrupted` for a signal)."""
        results: list[JobResult] = []
        self.progress.start(len(jobs))
        pool = ThreadPoolExecutor(max_workers=max(1, self.opts.jobs))
        # Finished futures arrive on a queue: O(1) per job (waiting on the set of pending futures
        # costs O(pending) per wake-up, quadratic over 10000 jobs). The 0.5 s timeout lets
        # signal handlers run in this thread.
        finished: queue.SimpleQueue[Future] = queue.SimpleQueue()
        futures: dict[Future, Job] = {}
        for job in jobs:
            future = pool.submit(self.run_job, run_id, job)
            futures[future] = job
            future.add_done_callback(finished.put)
        collected: set[Future] = set()
        with stop_signals_interrupt(self.cancelled):
            try:
                while len(collected) < len(futures):
                    try:
                        future = finished.get(timeout=0.5)
                    except queue.Empty:
                        continue
                    collected.add(future)
                    results.append(self._job_result(future, futures[future]))
            except KeyboardInterrupt:
                self.cancel()
                pool.shutdown(wait=True, cancel_futures=True)
                results.extend(self._job_result(f, job) for f, job in futures.items()
                               if f not in collected and f.done() and not f.cancelled())
                raise
            finally:
                pool.shutdown(wait=True)
        return job_results_in_order(jobs, results)

    def _job_result(self, future: Any, job: Job) -> JobResult:
        """A job's result; a harness bug inside one job fails that job, never the run."""
        try:
            return future.result()
        except Exception as exc:
            self.progress.warn(f"job {job.id} failed inside zoo-bench: {type(exc).__name__}: {exc}")
            return JobResult(job.id, "failed", [], f"zoo-bench error: {type(exc).__name__}: {exc}")


@contextmanager
def stop_signals_interrupt(cancelled: threading.Event) -> Iterator[None]:
    """SIGTERM/SIGHUP raise :class:`Interrupted` in the main thread (once: a second signal
    during the shutdown is ignored, the shutdown is already under way)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        if not cancelled.is_set():
            cancelled.set()
            raise Interrupted(signum)

    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
