"""The ``stm32mp_board`` runner: times a .tflite model on an STM32MP1/MP2 board over SSH.

The board comes from the inventory (``boards.toml``, docs/boards.md). On it, in this order:

- ``x-linux-ai-benchmark`` (X-LINUX-AI's unified benchmark, installed with
  ``x-linux-ai -i x-linux-ai-benchmark``) when the board has it: ``--model_path M --cpu_cores N``.
  Its output is a PrettyTable with the columns "Model Name", "Inference Time (ms)",
  "Peak RAM (MB)" (column names from the strings of its binary in meta-st-x-linux-ai @ 6813080,
  ``recipes-devtools/x-linux-ai/x-linux-ai-benchmark_6.1.1.bb``: ST documents no output format);
- else TFLite's ``benchmark_model`` (``/usr/local/bin/tensorflow-lite-*/tools/benchmark_model``
  on X-LINUX-AI, per ST's wiki "How to measure performance of your NN models using TensorFlow Lite
  runtime"), with ``--external_delegate_path=/usr/lib/libvx_delegate.so.2`` for the MP2's NPU
  (the path x-linux-ai-benchmark passes). Its log is parsed by :mod:`zoo_bench.board.tflite_report`.

The option ``mpu_benchmark`` forces one of them; a board's ``delegates`` table may name another
delegate library, and its ``xlinuxai_benchmark`` key (declared by this runner, see
``board_keys``) where x-linux-ai-benchmark lives. Both run inside ``board_session``: a fresh run
directory, the board failure types, the transport log, clean-up whatever happens.
"""

from __future__ import annotations

from typing import Any

from zoo_bench.board.benchmark_model import (
    BenchmarkModelCall,
    benchmark_options,
    delegate_library,
    run_benchmark_model,
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
from zoo_bench.options import Option
from zoo_bench.plugin import Figure, StageContext, StageOutput

DEFAULT_DELEGATES = {"vx": "/usr/lib/libvx_delegate.so.2"}
BENCHMARK_MODEL_GLOB = "/usr/local/bin/tensorflow-lite-*/tools/benchmark_model"
XLA_BENCHMARK = "x-linux-ai-benchmark"


class MpuBenchmarkFailed(BoardCommandFailed):
    """The benchmark ran on the board and failed, or printed nothing zoo-bench can read."""


def parse_xlinuxai_table(text: str) -> dict[str, float]:
    """``{"latency_ms": .., "peak_ram_mb": ..}`` from x-linux-ai-benchmark's table (first model row).

    Raises :class:`ValueError` when there is no row under an "Inference Time (ms)" header.
    """
    rows = [[c.strip() for c in ln.strip().strip("|").split("|")] for ln in text.splitlines()
            if ln.strip().startswith("|")]
    header = next((i for i, r in enumerate(rows) if "Inference Time (ms)" in r), None)
    if header is None or header + 1 >= len(rows):
        raise ValueError("x-linux-ai-benchmark printed no table with an 'Inference Time (ms)' column")
    names, values = rows[header], rows[header + 1]
    found = dict(zip(names, values, strict=False))
    result = {"latency_ms": float(found["Inference Time (ms)"])}
    if found.get("Peak RAM (MB)"):
        try:
            result["peak_ram_mb"] = float(found["Peak RAM (MB)"])
        except ValueError:
            pass
    return result


class Stm32MpBoardRunner(SshBoardRunner):
    """Runs .tflite models on STM32MP1/MP2 boards over SSH (x-linux-ai-benchmark or benchmark_model)."""

    name = "stm32mp_board"
    accepts = ("tflite",)
    options = {
        **BOARD_SELECTION,
        **benchmark_options(threads=2, delegates="vx or none"),
        "mpu_benchmark": Option("choice", default="auto", choices=("auto", "x-linux-ai-benchmark", "benchmark_model"),
                                help="which benchmark to run on the board"),
        "xlinuxai_benchmark": Option("str", default=None,
                                     help="x-linux-ai-benchmark on the board (default: the board's "
                                          "xlinuxai_benchmark key, else the one on its PATH)"),
    }
    board_keys = {
        "xlinuxai_benchmark": Option("str", default=XLA_BENCHMARK,
                                     help="path of x-linux-ai-benchmark on an STM32MP board"),
    }

    def run(self, ctx: StageContext) -> StageOutput:
        board = select_board(ctx.options, ctx.target.id)
        delegate = self.option(ctx, "delegate")
        library = delegate_library(board, delegate, DEFAULT_DELEGATES)
        threads, limit = self.option(ctx, "threads"), self.option(ctx, "board_timeout")
        choice = self.option(ctx, "mpu_benchmark")
        xla = str(ctx.options.get("xlinuxai_benchmark") or board.setting("xlinuxai_benchmark"))
        ssh = board.transport()
        with board_session(ctx, ssh, board.workdir) as remote_dir:
            model = f"{remote_dir}/{ctx.input.path.name}"
            ssh.put(ctx.input.path, model, SETUP_TIMEOUT_S)
            if choice == "x-linux-ai-benchmark" or (choice == "auto" and self._has(ssh, xla)):
                ctx.log(f"board {board.id} ({ctx.target.id}): {xla}, {threads} core(s)")
                figures = self._xlinuxai(ssh, board, xla, model, threads, limit)
            else:
                call = BenchmarkModelCall(board.benchmark_model or self._find_benchmark_model(ssh), threads,
                                          self.option(ctx, "runs"), self.option(ctx, "warmup"), library)
                ctx.log(f"board {board.id} ({ctx.target.id}): {' '.join(call.argv(model))}")
                figures = run_benchmark_model(ssh, board, model, call, limit)
        for fig in figures:
            fig.extra = {**board.public_facts(), "delegate": delegate, **fig.extra}
        return StageOutput(figures=figures)

    @staticmethod
    def _xlinuxai(ssh: SshTransport, board: Board, xla: str, model: str, threads: int, limit: float) -> list[Figure]:
        result = ssh.run([xla, "--model_path", model, "--cpu_cores", str(threads)], limit)
        try:
            parsed = parse_xlinuxai_table(result.stdout)
        except ValueError as exc:
            raise MpuBenchmarkFailed(f"board {board.id}: {exc}") from None
        facts: dict[str, Any] = {"runtime": XLA_BENCHMARK, "threads": threads}
        if "peak_ram_mb" in parsed:
            facts["peak_ram_mb"] = parsed["peak_ram_mb"]
        # the tool prints no version of its own: the BSP's names it
        return [Figure("latency_mean_ms", parsed["latency_ms"], "ms", "measured-board", XLA_BENCHMARK,
                       board.bsp or "unknown", extra=facts)]

    @staticmethod
    def _has(ssh: SshTransport, program: str) -> bool:
        result = ssh.run(["sh", "-c", 'command -v "$1"', "sh", program], SETUP_TIMEOUT_S, check=False)
        return result.returncode == 0 and bool(result.stdout.strip())

    @staticmethod
    def _find_benchmark_model(ssh: SshTransport) -> str:
        result = ssh.run(["sh", "-c", f"ls -d {BENCHMARK_MODEL_GLOB} 2>/dev/null | tail -n 1"], SETUP_TIMEOUT_S,
                         check=False)
        found = result.stdout.strip()
        if not found:
            raise MpuBenchmarkFailed("no benchmark_model under /usr/local/bin/tensorflow-lite-*/tools on the board "
                                     "(x-linux-ai -i tensorflow-lite-tools, or set benchmark_model in boards.toml)")
        return found
