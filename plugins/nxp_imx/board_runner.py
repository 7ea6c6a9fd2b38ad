"""The ``imx_board`` runner: times a .tflite model on a real i.MX board over SSH.

Per stage it takes a board of the target from the inventory (:mod:`zoo_bench.board.inventory`),
makes a fresh directory on it, pushes the model (and, in Python mode, the benchmark script),
runs the benchmark under a time limit, parses its output and removes the directory, whatever
happened. Two ways to benchmark, chosen by the board's ``runtime``:

- ``benchmark_model``: TFLite's C++ tool that NXP's BSP ships, run by the shared board benchmark
  :mod:`zoo_bench.board.benchmark_model` (argv, parsing and figures live there; this plugin
  supplies the tool's path from boards.toml and NXP's delegate libraries);
- ``python``: :mod:`zoo_bench.board.litert_bench` with the board's ``tflite_runtime``: every run's
  latency, hence percentiles.

Both time only the inference (``Invoke``) with the inputs set once before; docs/metrics.md
("Timed region") compares them with the host runners.

The NPU is reached through an external delegate named by the stage option ``delegate``
(``ethosu`` on the i.MX 93, ``vx`` on the i.MX 8M Plus; ``none`` runs on the Cortex-A cores).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zoo_bench.board import litert_bench
from zoo_bench.board.benchmark_model import (
    BenchmarkModelCall,
    benchmark_model_figures,
    benchmark_on_board,
    benchmark_options,
    delegate_library,
    typed_option,
)
from zoo_bench.board.inventory import Board, select_board
from zoo_bench.board.session import (
    BOARD_SELECTION,
    SETUP_TIMEOUT_S,
    BoardCommandFailed,
    SshBoardRunner,
    board_session,
)
from zoo_bench.board.ssh import SshTransport
from zoo_bench.board.tflite_report import parse_python_report
from zoo_bench.plugin import Figure, StageContext, StageOutput, UsageError
from zoo_bench.timing import latency_figures

__all__ = ["BOARD_OPTIONS", "DEFAULT_DELEGATES", "ImxBoardRunner", "benchmark_model_figures"]

#: Where NXP's BSP installs the delegates (i.MX Machine Learning User's Guide); boards.toml may
#: name other paths in its ``delegates`` table.
DEFAULT_DELEGATES = {
    "ethosu": "/usr/lib/libethosu_delegate.so",
    "vx": "/usr/lib/libvx_delegate.so",
}
BOARD_OPTIONS = {**BOARD_SELECTION, **benchmark_options(threads=1, delegates="ethosu, vx or none")}


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
        library = delegate_library(board, delegate, DEFAULT_DELEGATES)
        threads, runs, warmup = option(ctx, "threads"), option(ctx, "runs"), option(ctx, "warmup")
        limit = option(ctx, "board_timeout")
        if board.resolved_runtime() == "benchmark_model":
            call = BenchmarkModelCall(board.benchmark_model or "benchmark_model", threads, runs, warmup, library)
            figures = benchmark_on_board(ctx, board, call, limit)
        else:
            figures = self._python(ctx, board, threads, runs, warmup, library, limit)
        # "warmup" (the warm-up runs done, as the benchmark reported them) comes with each figure
        for fig in figures:
            fig.extra = {"delegate": delegate, **fig.extra}
        return StageOutput(figures=figures)

    def _python(self, ctx: StageContext, board: Board, threads: int, runs: int, warmup: int,
                library: str | None, limit: float) -> list[Figure]:
        ctx.log(f"board {board.id} ({ctx.target.id}, BSP {board.bsp or 'unknown'}): python, {threads} thread(s), "
                f"{warmup} warm-up + {runs} runs, delegate {library or 'none'}")
        ssh = board.transport()
        with board_session(ctx, ssh, board.workdir) as remote_dir:
            model = f"{remote_dir}/{ctx.input.path.name}"
            ssh.put(ctx.input.path, model, SETUP_TIMEOUT_S)
            figures = self._python_benchmark(ssh, board, remote_dir, model, threads, runs, warmup, library, limit)
        common: dict[str, Any] = {**board.public_facts(), "runtime": "python", "threads": threads,
                                  "warmup_requested": warmup}
        if library:
            common["delegate_library"] = library
        for fig in figures:
            fig.extra = {**common, **fig.extra}
        return figures

    @staticmethod
    def _python_benchmark(ssh: SshTransport, board: Board, remote_dir: str, model: str, threads: int, runs: int,
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


def option(ctx: StageContext, name: str) -> Any:
    """The typed value of a declared option (its default when unset): ``warmup=0`` stays 0."""
    return typed_option(ctx, BOARD_OPTIONS, name)
