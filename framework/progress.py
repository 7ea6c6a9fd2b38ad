"""Live progress of a run on stderr: one line per stage event, and a heartbeat for long stages.

Plain lines (no cursor tricks) so the same output reads well in a terminal and in a CI log.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .plan import Job, StageSpec
    from .records import JobResult

MARK = {"ok": "ok", "failed": "FAILED", "skipped": "skipped"}


class Progress:
    def __init__(self, stream: IO[str] | None = sys.stderr, verbose: bool = False):
        self.stream = stream
        self.verbose = verbose
        self.total = 0
        self.index: dict[str, int] = {}
        self.started: dict[tuple[str, str], float] = {}
        self.t0 = time.time()
        self._lock = threading.Lock()

    def _say(self, text: str) -> None:
        if self.stream is None:
            return
        from .table import terminal_safe  # names and reasons may come from someone else's files

        with self._lock:
            print(terminal_safe(text), file=self.stream, flush=True)

    def _prefix(self, job: Job) -> str:
        width = len(str(self.total))
        return f"[{self.index.get(job.id, 0):>{width}}/{self.total}] {job.id}"

    def start(self, total: int) -> None:
        self.total = total
        self.t0 = time.time()

    def job_started(self, job: Job) -> None:
        with self._lock:
            self.index[job.id] = len(self.index) + 1
        self._say(f"{self._prefix(job)}: {len(job.stages)} stages")

    def stage_started(self, job: Job, spec: StageSpec) -> None:
        self.started[(job.id, spec.id)] = time.time()

    def stage_tick(self, job: Job, spec: StageSpec) -> None:
        elapsed = time.time() - self.started.get((job.id, spec.id), time.time())
        if int(elapsed) % 30 < 10:  # a line about every 30 s of a long stage
            self._say(f"{self._prefix(job)}  {spec.id} running {elapsed:.0f}s")

    def stage_finished(self, job: Job, spec: StageSpec, result: Any) -> None:
        where = " (cached)" if result.cached else ""
        why = f": {result.reason}" if result.status != "ok" and result.reason else ""
        if len(why) > 160 and not self.verbose:
            why = why[:157] + "..."
        self._say(f"{self._prefix(job)}  {spec.id:<28} {MARK[result.status]} {result.duration_s:6.1f}s{where}{why}")

    def warn(self, text: str) -> None:
        self._say(f"zoo-bench: warning: {text}")

    def job_finished(self, job: Job, result: JobResult) -> None:
        self._say(f"{self._prefix(job)}: {MARK[result.status]} in {result.duration_s:.1f}s")
