"""The process a stage runs in: ``python -m zoo_bench.worker REQUEST.json`` with a timeout.

The child leads a new process group so that a timeout or a cancel kills the tools it started
too; it also watches its parent and its own deadline (``worker.py``), so it never outlives the
run, on this machine or on a Dask worker.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

#: The default memory bound of one stage: half of this machine's RAM, at most 8 GiB.
DEFAULT_STAGE_MEMORY_CAP_MB = 8192


def total_memory_mb() -> int | None:
    """MemTotal of this machine in MiB (Linux), ``None`` when it cannot be read."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def default_stage_memory_mb() -> int:
    total = total_memory_mb()
    return min(DEFAULT_STAGE_MEMORY_CAP_MB, total // 2) if total else DEFAULT_STAGE_MEMORY_CAP_MB


def stage_memory_limit_mb(option: int | None) -> int:
    """The memory bound of a stage process in MiB (0: none): the run's option, else
    ``$ZOO_BENCH_STAGE_MEMORY_MB``, else :func:`default_stage_memory_mb`."""
    if option is not None:
        return max(0, int(option))
    env = os.environ.get("ZOO_BENCH_STAGE_MEMORY_MB", "").strip()
    if env:
        try:
            return max(0, int(env))
        except ValueError:
            from .errors import UsageError

            raise UsageError(f"ZOO_BENCH_STAGE_MEMORY_MB={env!r} is not a number of MiB (0: no limit)") from None
    return default_stage_memory_mb()


class StageProcesses:
    """Starts stage processes and kills the live ones on :meth:`kill_all` (thread-safe)."""

    def __init__(self) -> None:
        self._procs: set[subprocess.Popen] = set()
        self._lock = threading.Lock()
        #: Processes started so far (tests check that a cached re-run starts none).
        self.started = 0

    def run(self, staging: Path, log_file: Path, timeout_s: float,
            tick: Callable[[], None] | None = None) -> tuple[int, bool]:
        """Run the worker on ``staging/request.json``; ``(returncode, timed_out)``."""
        cmd = [sys.executable, "-m", "zoo_bench.worker", str(staging / "request.json")]
        env = dict(os.environ, PYTHONUNBUFFERED="1", TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"))
        with open(log_file, "wb") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    cwd=staging, env=env, start_new_session=True)
            with self._lock:
                self._procs.add(proc)
                self.started += 1
            deadline = time.time() + timeout_s
            timed_out = False
            try:
                while True:
                    try:
                        proc.wait(timeout=min(10.0, max(0.1, deadline - time.time())))
                        break
                    except subprocess.TimeoutExpired:
                        if time.time() >= deadline:
                            timed_out = True
                            kill_group(proc)
                            proc.wait()
                            break
                        if tick is not None:
                            tick()
            finally:
                with self._lock:
                    self._procs.discard(proc)
        return proc.returncode, timed_out

    def kill_all(self) -> None:
        with self._lock:
            for proc in list(self._procs):
                kill_group(proc)


def death_reason(returncode: int, timed_out: bool, timeout_s: float, cancelled: bool, log_text: str) -> str:
    """Why a stage process ended without a result, with the tail of its output."""
    if timed_out:
        return f"timed out after {timeout_s:g} s (--timeout) and was killed"
    if cancelled:
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


def kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
