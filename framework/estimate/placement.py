"""Whole-buffer placement of a model's activations into a board's RAM pools.

An NPU runtime that plans memory ahead of time (e.g. an epoch-based compiler) places each
activation buffer whole in one pool; a pool made of equal banks takes a buffer inside one bank,
or, for a buffer larger than a bank, starting at a bank boundary over adjacent banks. Buffers are
placed largest first at the lowest free offset where no buffer of overlapping lifetime sits (the
greedy-by-size planning TFLite Micro also uses), trying the pools in the order the plugin gives
them; what fits no internal pool goes to the external one. The pools and their order come from
the plugin's memory map: nothing here names a board.

A pool's use is its high-water mark (per bank for a banked pool: a bank counts as far as it is
filled), so ``internal_kib`` is what the plan occupies in the internal pools and ``external_kib``
what spilled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .workload import buffers


@dataclass(frozen=True)
class Pool:
    """A RAM pool: ``kib`` in total, split into ``banks`` equal banks (1: one flat pool)."""

    name: str
    kib: float
    banks: int = 1


@dataclass
class Placement:
    internal_kib: float
    external_kib: float
    #: pool name -> KiB used (high-water mark, per bank for a banked pool)
    used_kib: dict[str, float]
    buffers: int


def _free(placed: list[tuple[int, int, int, int]], off: int, size: int, first: int, last: int) -> bool:
    return all(lt < first or f > last or off + size <= o or o + s <= off for o, s, f, lt in placed)


def _offset(placed: list[tuple[int, int, int, int]], size: int, first: int, last: int, cap: int,
            bank: int) -> int | None:
    """Lowest offset for a buffer in a pool of ``cap`` bytes made of banks of ``bank`` bytes."""
    candidates = {0, *(o + s for o, s, _f, _l in placed), *range(0, cap, bank)}
    for off in sorted(candidates):
        if off + size > cap:
            continue
        if size <= bank and off // bank != (off + size - 1) // bank:  # inside one bank
            continue
        if size > bank and off % bank:  # over adjacent banks, from a boundary
            continue
        if _free(placed, off, size, first, last):
            return off
    return None


def place_buffers(graph: dict[str, Any], pools: list[Pool], align: int = 64) -> Placement:
    """Place the activation buffers of a workload graph (see :func:`~.workload.buffers`) into
    ``pools`` in order, the rest into an unbounded external pool."""
    sizes, life = buffers(graph)
    order = sorted(life, key=lambda t: (-sizes.get(t, 0), life[t][0]))
    placed: list[list[tuple[int, int, int, int]]] = [[] for _ in pools]
    external: list[tuple[int, int, int, int]] = []
    count = 0
    for t in order:
        size = -(-sizes.get(t, 0) // align) * align
        if size == 0:
            continue
        count += 1
        first, last = life[t]
        for pool, into in zip(pools, placed, strict=True):
            cap = int(pool.kib * 1024)
            off = _offset(into, size, first, last, cap, cap // max(pool.banks, 1))
            if off is not None:
                into.append((off, size, first, last))
                break
        else:
            off = _offset(external, size, first, last, 1 << 62, 1 << 62)
            external.append((off or 0, size, first, last))
    used: dict[str, float] = {}
    for pool, into in zip(pools, placed, strict=True):
        cap = int(pool.kib * 1024)
        bank = cap // max(pool.banks, 1)
        total = 0
        for b in range(max(pool.banks, 1)):
            lo, hi = b * bank, (b + 1) * bank
            total += max((min(o + s, hi) - lo for o, s, _f, _l in into if o < hi and o + s > lo), default=0)
        used[pool.name] = total / 1024.0
    ext = max((o + s for o, s, _f, _l in external), default=0) / 1024.0
    return Placement(sum(used.values()), ext, used, count)
