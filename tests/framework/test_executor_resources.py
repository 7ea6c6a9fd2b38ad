"""Device and memory claims (framework/resources.py), with threads and no processes."""

from __future__ import annotations

import threading
import time

from zoo_bench.components import Component, Runner
from zoo_bench.resources import Resources, stage_device


def _hold_in_thread(res: Resources, device: str, exclusive: bool, memory: int, seconds: float, log: list):
    def work():
        claim = res.acquire(device, exclusive, memory)
        log.append(("start", device, exclusive, time.monotonic()))
        time.sleep(seconds)
        log.append(("end", device, exclusive, time.monotonic()))
        res.release(claim)
    t = threading.Thread(target=work)
    t.start()
    return t


def test_an_exclusive_claim_waits_for_shared_ones_and_blocks_new_ones():
    res = Resources()
    log: list = []
    first = res.acquire("host", False)
    timing = _hold_in_thread(res, "host", True, 0, 0.2, log)
    time.sleep(0.2)
    assert log == []  # the timing waits for the conversion
    late = _hold_in_thread(res, "host", False, 0, 0.01, log)  # a conversion that came later waits too
    time.sleep(0.1)
    assert log == []
    res.release(first)
    timing.join()
    late.join()
    assert [e[:3] for e in log] == [("start", "host", True), ("end", "host", True),
                                    ("start", "host", False), ("end", "host", False)]
    assert first.shared is False


def test_shared_claims_overlap_and_know_it():
    res = Resources()
    a = res.acquire("host", False)
    b = res.acquire("host", False)
    assert a.shared and b.shared
    board = res.acquire("board-x", True)  # another device: not blocked, not shared
    assert board is not None and not board.shared
    for c in (a, b, board):
        res.release(c)


def test_memory_budget_and_an_oversized_stage_runs_alone():
    res = Resources(memory_budget_mb=4000)
    a = res.acquire("host", False, 3000)
    log: list = []
    t = _hold_in_thread(res, "host", False, 3000, 0.01, log)
    time.sleep(0.2)
    assert log == []  # 6000 > 4000: waits
    res.release(a)
    t.join()
    big = res.acquire("host", False, 9000)  # larger than the budget, nothing else held: runs
    assert big is not None
    res.release(big)


def test_acquire_gives_up_when_cancelled():
    res = Resources()
    held = res.acquire("host", True)
    cancelled = threading.Event()
    cancelled.set()
    assert res.acquire("host", False, cancelled=cancelled) is None
    res.release(held)


class _Board(Runner):
    name = "b"
    options = {"board": "board id", "threads": "threads"}


class _Conv(Component):
    name = "c"


def test_stage_device_of_host_timings_boards_and_conversions():
    assert stage_device(_Board(), None, {"board": "imx93-lab1"}) == ("board-imx93-lab1", True)
    assert stage_device(_Conv(), None, {}) == ("host", False)

    class HostRunner(Runner):
        name = "h"

    assert stage_device(HostRunner(), None, {}) == ("host", True)


def test_machine_locks_are_shared_between_resource_managers(tmp_path):
    """Two Resources over one lock folder stand for two Dask worker processes of one machine."""
    from zoo_bench.resources import MachineLocks

    one, two = Resources(machine_locks=MachineLocks(tmp_path)), Resources(machine_locks=MachineLocks(tmp_path))
    conversion = one.acquire("host", False)
    cancelled = threading.Event()
    threading.Timer(0.3, cancelled.set).start()
    assert two.acquire("host", True, cancelled=cancelled) is None  # the other process's timing waits
    other = two.acquire("host", False)
    assert other is not None and other.shared
    two.release(other)
    one.release(conversion)
    assert conversion.shared  # it learns at release that the other process came in meanwhile
    timing = two.acquire("host", True)
    two.release(timing)
    assert timing is not None and not timing.shared
