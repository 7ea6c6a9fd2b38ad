"""The STM32MP runner on the shared board benchmark (zoo_bench.board.benchmark_model), against the
loopback sshd and the stand-in benchmark_model of zoo_bench.board.loopback (NOT the real tool: it
prints TensorFlow's documented format with synthetic times, 2500 us a run). The NXP runner gets the
same argv and the same figures for the same options: the two can no longer drift."""

from __future__ import annotations

import pytest
from zoo_bench import Artifact, ModelSpec
from zoo_bench.board.inventory import load_boards
from zoo_bench.board.loopback import LoopbackBoard
from zoo_bench.board.session import BoardTimeout
from zoo_bench.testing import run_stage
from zoo_bench_nxp_imx.board_runner import ImxBoardRunner
from zoo_bench_nxp_imx.targets import imx_targets
from zoo_bench_stm32.mpu_runner import Stm32MpBoardRunner
from zoo_bench_stm32.targets import stm32_targets

TARGETS = {t.id: t for t in [*imx_targets(), *stm32_targets()]}
MODEL = ModelSpec(name="tiny", source="test", family="tiny", resolution=8, native_format="tflite")


def run(runner, target, boards, tmp_path, **options):
    path = tmp_path / "tiny.tflite"
    path.write_bytes(b"not a real model: the stand-in only checks its size")
    opts = {"boards": str(boards), "delegate": "none", "threads": 2, "runs": 20, **options}
    out = run_stage(runner, MODEL, tmp_path / f"stage-{runner.name}", target=TARGETS[target], options=opts,
                    inputs=[Artifact(path=path, format="tflite", precision="int8")])
    return {f.metric: f for f in out.figures}


@pytest.mark.parametrize("warmup", [0, 3])
def test_stm32mp_and_imx_run_the_same_benchmark(sshd, tmp_path, warmup):
    board = LoopbackBoard(sshd, tmp_path / "board")
    mp = run(Stm32MpBoardRunner(), "stm32mp1", board.boards_toml("stm32mp1", "mp1"), tmp_path,
             mpu_benchmark="benchmark_model", warmup=warmup)
    imx = run(ImxBoardRunner(), "imx93", board.boards_toml("imx93", "evk93"), tmp_path, warmup=warmup)
    mp_argv, imx_argv = board.calls()
    assert mp_argv[1:] == imx_argv[1:]  # argv[0] is --graph= in each stage's own run directory
    assert mp_argv[0].endswith("/tiny.tflite") and imx_argv[0].endswith("/tiny.tflite")
    assert f"--warmup_runs={warmup}" in mp_argv and "--warmup_min_secs=0" in mp_argv
    assert set(mp) == set(imx)
    assert ("first_inference_ms" in mp) == (warmup > 0)  # -s warmup=0: no warm-up, no such row
    for metric in mp:
        assert mp[metric].value == imx[metric].value
        assert (mp[metric].method, mp[metric].tool, mp[metric].tool_version) == (
            "measured-board", "benchmark_model", "2.16.2")
    extra = mp["latency_mean_ms"].extra
    assert (extra["board"], extra["runtime"], extra["warmup"], extra["warmup_requested"]) == (
        "mp1", "benchmark_model", warmup, warmup)
    assert list(board.workdir.iterdir()) == []


def test_stm32mp_benchmark_runs_in_a_board_session(sshd, tmp_path):
    """Before: no time-limit failure type and no clean-up through board_session."""
    board = LoopbackBoard(sshd, tmp_path / "board")
    hang = tmp_path / "hang.sh"
    hang.write_text("#!/bin/sh\nsleep 30\n")
    hang.chmod(0o755)
    with pytest.raises(BoardTimeout, match="did not finish within 2 s"):
        run(Stm32MpBoardRunner(), "stm32mp1", board.boards_toml("stm32mp1", benchmark_model=str(hang)), tmp_path,
            mpu_benchmark="benchmark_model", board_timeout=2)
    assert list(board.workdir.iterdir()) == []


def test_the_board_says_where_x_linux_ai_benchmark_is(sshd, tmp_path):
    board = LoopbackBoard(sshd, tmp_path / "board")
    xla = tmp_path / "xla.sh"
    xla.write_text("#!/bin/sh\necho '| Model Name | Inference Time (ms) | Peak RAM (MB) |'\n"
                   "echo '| tiny.tflite | 47.5 | 12.4 |'\n")
    xla.chmod(0o755)
    boards = board.boards_toml("stm32mp1", xlinuxai_benchmark=str(xla))
    assert load_boards(boards)["loop"].setting("xlinuxai_benchmark") == str(xla)
    figs = run(Stm32MpBoardRunner(), "stm32mp1", boards, tmp_path)
    assert figs["latency_mean_ms"].value == 47.5 and figs["latency_mean_ms"].extra["runtime"] == "x-linux-ai-benchmark"
    assert board.calls() == []  # benchmark_model did not run
