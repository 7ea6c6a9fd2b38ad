"""The ``rdk_board`` runner: times a compiled ``.bin`` on a real RDK X5 with ``hrt_model_exec``.

Per stage it takes a board of the target from the inventory (:mod:`zoo_bench.board.inventory`),
makes a fresh directory on it over the shared SSH transport, pushes the model, runs
``hrt_model_exec model_info`` (logged) and ``hrt_model_exec perf --thread_num N --frame_count F``
under a time limit, parses the perf result and removes the directory, whatever happened.
The plan runs it with 1, 4 and 8 threads: D-Robotics' cards publish the 1-thread latency, the
4-thread average latency and the 4-thread frame rate.
"""

from __future__ import annotations

from typing import Any

from zoo_bench.board.inventory import select_board
from zoo_bench.board.session import (
    BOARD_SELECTION,
    SETUP_TIMEOUT_S,
    BoardCommandFailed,
    SshBoardRunner,
    board_session,
)
from zoo_bench.options import Option
from zoo_bench.plugin import Figure, StageContext, StageOutput, UsageError

from .hrt_report import HrtPerf, HrtReportError, parse_hrt_perf, parse_runtime_version

DEFAULT_TOOL = "hrt_model_exec"


class RdkBoardRunner(SshBoardRunner):
    """Runs NV12 .bin models on RDK X5 boards over SSH with hrt_model_exec perf."""

    name = "rdk_board"
    accepts = ("hbm-bin",)
    options = {
        **BOARD_SELECTION,
        "threads": Option("int", default=1, min=1, help="hrt_model_exec --thread_num (set per stage by the plan)"),
        "frame_count": Option("int", default=200, min=1, help="hrt_model_exec --frame_count (default 200)"),
        "hrt_model_exec": Option("str", default=DEFAULT_TOOL,
                                 help="path of hrt_model_exec on the board (default: on the board's PATH)"),
        "board_timeout": Option("int", default=600, min=1, help="seconds each command may take on the board"),
    }

    def run(self, ctx: StageContext) -> StageOutput:
        artifact = ctx.input
        if artifact.format not in self.accepts:
            raise UsageError(f"rdk_board runs hb_mapper .bin models, not {artifact.format}")
        board = select_board(ctx.options, ctx.target.id)
        threads = int(ctx.options.get("threads", 1))
        frames = int(ctx.options.get("frame_count", 200))
        tool = str(ctx.options.get("hrt_model_exec") or DEFAULT_TOOL)
        limit = float(ctx.options.get("board_timeout", 600))
        ctx.log(f"board {board.id} ({ctx.target.id}): {tool} perf, {threads} thread(s), {frames} frames")
        ssh = board.transport()
        with board_session(ctx, ssh, board.workdir) as remote_dir:
            model = f"{remote_dir}/{artifact.path.name}"
            ssh.put(artifact.path, model, SETUP_TIMEOUT_S)
            info = ssh.run([tool, "model_info", "--model_file", model], limit)
            for line in (info.stdout + info.stderr).strip().splitlines()[:40]:
                ctx.log(f"model_info: {line}")
            perf = ssh.run([tool, "perf", "--model_file", model, "--thread_num", str(threads),
                            "--frame_count", str(frames)], limit)
        try:
            report = parse_hrt_perf(perf.stdout + "\n" + perf.stderr)
        except HrtReportError as exc:
            raise BoardCommandFailed(f"board {board.id}: {exc}; output: {perf.stdout[-300:]!r}") from None
        if report.runtime_version == "unknown":
            report = _with_runtime(report, parse_runtime_version(info.stdout + info.stderr))
        extra = {**board.public_facts(), "runtime": DEFAULT_TOOL, "threads": threads, "frame_count": frames,
                 "model_builder_version": report.builder_version}
        return StageOutput(figures=perf_figures(report, extra))


def _with_runtime(report: HrtPerf, version: str | None) -> HrtPerf:
    from dataclasses import replace

    return replace(report, runtime_version=version) if version else report


def perf_figures(report: HrtPerf, extra: dict[str, Any]) -> list[Figure]:
    """Result rows from one ``hrt_model_exec perf`` report: what it printed, nothing derived."""
    version = report.runtime_version

    def fig(metric: str, value: float, unit: str) -> Figure:
        return Figure(metric, value, unit, "measured-board", DEFAULT_TOOL, version, extra=dict(extra))

    figures = [fig("latency_mean_ms", report.average_ms, "ms"), fig("inferences_per_s", report.fps, "1/s")]
    if report.min_ms is not None and report.max_ms is not None:
        figures += [fig("latency_min_ms", report.min_ms, "ms"), fig("latency_max_ms", report.max_ms, "ms")]
    if report.load_ms is not None:
        figures.append(fig("init_ms", report.load_ms, "ms"))
    return figures

