"""The one board benchmark: TFLite's ``benchmark_model`` on a board, from argv to result rows.

Every board runner that times a ``.tflite`` with ``benchmark_model`` (NXP's i.MX, ST's STM32MP, a
third party's) goes through here, so the flags it passes, what it parses and the figures it
makes are the same everywhere; a vendor supplies only where the tool lives on its boards and
which delegate library to load (:class:`BenchmarkModelCall`).

- **argv**: ``--graph --num_threads --num_runs --warmup_runs --warmup_min_secs=0`` and, for an
  NPU, ``--external_delegate_path``. ``--warmup_runs`` is a minimum beside ``--warmup_min_secs``
  (0.5 s by default): 0 s makes the warm-up exactly ``warmup`` runs (``-s warmup=0``: none), as
  on the host; ``--num_runs`` stays a minimum (the tool adds runs up to ``--min_secs``, 1 s).
- **run**: :func:`run_benchmark_model` inside :func:`~zoo_bench.board.session.board_session`
  (time limit killed on the board, transport log, :class:`BoardTimeout`,
  :class:`BoardConnectionLost`, :class:`BoardCommandFailed`); :func:`benchmark_on_board` does
  the whole stage (run directory, model push, benchmark, clean-up).
- **figures**: :func:`benchmark_model_figures`: what the tool printed, nothing derived but the
  rate (1000 / mean) and unit changes (us -> ms). ``first_inference_ms`` and ``warmup_ms`` exist
  only when a warm-up ran (with none the tool prints 0 for both, which is no measurement).

The parser is :mod:`.tflite_report` (its docstring cites TensorFlow's sources for the format).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..components import Figure
from ..errors import UsageError
from ..options import Option
from .session import SETUP_TIMEOUT_S, BoardCommandFailed, board_session
from .tflite_report import BenchmarkModelReport, parse_benchmark_model

if TYPE_CHECKING:
    from ..components import StageContext
    from .inventory import Board
    from .ssh import SshTransport

TOOL = "benchmark_model"
#: ``.../tensorflow-lite-2.16.2/...``: the version BSPs put in the tool's path (the tool prints none).
_VERSION_IN_PATH = re.compile(r"tensorflow-lite-(\d+\.\d+(?:\.\d+)?)")
TIMED_REGION = "benchmark_model run (Interpreter::Invoke)"


def benchmark_options(threads: int = 1, delegates: str = "none") -> dict[str, Option]:
    """The options of a ``benchmark_model`` board stage (merge them into a runner's ``options``);
    ``threads`` is the vendor's default, ``delegates`` names the delegates it knows (help text)."""
    return {
        "threads": Option("int", default=threads, min=1, max=256,
                          help="CPU threads of the runtime (set per stage by the plan)"),
        "runs": Option("int", default=50, min=1, help="timed inferences (benchmark_model: at least this many)"),
        "warmup": Option("int", default=5, min=0, help="untimed inferences before timing (0: none)"),
        "delegate": Option("str", default="none", help=f"NPU delegate to load: {delegates} (set by the plan)"),
        "board_timeout": Option("float", default=600.0, min=1, max=3600,
                                help="seconds the benchmark may take on the board"),
    }


def typed_option(ctx: StageContext, declared: Mapping[str, Option], name: str) -> Any:
    """The typed value of a declared option (its default when unset): ``warmup=0`` stays 0."""
    value = ctx.options.get(name)
    decl = declared[name]
    return decl.default if value is None else decl.parse(name, value)


def delegate_library(board: Board, delegate: str, defaults: Mapping[str, str]) -> str | None:
    """The library of ``delegate`` on ``board`` (its ``delegates`` table, else the vendor's
    default path); ``None`` for ``none``. Raises :class:`UsageError` for a delegate neither knows."""
    if delegate == "none":
        return None
    path = board.delegate_path(delegate, defaults.get(delegate))
    if path is None:
        raise UsageError(f"board {board.id}: no library for delegate {delegate!r} (boards.toml delegates)")
    return path


def tool_version(tool_path: str) -> str:
    """The TFLite version in the tool's install path, else ``unknown`` (the tool prints none)."""
    match = _VERSION_IN_PATH.search(tool_path)
    return match.group(1) if match else "unknown"


@dataclass(frozen=True)
class BenchmarkModelCall:
    """One ``benchmark_model`` invocation: the tool's path on the board and what it is asked."""

    tool: str
    threads: int
    runs: int
    warmup: int
    delegate_library: str | None = None

    def argv(self, model: str) -> list[str]:
        """The command line for ``model`` (a path on the board)."""
        argv = [self.tool, f"--graph={model}", f"--num_threads={self.threads}", f"--num_runs={self.runs}",
                f"--warmup_runs={self.warmup}", "--warmup_min_secs=0"]
        if self.delegate_library:
            argv.append(f"--external_delegate_path={self.delegate_library}")
        return argv


def run_benchmark_model(ssh: SshTransport, board: Board, model: str, call: BenchmarkModelCall,
                        limit_s: float) -> list[Figure]:
    """Run ``call`` on ``model`` (already on the board) and return its rows; call it inside
    :func:`~zoo_bench.board.session.board_session`, which turns transport errors into board
    failures. Output without a result is :class:`BoardCommandFailed` naming the board."""
    result = ssh.run(call.argv(model), limit_s)
    try:
        report = parse_benchmark_model(result.stdout + "\n" + result.stderr)
    except ValueError as exc:
        raise BoardCommandFailed(f"board {board.id}: {exc}") from None
    figures = benchmark_model_figures(report, tool_version(call.tool))
    facts: dict[str, Any] = {"runtime": TOOL, "threads": call.threads, "warmup_requested": call.warmup}
    if call.delegate_library:
        facts["delegate_library"] = call.delegate_library
    for fig in figures:
        fig.extra = {**facts, **fig.extra}
    return figures


def benchmark_on_board(ctx: StageContext, board: Board, call: BenchmarkModelCall, limit_s: float) -> list[Figure]:
    """The whole board stage: a fresh run directory, the model pushed, ``benchmark_model`` run
    under ``limit_s``, the directory removed whatever happens. The rows carry the board's public
    facts (id, target, BSP) and what was asked (threads, requested warm-up, delegate library)."""
    ctx.log(f"board {board.id} ({ctx.target.id}, BSP {board.bsp or 'unknown'}): {TOOL}, {call.threads} thread(s), "
            f"{call.warmup} warm-up + {call.runs} runs, delegate {call.delegate_library or 'none'}")
    ssh = board.transport()
    with board_session(ctx, ssh, board.workdir) as remote_dir:
        model = f"{remote_dir}/{ctx.input.path.name}"
        ssh.put(ctx.input.path, model, SETUP_TIMEOUT_S)
        figures = run_benchmark_model(ssh, board, model, call, limit_s)
    for fig in figures:
        fig.extra = {**board.public_facts(), **fig.extra}
    return figures


def benchmark_model_figures(report: BenchmarkModelReport, version: str) -> list[Figure]:
    """``measured-board`` rows from a ``benchmark_model`` report (see the module docstring).

    ``extra.runs``/``extra.warmup`` are the counts the tool printed (absent when it printed none).
    """
    extra: dict[str, Any] = {"timed_region": TIMED_REGION}
    timed = report.timed
    if timed is not None:
        extra["runs"] = timed.count
        for key in ("p5_us", "p95_us"):
            value = getattr(timed, key)
            if value is not None:
                extra[key.replace("_us", "_ms")] = value / 1000.0
    if report.warmup is not None:
        extra["warmup"] = report.warmup.count
        if report.warmup.min_secs is not None:
            extra["warmup_min_secs"] = report.warmup.min_secs
    for key in ("delegation", "delegate_kernels", "model_size_mb", "memory_init_mb", "memory_overall_mb",
                "peak_memory_mb"):
        if getattr(report, key) is not None:
            extra[key] = getattr(report, key)

    def fig(metric: str, value: float, unit: str) -> Figure:
        return Figure(metric, value, unit, "measured-board", TOOL, version, extra=dict(extra))

    mean_ms = report.inference_avg_us / 1000.0
    figures = [fig("latency_mean_ms", mean_ms, "ms")]
    if mean_ms > 0:
        figures.append(fig("inferences_per_s", 1000.0 / mean_ms, "1/s"))
    if timed is not None:
        for metric, value in (("latency_p50_ms", timed.median_us), ("latency_min_ms", timed.min_us),
                              ("latency_max_ms", timed.max_us), ("latency_std_ms", timed.std_us)):
            if value is not None:
                figures.append(fig(metric, value / 1000.0, "ms"))
    figures.append(fig("init_ms", report.init_us / 1000.0, "ms"))
    warmed = report.warmup.count > 0 if report.warmup is not None else report.first_inference_us > 0
    if warmed:
        figures += [fig("first_inference_ms", report.first_inference_us / 1000.0, "ms"),
                    fig("warmup_ms", report.warmup_avg_us / 1000.0, "ms")]
    return figures
