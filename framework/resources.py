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
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .components import Component, Target

HOST = "host"


def stage_device(component: Component, target: Target | None, options: dict[str, Any]) -> tuple[str, bool]:
    """``(device, exclusive)`` of a stage: what it occupies and whether it times it."""
    device = component.device(target, options)
    if device and device != HOST:
        return device, True
    return HOST, bool(component.measures)


def available_memory_mb() -> int | None:
    """MemAvailable of this machine in MiB (Linux), ``None`` when it cannot be read."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


@dataclass(eq=False)
class Claim:
    device: str
    exclusive: bool
    memory_mb: int
    #: Something else held the device at some moment while this claim was held.
    shared: bool = False


@dataclass
class _Device:
    holders: set[Claim] = field(default_factory=set)
    exclusive_waiting: int = 0


class Resources:
    """Device and memory claims of one process's stages (thread-safe)."""

    def __init__(self, memory_budget_mb: int | None = None):
        self.memory_budget_mb = memory_budget_mb
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
        return claim

    def release(self, claim: Claim) -> None:
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
