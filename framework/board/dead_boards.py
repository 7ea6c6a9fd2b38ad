"""Boards found unreachable, remembered for the rest of the run, across stage processes.

Each stage runs in its own process, so a board that cannot be reached would otherwise cost its
full connect time and retries in every later stage of the run (3 board stages per job on an
i.MX 93). The first stage that gives up on a board leaves a small marker file; every later
stage of the same run that would use the same endpoint (host, port, user, ProxyJump) fails at
once with the first failure's message.

"The same run" is ``$ZOO_BENCH_RUN_ID`` when the harness sets it, else the zoo-bench process
that started the stage: the parent of a stage worker (``python -m zoo_bench.worker``), or this
process when a component runs in-process (tests, ``zoo_bench.testing``), each identified by
pid and start time so that a reused pid is not mistaken for it. Markers live in a directory of
this user's (mode 0700) under the system temp dir; those of finished runs are pruned.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

RUN_ID_ENV = "ZOO_BENCH_RUN_ID"
#: Markers of runs whose process cannot be checked (an explicit run id) go after this long.
STALE_AFTER_S = 7 * 24 * 3600.0


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), or '' where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[-1].split()[19]  # field 22; the name in (...) may hold spaces


def in_stage_worker() -> bool:
    """Whether this process is a stage worker started by the harness."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return getattr(spec, "name", "") == "zoo_bench.worker"


def run_identity(worker: bool | None = None) -> str:
    """The id of the run this process works for (see the module docstring)."""
    explicit = os.environ.get(RUN_ID_ENV, "")
    if explicit:
        return "id-" + re.sub(r"[^A-Za-z0-9_.-]", "_", explicit)[:100]
    pid = os.getppid() if (in_stage_worker() if worker is None else worker) else os.getpid()
    return f"pid-{pid}-{_start_time(pid)}"


def _alive(name: str) -> bool:
    match = re.fullmatch(r"pid-(\d+)-(\d*)", name)
    if match is None:
        return True  # not ours to judge: an explicit run id (pruned by age)
    return _start_time(int(match.group(1))) == match.group(2) and Path(f"/proc/{match.group(1)}").exists()


def state_root() -> Path | None:
    """This user's marker directory (created 0700), or ``None`` when it is not safely ours."""
    root = Path(tempfile.gettempdir()) / f"zoo-bench-{os.getuid()}" / "dead-boards"
    try:
        root.parent.mkdir(mode=0o700, exist_ok=True)
        root.mkdir(mode=0o700, exist_ok=True)
        for path in (root.parent, root):
            info = path.lstat()
            # another user's directory, or a link planted in the shared temp dir: do not use it
            if path.is_symlink() or info.st_uid != os.getuid() or info.st_mode & 0o077:
                return None
    except OSError:
        return None
    return root


class DeadBoards:
    """The markers of one run: ``mark`` a board's endpoint dead, ``first_failure`` asks."""

    def __init__(self, directory: Path | None):
        self.directory = directory

    @classmethod
    def for_this_run(cls) -> DeadBoards:
        """The markers of the run this process works for (a no-op store if none can be kept)."""
        root = state_root()
        return cls(root / run_identity() if root is not None else None)

    @staticmethod
    def endpoint_key(*parts: object) -> str:
        """A file name for an endpoint (host, port, user, jump): no address in the file name."""
        return hashlib.sha256(json.dumps([str(p) for p in parts]).encode()).hexdigest()[:24]

    def first_failure(self, key: str) -> str | None:
        """The message of the failure that marked ``key`` dead in this run, or ``None``."""
        if self.directory is None:
            return None
        try:
            return str(json.loads((self.directory / f"{key}.json").read_text())["reason"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def mark(self, key: str, reason: str) -> None:
        """Remember ``key`` as dead with ``reason``; the first marker of a run wins."""
        if self.directory is None:
            return
        try:
            self.directory.mkdir(mode=0o700, exist_ok=True)
            path = self.directory / f"{key}.json"
            partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            partial.write_text(json.dumps({"reason": reason, "at": time.time()}))
            if path.exists():
                partial.unlink()
            else:
                partial.replace(path)
        except OSError:
            return  # remembering is an optimisation: a read-only temp dir must not fail the stage
        self._prune()

    def _prune(self) -> None:
        """Remove the markers of runs that are over."""
        if self.directory is None:
            return
        now = time.time()
        for other in self.directory.parent.iterdir():
            if other == self.directory or not other.is_dir():
                continue
            try:
                stale = not _alive(other.name) or now - other.stat().st_mtime > STALE_AFTER_S
            except OSError:
                continue
            if stale:
                shutil.rmtree(other, ignore_errors=True)
