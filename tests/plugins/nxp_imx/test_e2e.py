"""`zoo-bench run --target imx93` end to end: a real Vela compile and real board runs on the
loopback "board" (sshd fixture), through the CLI, the executor and a worker process per stage."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

pytest.importorskip("ethosu.vela", reason="Vela is not installed (zoo-bench[nxp])")


def zoo_bench(args: list[str], tmp_path: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, ZOO_BENCH_CACHE=str(tmp_path / "cache"))
    env.pop("ZOO_BENCH_PLUGINS", None)
    return subprocess.run([sys.executable, "-m", "zoo_bench.cli", *args], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=timeout)


def rows(results_dir: Path) -> list[dict]:
    return [r for f in sorted(results_dir.glob("runs/*/jobs/*.parquet")) for r in pq.read_table(f).to_pylist()]


def test_imx93_run_compiles_with_vela_and_times_the_loopback_board(tiny_models, loopback_boards, tmp_path):
    out = tmp_path / "results"
    proc = zoo_bench(["run", "-m", str(tiny_models["tiny_int8"]), "-t", "imx93", "--boards", str(loopback_boards),
                      "--runs", "10", "--warmup", "2", "-o", str(out), "--json", "-q"], tmp_path)
    summary = json.loads(proc.stdout)
    stages = summary["jobs"][0]["stages"]
    assert stages == {"source": "ok", "compile:vela": "ok", "run:imx_board:npu": "failed",
                      "run:imx_board:cpu-1t": "ok", "run:imx_board:cpu-2t": "ok",
                      "run:imx_estimate:estimate": "ok"}, proc.stderr
    assert proc.returncode == 1  # the NPU stage failed: this machine has no Ethos-U delegate
    table = rows(out)
    npu = next(r for r in table if r["stage"] == "run:imx_board:npu")
    assert "libethosu_delegate.so" in npu["reason"] and npu["status"] == "failed"
    vela = {r["metric"]: r for r in table if r["stage"] == "compile:vela"}
    assert vela["latency_mean_ms"]["method"] == "tool-estimate" and vela["latency_mean_ms"]["value"] > 0
    assert json.loads(vela["npu_op_share"]["extra"])["system_config"] == "iMX93"
    for label, threads in (("cpu-1t", 1), ("cpu-2t", 2)):
        run = {r["metric"]: r for r in table if r["stage"] == f"run:imx_board:{label}"}
        p50 = run["latency_p50_ms"]
        assert p50["method"] == "measured-board" and p50["value"] > 0 and len(p50["samples"]) == 10
        extra = json.loads(p50["extra"])
        assert (extra["board"], extra["threads"], extra["bsp"]) == ("loop93", threads, "loopback-test")
    assert all("127.0.0.1" not in (r["extra"] + r["reason"]) for r in table)


def test_hanging_board_command_becomes_failed_rows_not_a_hung_run(tiny_models, loopback_boards, tmp_path):
    out = tmp_path / "results"
    t0 = time.monotonic()
    proc = zoo_bench(["run", "-m", str(tiny_models["tiny_int8"]), "-t", "imx93", "--boards", str(loopback_boards),
                      "--runs", "100000000", "-s", "board_timeout=3", "-s", "board=loop93", "-o", str(out),
                      "--json", "-q"], tmp_path)
    assert time.monotonic() - t0 < 120
    stages = json.loads(proc.stdout)["jobs"][0]["stages"]
    assert stages["run:imx_board:cpu-1t"] == stages["run:imx_board:cpu-2t"] == "failed"
    reasons = {r["stage"]: r["reason"] for r in rows(out) if r["metric"] == "stage_seconds"}
    assert "did not finish within 3 s" in reasons["run:imx_board:cpu-1t"]
