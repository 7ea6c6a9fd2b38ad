"""The imx_board runner end to end against the loopback OpenSSH server: this machine is the
"board" and its Python with LiteRT is the board's runtime (tests/fixtures/sshd.py)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from zoo_bench import ToolUnavailable
from zoo_bench.board.tflite_report import parse_benchmark_model
from zoo_bench_nxp_imx.board_runner import (
    BoardCommandFailed,
    BoardConnectionLost,
    BoardTimeout,
    ImxBoardRunner,
    benchmark_model_figures,
)
from zoo_bench_nxp_imx.targets import imx_targets

from tests.fixtures.sshd import wait_until
from tests.framework.board.test_tflite_report import NPU_LOG

TARGETS = {t.id: t for t in imx_targets()}


def python_running(script_prefix: str) -> bool:
    """Whether a process runs a Python script whose path starts with ``script_prefix`` (its argv[1]:
    the shells that wrap it on the board name it later in their arguments)."""
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                argv = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if len(argv) > 1 and argv[1].decode(errors="replace").startswith(script_prefix):
                return True
    return False


def by_metric(figures):
    return {f.metric: f for f in figures}


def test_cpu_run_on_the_loopback_board(tiny_models, make_ctx, loopback_boards, sshd, tmp_path):
    opts = {"boards": str(loopback_boards), "threads": 2, "runs": 20, "warmup": 3, "delegate": "none"}
    out = ImxBoardRunner().run(make_ctx(tiny_models["tiny_int8"], options=opts))
    figs = by_metric(out.figures)
    assert {"latency_p50_ms", "latency_p90_ms", "latency_p99_ms", "latency_mean_ms", "inferences_per_s",
            "init_ms", "first_inference_ms", "warmup_ms"} == set(figs)
    p50 = figs["latency_p50_ms"]
    assert p50.method == "measured-board" and p50.tool == "python ai_edge_litert"
    assert len(p50.samples) == 20 and all(s > 0 for s in p50.samples)
    assert 0 < p50.value < 1000
    assert figs["inferences_per_s"].value == pytest.approx(1000 / figs["latency_mean_ms"].value)
    assert len(figs["warmup_ms"].samples) == 3
    extra = p50.extra
    assert (extra["board"], extra["bsp"], extra["target"], extra["threads"], extra["delegate"]) == \
        ("loop93", "loopback-test", "imx93", 2, "none")
    assert extra["runtime"] == "python"
    stored = json.dumps([f.extra for f in out.figures])
    for secret in (str(sshd.key_file), str(sshd.port), sshd.host):
        assert secret not in stored
    leftovers = list((tmp_path / "board-workdir").iterdir())
    assert leftovers == []  # the run directory was removed from the board


def test_missing_npu_delegate_fails_with_the_boards_error(tiny_models, make_ctx, loopback_boards):
    opts = {"boards": str(loopback_boards), "runs": 2, "warmup": 1, "delegate": "ethosu"}
    with pytest.raises(BoardCommandFailed, match="libethosu_delegate.so"):
        ImxBoardRunner().run(make_ctx(tiny_models["tiny_int8"], options=opts))


def test_hanging_benchmark_ends_as_a_failure_within_its_limit(tiny_models, make_ctx, loopback_boards):
    opts = {"boards": str(loopback_boards), "runs": 10**8, "warmup": 1, "delegate": "none", "board_timeout": 3}
    t0 = time.monotonic()
    with pytest.raises(BoardTimeout, match="did not finish within 3 s"):
        ImxBoardRunner().run(make_ctx(tiny_models["tiny_int8"], options=opts))
    assert time.monotonic() - t0 < 20


def test_board_that_goes_away_mid_run_fails_after_the_retries(tiny_models, make_ctx, sshd_factory, tmp_path,
                                                              board_python):
    server = sshd_factory()
    boards = tmp_path / "gone.toml"
    boards.write_text(server.board_table("gone", "imx93", python=board_python, workdir=str(tmp_path / "wd"),
                                         retries=1))
    opts = {"boards": str(boards), "runs": 10**8, "warmup": 1, "delegate": "none", "board_timeout": 60}
    script = str(tmp_path / "wd" / "run.")

    def stop_when_running():  # once the benchmark runs: a login shell is not cut off mid-rc
        wait_until(lambda: python_running(script), what="the benchmark")
        server.stop()

    stopper = threading.Thread(target=stop_when_running)
    stopper.start()
    t0 = time.monotonic()
    with pytest.raises(BoardConnectionLost, match="connection to board gone failed or dropped on all 2 attempt"):
        ImxBoardRunner().run(make_ctx(tiny_models["tiny_int8"], options=opts))
    stopper.join()
    assert time.monotonic() - t0 < 20


def test_vela_model_needs_the_npu_delegate(tiny_models, make_ctx, loopback_boards):
    opts = {"boards": str(loopback_boards), "delegate": "none"}
    with pytest.raises(Exception, match="Ethos-U delegate"):
        ImxBoardRunner().run(make_ctx(tiny_models["tiny_int8"], fmt="vela-tflite", options=opts))


def test_no_board_means_skip_with_the_reason(tmp_path, loopback_boards, make_ctx, tiny_models):
    runner = ImxBoardRunner()
    reason = runner.unavailable_reason(TARGETS["imx93"], {"boards": str(tmp_path / "none.toml")})
    assert reason.startswith("no board for target imx93") and "docs/boards.md" in reason
    only93 = tmp_path / "only93.toml"
    only93.write_text(loopback_boards.read_text().split("[boards.loop8mp]")[0])
    assert runner.unavailable_reason(TARGETS["imx8mp"], {"boards": str(only93)}) == \
        f"no board for target imx8mp in {only93} (see docs/boards.md)"
    with pytest.raises(ToolUnavailable):
        runner.run(make_ctx(tiny_models["tiny_int8"], target="imx8mp", options={"boards": str(only93)}))


def test_benchmark_model_report_becomes_measured_board_rows():
    figs = by_metric(benchmark_model_figures(parse_benchmark_model(NPU_LOG), "2.16.2"))
    assert figs["latency_mean_ms"].value == pytest.approx(3.9505)
    assert figs["latency_p50_ms"].value == pytest.approx(3.935)
    assert figs["init_ms"].value == pytest.approx(21.432)
    assert figs["first_inference_ms"].value == pytest.approx(9.02)
    assert figs["warmup_ms"].value == pytest.approx(3.9732)
    assert figs["inferences_per_s"].value == pytest.approx(1000 / 3.9505)
    assert "latency_p90_ms" not in figs  # benchmark_model prints no p90: none is made up
    f = figs["latency_mean_ms"]
    assert (f.method, f.tool, f.tool_version) == ("measured-board", "benchmark_model", "2.16.2")
    assert f.extra["delegation"] == "complete" and f.extra["p95_ms"] == pytest.approx(4.03)
    assert (figs["latency_min_ms"].value, figs["latency_max_ms"].value) == (pytest.approx(3.88), pytest.approx(4.41))
    assert figs["latency_std_ms"].value == pytest.approx(0.061)
