"""The imx_board runner end to end against the loopback OpenSSH server: this machine is the
"board" and its Python with LiteRT is the board's runtime (tests/fixtures/sshd.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from zoo_bench import ToolUnavailable
from zoo_bench.board.dead_boards import RUN_ID_ENV
from zoo_bench.board.loopback import install_stand_in_benchmark_model
from zoo_bench.board.session import BoardCommandFailed, BoardConnectionLost, BoardTimeout
from zoo_bench.board.tflite_report import parse_benchmark_model
from zoo_bench_nxp_imx.board_runner import ImxBoardRunner, benchmark_model_figures
from zoo_bench_nxp_imx.targets import imx_targets

from tests.fixtures.sshd import wait_until
from tests.framework.board.test_tflite_report import NPU_LOG

TARGETS = {t.id: t for t in imx_targets()}


@pytest.fixture(autouse=True)
def own_run(monkeypatch, request):
    """Each test is a run of its own: boards given up on in one test are not remembered in the next."""
    monkeypatch.setenv(RUN_ID_ENV, f"test-{request.node.name}-{time.time_ns()}")


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


def test_board_that_goes_away_mid_run_fails_once_its_port_refuses(tiny_models, make_ctx, sshd_factory, tmp_path,
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
    # the dropped connection is retried; the retry finds the port closed: no further attempt
    with pytest.raises(BoardConnectionLost, match="connection to board gone failed, not retried") as err:
        ImxBoardRunner().run(make_ctx(tiny_models["tiny_int8"], options=opts))
    stopper.join()
    assert time.monotonic() - t0 < 20
    assert "Connection refused" in str(err.value)


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


def test_zero_warmup_is_zero_in_python_mode(tiny_models, make_ctx, loopback_boards):
    """`--warmup 0` used to become 5 (`int(x or 5)`), and the board script always warmed up once."""
    opts = {"boards": str(loopback_boards), "threads": 1, "runs": 5, "warmup": 0, "delegate": "none"}
    figs = by_metric(ImxBoardRunner().run(make_ctx(tiny_models["tiny_int8"], options=opts)).figures)
    assert "warmup_ms" not in figs
    p50 = figs["latency_p50_ms"]
    assert (p50.extra["warmup"], p50.extra["warmup_requested"], len(p50.samples)) == (0, 0, 5)
    # with no warm-up the first inference is the first timed run
    assert figs["first_inference_ms"].value == pytest.approx(p50.samples[0])
    assert p50.extra["timed_region"] == "Interpreter.invoke()"


# The stand-in for TensorFlow Lite's benchmark_model that zoo_bench.testing gives plugin authors
# (zoo_bench.board.loopback): NOT the real tool; it prints in the format of TensorFlow's sources and
# counts its runs the way `BenchmarkModel::Run` does, each synthetic run taking 2500 us + (i % 7) * 10
# (the first warm-up run 9000 us).


@pytest.fixture
def fake_benchmark_model_board(sshd, tmp_path, board_python):
    """boards.toml whose i.MX 93 runs the stand-in benchmark_model (above) over the loopback sshd."""
    argv_log = tmp_path / "benchmark_model_argv.jsonl"
    tool = install_stand_in_benchmark_model(tmp_path / "usr/bin/tensorflow-lite-2.16.2/examples/benchmark_model",
                                            argv_log, board_python)
    delegate = tmp_path / "usr/lib/libethosu_delegate.so"
    delegate.parent.mkdir(parents=True)
    delegate.write_bytes(b"stand-in: only its existence is checked")
    path = tmp_path / "bm_boards.toml"
    path.write_text(sshd.board_table("bm93", "imx93", bsp="loopback-bm", benchmark_model=str(tool),
                                     workdir=str(tmp_path / "bm-workdir"), delegates={"ethosu": str(delegate)}))
    return path, argv_log, tmp_path / "bm-workdir"


def test_benchmark_model_over_ssh_records_what_the_tool_printed(tiny_models, make_ctx, fake_benchmark_model_board):
    boards, argv_log, workdir = fake_benchmark_model_board
    opts = {"boards": str(boards), "threads": 2, "runs": 20, "warmup": 0, "delegate": "none"}
    out = ImxBoardRunner().run(make_ctx(tiny_models["tiny_int8"], options=opts))
    figs = by_metric(out.figures)
    (argv,) = [json.loads(line) for line in argv_log.read_text().splitlines()]
    assert argv[0].startswith("--graph=") and argv[0].endswith("/tiny_int8.tflite")
    assert argv[1:] == ["--num_threads=2", "--num_runs=20", "--warmup_runs=0", "--warmup_min_secs=0"]
    # the tool ran max(20, 1 s / 2.5 ms) = 400 timed runs: the rows say 400, not the 20 asked for
    timed = [2500 + (i % 7) * 10 for i in range(400)]
    assert set(figs) == {"latency_mean_ms", "inferences_per_s", "latency_min_ms", "latency_max_ms",
                         "latency_std_ms", "init_ms"}  # no warm-up ran: no first-inference or warm-up row
    mean = figs["latency_mean_ms"]
    assert mean.value == pytest.approx(sum(timed) / 400 / 1000, rel=1e-5)
    assert (figs["latency_min_ms"].value, figs["latency_max_ms"].value) == (2.5, 2.56)
    assert figs["init_ms"].value == 12.5
    assert (mean.method, mean.tool, mean.tool_version) == ("measured-board", "benchmark_model", "2.16.2")
    extra = mean.extra
    assert (extra["runs"], extra["warmup"], extra["warmup_requested"], extra["warmup_min_secs"]) == (400, 0, 0, 0.0)
    assert (extra["board"], extra["bsp"], extra["runtime"], extra["threads"]) == ("bm93", "loopback-bm",
                                                                                  "benchmark_model", 2)
    assert "delegation" not in extra and "delegate_kernels" not in extra
    assert list(workdir.iterdir()) == []  # the run directory was removed from the board


def test_benchmark_model_through_the_npu_delegate(tiny_models, make_ctx, fake_benchmark_model_board):
    boards, argv_log, _ = fake_benchmark_model_board
    opts = {"boards": str(boards), "threads": 2, "runs": 500, "warmup": 3, "delegate": "ethosu"}
    figs = by_metric(ImxBoardRunner().run(make_ctx(tiny_models["tiny_int8"], options=opts)).figures)
    (argv,) = [json.loads(line) for line in argv_log.read_text().splitlines()]
    assert argv[-1].startswith("--external_delegate_path=") and argv[-1].endswith("/libethosu_delegate.so")
    assert "--warmup_runs=3" in argv
    assert figs["first_inference_ms"].value == 9.0
    assert figs["warmup_ms"].value == pytest.approx((9000 + 2510 + 2520) / 3 / 1000, rel=1e-5)
    extra = figs["latency_mean_ms"].extra
    assert (extra["runs"], extra["warmup"], extra["delegate"]) == (500, 3, "ethosu")
    # "completely executed by the delegate" prints no kernel count, so none is recorded
    assert extra["delegation"] == "complete" and "delegate_kernels" not in extra


def test_unreachable_board_costs_one_connect_timeout_per_run(tiny_models, tmp_path, monkeypatch):
    """Through the CLI (one process per stage): the first board stage gives up on a port that never
    speaks SSH after one ConnectTimeout (not retried); the two later board stages of the run fail at
    once, naming that first failure. Before: 3 stages x 3 attempts x ConnectTimeout, plus pauses."""
    pytest.importorskip("ethosu.vela", reason="the imx93 plan compiles with Vela (zoo-bench[nxp])")
    from tests.framework.board.test_ssh import silent_port

    monkeypatch.delenv(RUN_ID_ENV)  # the default: the run is the zoo-bench process
    env = dict(os.environ, ZOO_BENCH_CACHE=str(tmp_path / "cache"))
    env.pop("ZOO_BENCH_PLUGINS", None)
    out = tmp_path / "results"
    with silent_port() as port:
        boards = tmp_path / "quiet.toml"
        boards.write_text(f'[boards.quiet]\ntarget = "imx93"\nhost = "127.0.0.1"\nport = {port}\n'
                          'ssh_config = "none"\nconnect_timeout_s = 2\nretries = 2\n')
        proc = subprocess.run([sys.executable, "-m", "zoo_bench.cli", "run", "-m", str(tiny_models["tiny_int8"]),
                               "-t", "imx93", "--boards", str(boards), "-o", str(out), "--json", "-q"],
                              env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    stages = json.loads(proc.stdout)["jobs"][0]["stages"]
    board_stages = ["run:imx_board:npu", "run:imx_board:cpu-1t", "run:imx_board:cpu-2t"]
    assert [stages[s] for s in board_stages] == ["failed"] * 3, proc.stderr
    rows = {r["stage"]: r for f in sorted(out.glob("runs/*/jobs/*.parquet")) for r in pq.read_table(f).to_pylist()
            if r["metric"] == "stage_seconds"}
    reasons = [rows[s]["reason"] for s in board_stages]
    first = [r for r in reasons if "not tried again" not in r]
    assert len(first) == 1 and "does not speak SSH" in first[0] and "not retried" in first[0]
    later = [r for r in reasons if "not tried again" in r]
    assert len(later) == 2 and all("earlier in this run" in r and "does not speak SSH" in r for r in later)
    seconds = sorted(rows[s]["value"] for s in board_stages)
    assert seconds[-1] < 10 and seconds[0] < 5, seconds  # before: ~9 s per stage (3 x 2 s + 3 s of pauses)
