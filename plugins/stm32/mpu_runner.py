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
delegate library.
"""

from __future__ import annotations

import re
from typing import Any

from zoo_bench.board.inventory import select_board
from zoo_bench.board.session import BOARD_SELECTION, SETUP_TIMEOUT_S, SshBoardRunner
from zoo_bench.board.ssh import SshError, SshTransport
from zoo_bench.board.tflite_report import BenchmarkModelReport, parse_benchmark_model
from zoo_bench.options import Option
from zoo_bench.plugin import Figure, StageContext, StageOutput, UsageError

DEFAULT_DELEGATES = {"vx": "/usr/lib/libvx_delegate.so.2"}
BENCHMARK_MODEL_GLOB = "/usr/local/bin/tensorflow-lite-*/tools/benchmark_model"
XLA_BENCHMARK = "x-linux-ai-benchmark"
_VERSION_IN_PATH = re.compile(r"tensorflow-lite-(\d+\.\d+(?:\.\d+)?)")


class MpuBenchmarkFailed(RuntimeError):
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


def benchmark_model_rows(report: BenchmarkModelReport, version: str, extra: dict[str, Any]) -> list[Figure]:
    """``measured-board`` rows of a benchmark_model log: its mean and, when printed, median/min/max."""
    facts = dict(extra)
    if report.delegation is not None:
        facts["delegation"] = report.delegation
    if report.peak_memory_mb is not None:
        facts["peak_memory_mb"] = report.peak_memory_mb
    rows = [Figure("latency_mean_ms", report.inference_avg_us / 1000.0, "ms", "measured-board", "benchmark_model",
                   version, extra=facts)]
    timed = report.timed
    if timed is not None:
        facts["runs"] = timed.count
        for metric, value in (("latency_p50_ms", timed.median_us), ("latency_min_ms", timed.min_us),
                              ("latency_max_ms", timed.max_us)):
            if value is not None:
                rows.append(Figure(metric, value / 1000.0, "ms", "measured-board", "benchmark_model", version,
                                   extra=facts))
    rows += [Figure("init_ms", report.init_us / 1000.0, "ms", "measured-board", "benchmark_model", version,
                    extra=facts),
             Figure("first_inference_ms", report.first_inference_us / 1000.0, "ms", "measured-board",
                    "benchmark_model", version, extra=facts)]
    return rows


class Stm32MpBoardRunner(SshBoardRunner):
    """Runs .tflite models on STM32MP1/MP2 boards over SSH (x-linux-ai-benchmark or benchmark_model)."""

    name = "stm32mp_board"
    accepts = ("tflite",)
    options = {
        **BOARD_SELECTION,
        "threads": Option("int", default=2, min=1, help="CPU threads (set per stage by the plan)"),
        "runs": Option("int", default=50, min=1, help="timed inferences (benchmark_model)"),
        "warmup": Option("int", default=5, min=0, help="untimed inferences first (benchmark_model)"),
        "delegate": Option("str", default="none", help="NPU delegate: vx or none (set by the plan)"),
        "mpu_benchmark": Option("choice", default="auto", choices=("auto", "x-linux-ai-benchmark", "benchmark_model"),
                                help="which benchmark to run on the board"),
        "xlinuxai_benchmark": Option("str", default=XLA_BENCHMARK, help="x-linux-ai-benchmark on the board"),
        "board_timeout": Option("float", default=600.0, min=1, help="seconds the benchmark may take"),
    }

    def run(self, ctx: StageContext) -> StageOutput:
        board = select_board(ctx.options, ctx.target.id)
        opts = ctx.options
        delegate = str(opts.get("delegate") or "none")
        delegate_path = None
        if delegate != "none":
            delegate_path = board.delegate_path(delegate, DEFAULT_DELEGATES.get(delegate))
            if delegate_path is None:
                raise UsageError(f"board {board.id}: no library for delegate {delegate!r} (boards.toml delegates)")
        threads = int(opts.get("threads", 2))
        limit = float(opts.get("board_timeout", 600.0))
        choice = str(opts.get("mpu_benchmark") or "auto")
        ssh = board.transport()
        remote_dir = None
        try:
            remote_dir = ssh.make_temp_dir(board.workdir, SETUP_TIMEOUT_S)
            model = f"{remote_dir}/{ctx.input.path.name}"
            ssh.put(ctx.input.path, model, SETUP_TIMEOUT_S)
            xla = str(opts.get("xlinuxai_benchmark") or XLA_BENCHMARK)
            use_xla = choice == "x-linux-ai-benchmark" or (choice == "auto" and self._has(ssh, xla))
            common = {**board.public_facts(), "threads": threads, "delegate": delegate}
            if use_xla:
                argv = [xla, "--model_path", model, "--cpu_cores", str(threads)]
                result = ssh.run(argv, limit)
                try:
                    parsed = parse_xlinuxai_table(result.stdout)
                except ValueError as exc:
                    raise MpuBenchmarkFailed(f"board {board.id}: {exc}") from None
                facts = {**common, **({"peak_ram_mb": parsed["peak_ram_mb"]} if "peak_ram_mb" in parsed else {})}
                figures = [Figure("latency_mean_ms", parsed["latency_ms"], "ms", "measured-board", XLA_BENCHMARK,
                                  board.bsp or "unknown", extra=facts)]
            else:
                tool = board.benchmark_model or self._find_benchmark_model(ssh)
                runs, warmup = int(opts.get("runs", 50)), int(opts.get("warmup", 5))
                argv = [tool, f"--graph={model}", f"--num_threads={threads}", f"--num_runs={runs}",
                        f"--warmup_runs={warmup}"]
                if delegate_path:
                    argv.append(f"--external_delegate_path={delegate_path}")
                    common["delegate_library"] = delegate_path
                result = ssh.run(argv, limit)
                try:
                    report = parse_benchmark_model(result.stdout + "\n" + result.stderr)
                except ValueError as exc:
                    raise MpuBenchmarkFailed(f"board {board.id}: {exc}") from None
                match = _VERSION_IN_PATH.search(tool)
                figures = benchmark_model_rows(report, match.group(1) if match else "unknown", common)
        except SshError as exc:
            raise MpuBenchmarkFailed(str(exc)) from None
        finally:
            if remote_dir is not None:
                try:
                    ssh.remove_dir(remote_dir, SETUP_TIMEOUT_S / 4)
                except (SshError, ValueError) as exc:
                    ctx.log(f"could not remove {remote_dir} from the board: {exc}")
        return StageOutput(figures=figures)

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
