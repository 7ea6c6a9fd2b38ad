"""Parsers of what TFLite benchmarks print on a board: ``benchmark_model`` logs and the report
line of :mod:`zoo_bench.board.litert_bench`.

``benchmark_model``'s format comes from TensorFlow's sources:

- ``tensorflow/lite/tools/benchmark/benchmark_model.cc``: ``BenchmarkModel::Run`` logs
  ``Running benchmark for at least N iterations ...`` before the warm-up and again before the
  timed runs, each followed by the run statistics; ``BenchmarkLoggingListener::OnBenchmarkEnd``
  logs ``Inference timings in us: Init: A, First inference: B, Warmup (avg): C, Inference (avg): D``
  and the memory footprint lines;
- ``Stat::OutputToStream`` (``tensorflow/core/util/stats_calculator.h``, now
  ``xla/tsl/util/stats_calculator.h``): ``count=N first=F curr=C min=m max=M avg=a std=s``,
  ``count=N curr=C(all same)`` when every run took the same time, and older releases put
  ``curr`` first; ``StatWithPercentiles`` appends ``p5=.. median=.. p95=..``;
- ``tensorflow/lite/tools/benchmark/benchmark_tflite_model.cc``: ``Explicitly applied X delegate,
  and the model graph will be completely executed by the delegate.`` (or ``partially executed ...
  w/ N delegate kernels``, or ``Though X delegate is explicitly applied, the model graph will not
  be executed by the delegate.``).

The warm-up runs for at least ``--warmup_runs`` iterations *and* at least ``--warmup_min_secs``
seconds (default 0.5 s), the timed runs for at least ``--num_runs`` and ``--min_secs`` (1 s):
the counts it did are those of the ``count=`` lines, which the report keeps. With no warm-up
run the tool prints ``count=0`` and a ``First inference``/``Warmup (avg)`` of 0 (an empty
``Stat``): the report then says ``warmup.count == 0`` and those two values mean nothing.
Only what the tool printed is kept (no kernel count is assumed for a complete delegation).

All times there are microseconds; the parsed reports keep microseconds and say so.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

REPORT_PREFIX = "ZOO_BENCH_REPORT "

_NUMBER = r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|nan|inf)"
_TIMINGS = re.compile(
    rf"Inference timings in us: Init: ({_NUMBER}), First inference: ({_NUMBER}), "
    rf"Warmup \(avg\): ({_NUMBER}), Inference \(avg\): ({_NUMBER})")
_RUN_HEADER = re.compile(rf"Running benchmark for at least (\d+) iterations(?: and at least ({_NUMBER}) seconds)?")
_PAIR = re.compile(rf"\b(count|first|curr|min|max|avg|std|p5|median|p95)=({_NUMBER})")
_APPLIED = re.compile(r"Explicitly applied (\S+) delegate, and the model graph will be (completely|partially)"
                      r" executed by the delegate(?: w/ (\d+) delegate kernels)?")
_NOT_APPLIED = re.compile(r"Though (\S+) delegate is explicitly applied, the model graph will not be executed")
_MODEL_SIZE = re.compile(rf"The input model file size \(MB\): ({_NUMBER})")
_MEMORY = re.compile(rf"Memory footprint delta from the start of the tool \(MB\): init=({_NUMBER}) "
                     rf"overall=({_NUMBER})")
_PEAK = re.compile(rf"Overall peak memory footprint \(MB\) via periodic monitoring: ({_NUMBER})")


@dataclass
class RunStats:
    """One ``count=...`` line: statistics of a series of runs, in microseconds."""

    count: int
    avg_us: float  # nan when count is 0
    min_us: float | None = None
    max_us: float | None = None
    std_us: float | None = None
    first_us: float | None = None
    curr_us: float | None = None
    p5_us: float | None = None
    median_us: float | None = None
    p95_us: float | None = None
    #: what the section's header asked for: at least this many runs and this many seconds
    min_runs: int | None = None
    min_secs: float | None = None


@dataclass
class BenchmarkModelReport:
    """What one ``benchmark_model`` run reported (times in microseconds)."""

    init_us: float
    first_inference_us: float
    warmup_avg_us: float
    inference_avg_us: float
    warmup: RunStats | None = None
    timed: RunStats | None = None
    delegate: str | None = None
    delegation: str | None = None  # complete, partial or none
    delegate_kernels: int | None = None
    model_size_mb: float | None = None
    memory_init_mb: float | None = None
    memory_overall_mb: float | None = None
    peak_memory_mb: float | None = None
    notes: list[str] = field(default_factory=list)


def parse_stat_line(line: str) -> RunStats | None:
    """A ``Stat::OutputToStream`` line, or ``None`` if ``line`` is not one (``count=0``, an empty
    series, gives a :class:`RunStats` of count 0)."""
    pairs = {k: float(v) for k, v in _PAIR.findall(line)}
    if "count" not in pairs:
        return None
    count = int(pairs["count"])
    if count == 0:
        return RunStats(0, math.nan)
    if "avg" not in pairs:  # "count=N curr=C(all same)": every run took C
        if "curr" not in pairs:
            return None
        c = pairs["curr"]
        return RunStats(count, c, c, c, 0.0, pairs.get("first", c), c)
    return RunStats(count, pairs["avg"], pairs.get("min"), pairs.get("max"), pairs.get("std"), pairs.get("first"),
                    pairs.get("curr"), pairs.get("p5"), pairs.get("median"), pairs.get("p95"))


def parse_benchmark_model(text: str) -> BenchmarkModelReport:
    """Parse a ``benchmark_model`` log (stdout and stderr together). Raises :class:`ValueError`
    when it has no ``Inference timings in us`` line, i.e. the benchmark did not complete."""
    timings = _TIMINGS.findall(text)
    if not timings:
        failed = [ln.strip() for ln in text.splitlines() if "ERROR" in ln or "failed" in ln.lower()]
        hint = f": {failed[-1]}" if failed else ""
        raise ValueError(f"benchmark_model output has no 'Inference timings in us' line{hint}")
    init, first, warm, avg = (float(x) for x in timings[-1])
    report = BenchmarkModelReport(init, first, warm, avg)
    series: list[RunStats] = []
    header: re.Match[str] | None = None
    for line in text.splitlines():
        if (m := _RUN_HEADER.search(line)) is not None:
            header = m
            continue
        if header is not None:
            stats = parse_stat_line(line)
            if stats is not None:
                stats.min_runs = int(header.group(1))
                stats.min_secs = float(header.group(2)) if header.group(2) else None
                series.append(stats)
                header = None
    if len(series) >= 2:
        report.warmup, report.timed = series[-2], series[-1]
    elif len(series) == 1:
        report.timed = series[0]
    if report.timed is not None and report.timed.count == 0:
        raise ValueError("benchmark_model did no timed run (count=0)")
    if (m := _APPLIED.search(text)) is not None:
        report.delegate, report.delegation = m.group(1), "complete" if m.group(2) == "completely" else "partial"
        report.delegate_kernels = int(m.group(3)) if m.group(3) else None  # only a printed count
    elif (m := _NOT_APPLIED.search(text)) is not None:
        report.delegate, report.delegation = m.group(1), "none"
    if (m := _MODEL_SIZE.search(text)) is not None:
        report.model_size_mb = float(m.group(1))
    if (m := _MEMORY.search(text)) is not None:
        report.memory_init_mb, report.memory_overall_mb = float(m.group(1)), float(m.group(2))
    if (m := _PEAK.search(text)) is not None:
        report.peak_memory_mb = float(m.group(1))
    if report.timed is not None and not math.isclose(report.timed.avg_us, avg, rel_tol=1e-3, abs_tol=1.0):
        report.notes.append("the last count= line does not match 'Inference (avg)'; statistics of the timed runs "
                            "were left out")
        report.timed = None
    return report


def parse_python_report(text: str) -> dict[str, Any]:
    """The JSON report that :mod:`zoo_bench.board.litert_bench` prints (its last report line)."""
    lines = [ln[len(REPORT_PREFIX):] for ln in text.splitlines() if ln.startswith(REPORT_PREFIX)]
    if not lines:
        raise ValueError("the board's benchmark printed no report line")
    report = json.loads(lines[-1])
    samples = report.get("samples_ms")
    if not isinstance(samples, list) or not samples or not all(isinstance(s, (int, float)) for s in samples):
        raise ValueError("the board's benchmark report has no timed runs")
    return report
