"""The ``imx_board`` runner: times a .tflite model on a real i.MX board over SSH.

Per stage it takes a board of the target from the inventory (:mod:`zoo_bench.board.inventory`),
makes a fresh directory on it, pushes the model (and, in Python mode, the benchmark script),
runs the benchmark under a time limit, parses its output and removes the directory, whatever
happened. Two ways to benchmark, chosen by the board's ``runtime``:

- ``benchmark_model``: TFLite's C++ tool that NXP's BSP ships (``--external_delegate_path`` for
  the NPU): init time, first inference, warm-up mean, mean and, on newer builds, median. It is
  asked for exactly ``warmup`` warm-up runs (``--warmup_min_secs=0``; its default also warms up
  for at least 0.5 s) and at least ``runs`` timed runs (it adds runs up to its ``--min_secs`` of
  1 s); the rows record the counts it printed;
- ``python``: :mod:`zoo_bench.board.litert_bench` with the board's ``tflite_runtime``: every run's
  latency, hence percentiles.

Both time only the inference (``Invoke``) with the inputs set once before; docs/metrics.md
("Timed region") compares them with the host runners.

The NPU is reached through an external delegate named by the stage option ``delegate``
(``ethosu`` on the i.MX 93, ``vx`` on the i.MX 8M Plus; ``none`` runs on the Cortex-A cores).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from zoo_bench.board import litert_bench
from zoo_bench.board.inventory import Board, select_board
from zoo_bench.board.session import (
    BOARD_SELECTION,
    SETUP_TIMEOUT_S,
    BoardCommandFailed,
    SshBoardRunner,
    board_session,
)
from zoo_bench.board.ssh import SshTransport
from zoo_bench.board.tflite_report import BenchmarkModelReport, parse_benchmark_model, parse_python_report
from zoo_bench.options import Option
from zoo_bench.plugin import Figure, StageContext, StageOutput, UsageError
from zoo_bench.timing import latency_figures

#: Where NXP's BSP installs the delegates (i.MX Machine Learning User's Guide); boards.toml may
#: name other paths in its ``delegates`` table.
DEFAULT_DELEGATES = {
    "ethosu": "/usr/lib/libethosu_delegate.so",
    "vx": "/usr/lib/libvx_delegate.so",
}
BOARD_OPTIONS = {
    **BOARD_SELECTION,
    "threads": Option("int", default=1, min=1, max=256, help="CPU threads of the runtime (set per stage by the plan)"),
    "runs": Option("int", default=50, min=1, help="timed inferences (benchmark_model: at least this many)"),
    "warmup": Option("int", default=5, min=0, help="untimed inferences before timing (0: none)"),
    "delegate": Option("str", default="none", help="NPU delegate to load: ethosu, vx or none (set by the plan)"),
    "board_timeout": Option("float", default=600.0, min=1, max=3600,
                            help="seconds the benchmark may take on the board"),
}
_TFLITE_VERSION_IN_PATH = re.compile(r"tensorflow-lite-(\d+\.\d+(?:\.\d+)?)")


class ImxBoardRunner(SshBoardRunner):
    """Runs .tflite models on i.MX boards over SSH (benchmark_model or the board's Python runtime)."""

    name = "imx_board"
    accepts = ("tflite", "vela-tflite")
    options = BOARD_OPTIONS

    def run(self, ctx: StageContext) -> StageOutput:
        board = select_board(ctx.options, ctx.target.id)
        artifact = ctx.input
        delegate = option(ctx, "delegate")
        if artifact.format == "vela-tflite" and delegate == "none":
            raise UsageError("a Vela-compiled model runs only through the Ethos-U delegate (delegate=ethosu)")
        delegate_path = None
        if delegate != "none":
            delegate_path = board.delegate_path(delegate, DEFAULT_DELEGATES.get(delegate))
            if delegate_path is None:
                raise UsageError(f"board {board.id}: no library for delegate {delegate!r} (boards.toml delegates)")
        threads, runs, warmup = option(ctx, "threads"), option(ctx, "runs"), option(ctx, "warmup")
        limit = option(ctx, "board_timeout")
        runtime = board.resolved_runtime()
        ctx.log(f"board {board.id} of {board.source} ({ctx.target.id}, BSP {board.bsp or 'unknown'}): {runtime}, "
                f"{threads} thread(s), delegate {delegate}, {warmup} warm-up + {runs} runs")
        ssh = board.transport()
        with board_session(ctx, ssh, board.workdir) as remote_dir:
            model = f"{remote_dir}/{artifact.path.name}"
            ssh.put(artifact.path, model, SETUP_TIMEOUT_S)
            if runtime == "benchmark_model":
                figures = self._benchmark_model(ssh, board, model, threads, runs, warmup, delegate_path, limit)
            else:
                figures = self._python(ssh, board, remote_dir, model, threads, runs, warmup, delegate_path, limit)
        # "warmup" (the warm-up runs done, as the benchmark reported them) comes with each figure
        common = {**board.public_facts(), "threads": threads, "delegate": delegate, "warmup_requested": warmup}
        if delegate_path:
            common["delegate_library"] = delegate_path
        for fig in figures:
            fig.extra = {**common, **fig.extra}
        return StageOutput(figures=figures)

    # --- the two benchmarks ------------------------------------------------------------------
    def _python(self, ssh: SshTransport, board: Board, remote_dir: str, model: str, threads: int, runs: int,
                warmup: int, delegate_path: str | None, limit: float) -> list[Figure]:
        script = f"{remote_dir}/litert_bench.py"
        ssh.put(Path(litert_bench.__file__), script, SETUP_TIMEOUT_S)
        argv = [board.python, script, "--model", model, "--threads", str(threads), "--runs", str(runs),
                "--warmup", str(warmup)]
        if delegate_path:
            argv += ["--delegate", delegate_path]
        result = ssh.run(argv, limit)
        try:
            report = parse_python_report(result.stdout)
        except ValueError as exc:
            raise BoardCommandFailed(f"board {board.id}: {exc}; output: {result.stdout[-300:]!r}") from None
        tool = f"python {report.get('runtime', '?')}"
        version = str(report.get("runtime_version", "unknown"))
        warm = report.get("warmup_ms") or []
        extra = {"runs": len(report["samples_ms"]), "warmup": len(warm), "python": report.get("python"),
                 "machine": report.get("machine"), "timed_region": "Interpreter.invoke()"}
        figures = latency_figures([float(s) for s in report["samples_ms"]], "measured-board", tool, version, extra)
        for metric, key in (("init_ms", "init_ms"), ("first_inference_ms", "first_inference_ms")):
            if isinstance(report.get(key), (int, float)):
                figures.append(Figure(metric, float(report[key]), "ms", "measured-board", tool, version, extra=extra))
        if warm:
            figures.append(Figure("warmup_ms", sum(warm) / len(warm), "ms", "measured-board", tool, version,
                                  samples=[float(w) for w in warm], extra=extra))
        return figures

    def _benchmark_model(self, ssh: SshTransport, board: Board, model: str, threads: int, runs: int, warmup: int,
                         delegate_path: str | None, limit: float) -> list[Figure]:
        tool_path = board.benchmark_model or "benchmark_model"
        # --warmup_runs is a minimum beside --warmup_min_secs (0.5 s by default): 0 s makes the
        # warm-up exactly `warmup` runs, as on the host; --num_runs stays a minimum (min_secs 1 s)
        argv = [tool_path, f"--graph={model}", f"--num_threads={threads}", f"--num_runs={runs}",
                f"--warmup_runs={warmup}", "--warmup_min_secs=0"]
        if delegate_path:
            argv.append(f"--external_delegate_path={delegate_path}")
        result = ssh.run(argv, limit)
        try:
            report = parse_benchmark_model(result.stdout + "\n" + result.stderr)
        except ValueError as exc:
            raise BoardCommandFailed(f"board {board.id}: {exc}") from None
        match = _TFLITE_VERSION_IN_PATH.search(tool_path)
        return benchmark_model_figures(report, match.group(1) if match else "unknown")


def benchmark_model_figures(report: BenchmarkModelReport, version: str) -> list[Figure]:
    """Result rows from a ``benchmark_model`` report: what it printed, nothing derived but the
    rate (1000 / mean) and unit changes (us -> ms).

    ``extra.warmup`` is the warm-up count the tool printed (absent when it printed none);
    ``first_inference_ms`` and ``warmup_ms`` exist only when a warm-up ran (with none, the tool
    prints 0 for both, which is no measurement)."""
    extra: dict[str, Any] = {"timed_region": "benchmark_model run (Interpreter::Invoke)"}
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
    if report.delegation is not None:
        extra["delegation"] = report.delegation
    if report.delegate_kernels is not None:
        extra["delegate_kernels"] = report.delegate_kernels
    for key in ("model_size_mb", "memory_init_mb", "memory_overall_mb", "peak_memory_mb"):
        if getattr(report, key) is not None:
            extra[key] = getattr(report, key)

    def fig(metric: str, value: float, unit: str) -> Figure:
        return Figure(metric, value, unit, "measured-board", "benchmark_model", version, extra=dict(extra))

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
        figures += [
            fig("first_inference_ms", report.first_inference_us / 1000.0, "ms"),
            fig("warmup_ms", report.warmup_avg_us / 1000.0, "ms"),
        ]
    return figures


def option(ctx: StageContext, name: str) -> Any:
    """The typed value of a declared option (its default when unset): ``warmup=0`` stays 0."""
    value = ctx.options.get(name)
    decl = BOARD_OPTIONS[name]
    return decl.default if value is None else decl.parse(name, value)

