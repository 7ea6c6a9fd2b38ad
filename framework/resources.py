"""What a stage holds while it runs: its device (shared or exclusive) and its memory.

A stage that times something holds its device exclusively for its duration: a host runner the
host's CPUs (``host``), a board runner its board (``board-<id>``). Every other stage that runs
on this machine (conversions, compiles, quantizers) holds ``host`` shared: they run alongside
each other, never alongside a host timing. A waiting exclusive claim stops new shared claims
from starting, so a timing is not starved by a stream of conversions.

Memory: a stage declares its peak (``Component.peak_memory_mb``); claims start only while
their sum fits in the budget (the memory available when the run started, unless given). A
stage larger than the whole budget still runs, alone.

Each claim records whether anything else held the same device at any moment of its life
(``Claim.shared``): the rows' ``exclusive`` column is its negation.

Several processes of one machine (Dask workers) share its devices through :class:`MachineLocks`:
an ``flock`` per device (shared or exclusive, released by the kernel when a process dies) and a
small counter file that tells a claim whether another process held the device meanwhile.
"""

from __future__ import annotations

import fcntl
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import UsageError
from .safe_io import UnsafeFile, check_private_dir, open_regular

if TYPE_CHECKING:
    from .components import Component, Target

HOST = "host"


def stage_device(component: Component, target: Target | None, options: dict[str, Any]) -> tuple[str, bool]:
    """``(device, exclusive)`` of a stage: what it occupies and whether it times it.

    A host stage is exclusive only when it measures there (``measures`` and a ``measured-host``
    provenance): an estimator, a conversion or a compile holds the host shared.
    """
    device = component.device(target, options)
    if device and device != HOST:
        return device, True
    return HOST, bool(component.measures) and component.provenance == "measured-host"


def available_memory_mb() -> int | None:
    """MemAvailable of this machine in MiB (Linux), ``None`` when it cannot be read."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def default_machine_lock_dir() -> Path:
    """A folder local to this machine for the device locks of its zoo-bench processes."""
    return Path(tempfile.gettempdir()) / f"zoo-bench-{os.getuid()}" / "devices"


@dataclass(eq=False)
class Claim:
    device: str
    exclusive: bool
    memory_mb: int
    #: Something else held the device at some moment while this claim was held.
    shared: bool = False
    #: Held machine lock: (fd of the device lock, the counter's sequence number at acquire).
    machine: tuple[int, int] | None = None


class MachineLocks:
    """Device claims between processes of one machine: ``flock`` plus a holder counter.

    The folder sits in a shared place (``$TMPDIR``), so it must be this user's and writable by
    no one else (else :class:`UsageError`), and each file in it is opened with
    :func:`~zoo_bench.safe_io.open_regular` (no link followed, regular files of this user
    only): a planted pipe, device, link or foreign file is removed with a warning and made
    afresh, never waited on or written through.
    """

    def __init__(self, root: Path, warn: Callable[[str], None] | None = None):
        self.root = root
        self.warn = warn or (lambda text: None)
        self.uid = os.getuid()
        for folder in ([root.parent] if root.parent.name == f"zoo-bench-{self.uid}" else []) + [root]:
            try:
                folder.mkdir(mode=0o700, exist_ok=True)
            except FileNotFoundError:
                folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as exc:
                raise UsageError(f"cannot make the device-claim folder {folder}: {exc.strerror or exc}") from None
            why = check_private_dir(folder, self.uid)
            if why:
                raise UsageError(f"the device-claim folder {folder} cannot be trusted: {why}; remove it, or set "
                                 "TMPDIR to a folder of your own")

    def _file(self, device: str, suffix: str) -> Path:
        return self.root / (re.sub(r"[^A-Za-z0-9_.-]", "_", device) + suffix)

    def _open(self, path: Path) -> int:
        """``path`` opened read-write (made if missing), refusing anything but a regular file of
        this user's; a bad one is removed once, with a warning."""
        try:
            return open_regular(path, os.O_RDWR | os.O_CREAT, 0o600, nofollow=True, owner=self.uid)
        except UnsafeFile as exc:
            self.warn(f"ignored {path} in the device-claim folder: {exc.strerror}; made a new one")
            try:
                if path.is_dir() and not path.is_symlink():
                    import shutil

                    shutil.rmtree(path)
                else:
                    path.unlink()
            except FileNotFoundError:
                pass
            return open_regular(path, os.O_RDWR | os.O_CREAT, 0o600, nofollow=True, owner=self.uid)

    def _count(self, device: str, change: int, reset: bool = False) -> tuple[int, int]:
        """Add ``change`` to the holder count (+1 also bumps the sequence); the new
        ``(sequence, holders before)``."""
        path = self._file(device, ".count")
        fd = self._open(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            text = os.read(fd, 64).decode(errors="replace") or "0 0"
            try:
                seq, holders = (int(x) for x in text.split())
                if seq < 0 or holders < 0:
                    raise ValueError
            except ValueError:
                self.warn(f"ignored the content of {path} in the device-claim folder (not two counts)")
                seq, holders = 0, 0
            if reset:  # an exclusive holder: counts left by killed processes are void
                holders = 0
            before = holders
            seq, holders = seq + (1 if change > 0 else 0), max(0, holders + change)
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, f"{seq} {holders}".encode())
            return seq, before
        finally:
            os.close(fd)

    def acquire(self, claim: Claim, cancelled: threading.Event | None) -> bool:
        fd = self._open(self._file(claim.device, ".lock"))
        mode = fcntl.LOCK_EX if claim.exclusive else fcntl.LOCK_SH
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if cancelled is not None and cancelled.is_set():
                    os.close(fd)
                    return False
                time.sleep(0.05)
        seq, before = self._count(claim.device, +1, reset=claim.exclusive)
        claim.shared = claim.shared or before > 0
        claim.machine = (fd, seq)
        return True

    def release(self, claim: Claim) -> None:
        if claim.machine is None:
            return
        fd, seq = claim.machine
        now, _ = self._count(claim.device, -1)
        claim.shared = claim.shared or now != seq  # another process claimed it after this one
        os.close(fd)  # drops the flock
        claim.machine = None


@dataclass
class _Device:
    holders: set[Claim] = field(default_factory=set)
    exclusive_waiting: int = 0


class Resources:
    """Device and memory claims of one process's stages (thread-safe)."""

    def __init__(self, memory_budget_mb: int | None = None, machine_locks: MachineLocks | None = None):
        self.memory_budget_mb = memory_budget_mb
        self.machine_locks = machine_locks
        self._memory_used = 0
        self._devices: dict[str, _Device] = {}
        self._cond = threading.Condition()
        #: Most claims held at once (tests and benchmarks read it).
        self.peak_holders = 0

    def _can_start(self, claim: Claim) -> bool:
        dev = self._devices.setdefault(claim.device, _Device())
        if claim.exclusive:
            if dev.holders:
                return False
        elif any(c.exclusive for c in dev.holders) or dev.exclusive_waiting:
            return False
        if self.memory_budget_mb is not None and claim.memory_mb and self._memory_used:
            return self._memory_used + claim.memory_mb <= self.memory_budget_mb
        return True

    def acquire(self, device: str, exclusive: bool, memory_mb: int = 0,
                cancelled: threading.Event | None = None) -> Claim | None:
        """Wait until the claim fits and take it; ``None`` when ``cancelled`` was set meanwhile."""
        claim = Claim(device, exclusive, max(0, int(memory_mb)))
        with self._cond:
            dev = self._devices.setdefault(device, _Device())
            if exclusive:
                dev.exclusive_waiting += 1
            try:
                while not self._can_start(claim):
                    if cancelled is not None and cancelled.is_set():
                        return None
                    self._cond.wait(timeout=0.5)
            finally:
                if exclusive:
                    dev.exclusive_waiting -= 1
            if dev.holders:
                claim.shared = True
                for other in dev.holders:
                    other.shared = True
            dev.holders.add(claim)
            self._memory_used += claim.memory_mb
            self.peak_holders = max(self.peak_holders, sum(len(d.holders) for d in self._devices.values()))
        # then the other processes of this machine (outside the condition: this may wait)
        if self.machine_locks is not None and not self.machine_locks.acquire(claim, cancelled):
            self.release(claim)
            return None
        return claim

    def release(self, claim: Claim) -> None:
        if self.machine_locks is not None:
            self.machine_locks.release(claim)
        with self._cond:
            self._devices[claim.device].holders.discard(claim)
            self._memory_used -= claim.memory_mb
            self._cond.notify_all()

    @contextmanager
    def hold(self, device: str, exclusive: bool, memory_mb: int = 0,
             cancelled: threading.Event | None = None) -> Iterator[Claim | None]:
        claim = self.acquire(device, exclusive, memory_mb, cancelled)
        try:
            yield claim
        finally:
            if claim is not None:
                self.release(claim)
