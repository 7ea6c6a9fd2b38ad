"""Parser for the output of ``hrt_model_exec perf`` (the RDK X5 board's benchmark tool).

Format of D-Robotics' notebook outputs (rdk_model_zoo @ be4f89bd,
``samples/vision/classification/MobileNetV1/test_MobileNetV1.ipynb`` cell 9, same in the ResNet18
and GoogLeNet notebooks)::

    [DNN] Runtime version = 1.23.5_(3.15.47 HBRT)
    Load model to DDR cost 123.008ms.
    Frame count: 200,  Thread Average: 2.902294 ms,  thread max latency: 3.393000 ms,  thread min latency: ...
    Running condition:
      Thread number is: 4
      Frame count   is: 200
    Perf result:
      Frame totally latency is: 580.458862 ms
      Average    latency    is: 2.902294 ms
      Frame      rate       is: 1356.254026 FPS

The README tables of the zoo are these numbers: "multi-threaded" latency = ``Average latency``
with 4 threads, FPS = ``Frame rate``. The spacing varies, hence ``\\s+`` everywhere (D-Robotics'
``batch_perf.py`` matches the exact spacing).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_AVERAGE = re.compile(r"Average\s+latency\s+is:\s*([\d.]+)\s*ms")
_RATE = re.compile(r"Frame\s+rate\s+is:\s*([\d.]+)\s*FPS")
_THREADS = re.compile(r"Thread\s+number\s+is:\s*(\d+)")
_FRAMES = re.compile(r"Frame\s+count\s+is:\s*(\d+)")
_MINMAX = re.compile(r"thread max latency:\s*([\d.]+)\s*ms,\s*thread min latency:\s*([\d.]+)\s*ms")
_LOAD = re.compile(r"Load model to DDR cost\s*([\d.]+)\s*ms")
_BUILDER = re.compile(r"model builder version\s*=\s*(\S+)")


class HrtReportError(ValueError):
    """The text is not ``hrt_model_exec perf`` output this parser understands."""


@dataclass(frozen=True)
class HrtPerf:
    """What one ``hrt_model_exec perf`` run printed."""

    average_ms: float
    fps: float
    threads: int | None = None
    frames: int | None = None
    max_ms: float | None = None
    min_ms: float | None = None
    load_ms: float | None = None
    runtime_version: str = "unknown"
    builder_version: str | None = None


def _first(pattern: re.Pattern[str], text: str) -> str | None:
    match = pattern.search(text)
    return match.group(1) if match else None


def parse_runtime_version(text: str) -> str | None:
    """``1.23.5_(3.15.47 HBRT)`` from a ``[DNN] Runtime version = ...`` line, if any."""
    match = re.search(r"\[DNN\]\s*Runtime version\s*=\s*(.+)", text)
    return match.group(1).strip() if match else None


def parse_hrt_perf(text: str) -> HrtPerf:
    """Parse ``hrt_model_exec perf`` output; raises :class:`HrtReportError` without the
    ``Perf result`` lines (average latency and frame rate)."""
    average, fps = _first(_AVERAGE, text), _first(_RATE, text)
    if average is None or fps is None:
        missing = " and ".join(n for n, v in (("'Average latency is'", average), ("'Frame rate is'", fps)) if v is None)
        raise HrtReportError(f"no {missing} line in the hrt_model_exec perf output")
    minmax = _MINMAX.search(text)
    threads, frames, load = _first(_THREADS, text), _first(_FRAMES, text), _first(_LOAD, text)
    return HrtPerf(
        average_ms=float(average), fps=float(fps),
        threads=int(threads) if threads else None, frames=int(frames) if frames else None,
        max_ms=float(minmax.group(1)) if minmax else None, min_ms=float(minmax.group(2)) if minmax else None,
        load_ms=float(load) if load else None,
        runtime_version=parse_runtime_version(text) or "unknown",
        builder_version=_first(_BUILDER, text),
    )
