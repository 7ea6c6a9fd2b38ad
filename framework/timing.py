"""Latency figures from raw samples: the one place percentiles are computed.

Host runners time ``invoke()`` themselves; board runners parse a tool's report and may have
only a mean. Both hand what they have to :func:`latency_figures`, which keeps the raw samples
(on the ``latency_p50_ms`` row) beside the percentiles.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .components import Figure


def percentile(sorted_values: list[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default method) of already sorted values."""
    if not sorted_values:
        raise ValueError("no samples")
    pos = (len(sorted_values) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def time_calls(fn: Callable[[], Any], warmup: int, runs: int) -> list[float]:
    """Call ``fn`` ``warmup`` times untimed, then ``runs`` times; milliseconds per call."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000.0)
    return samples


def latency_figures(samples_ms: list[float], method: str, tool: str, tool_version: str,
                    extra: dict[str, Any] | None = None) -> list[Figure]:
    """p50/p90/p99/mean latency and inferences per second from per-inference samples."""
    extra = dict(extra or {})
    extra.setdefault("runs", len(samples_ms))
    ordered = sorted(samples_ms)
    mean = sum(ordered) / len(ordered)

    def fig(metric: str, value: float, unit: str, samples: list[float] | None = None) -> Figure:
        return Figure(metric, value, unit, method, tool, tool_version, samples=samples, extra=extra)

    return [
        fig("latency_p50_ms", percentile(ordered, 50), "ms", list(samples_ms)),
        fig("latency_p90_ms", percentile(ordered, 90), "ms"),
        fig("latency_p99_ms", percentile(ordered, 99), "ms"),
        fig("latency_mean_ms", mean, "ms"),
        fig("inferences_per_s", 1000.0 / mean if mean > 0 else 0.0, "1/s"),
    ]
