"""The Dask executor with real clusters on this machine (loopback), with the fake plugins.

A LocalCluster run must give the rows the local executor gives (apart from timings); on a
cluster of a scheduler and two ``zoo-bench worker`` processes, the board stage goes only to the
worker that owns ``board-lab1``, and a worker killed while it runs a stage costs a retry, not
the stage.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.framework.test_harness import rows

pytest.importorskip("distributed")

#: Columns that differ between two runs of the same stages (times, the run, how it was scheduled).
VOLATILE = {"run_id", "started_at", "duration_s", "samples", "extra"}
#: Units of timed figures: their values differ from run to run.
TIME_UNITS = {"s", "ms", "us"}


def _comparable(records: list[dict]) -> dict[tuple, dict]:
    out = {}
    for r in records:
        row = {k: v for k, v in r.items() if k not in VOLATILE}
        if r["unit"] in TIME_UNITS or r["unit"].endswith("/s"):
            row.pop("value")
        row["device"] = json.loads(r["extra"]).get("device")
        out[(r["job_id"], r["stage"], r["metric"])] = row
    return out


def test_dask_and_local_give_the_same_rows(tmp_path, zb_env):
    args = ["run", "-m", "fake_tiny,fake_fail", "-t", "fake_a,fake_b", "-j", "2", "--json"]
    env = dict(zb_env, ZOO_BENCH_CACHE=str(tmp_path / "cache-local"))
    local = run_cli([*args, "-o", str(tmp_path / "local")], env=env)
    assert local.returncode == 1, local.stderr  # fake_fail fails on purpose
    env = dict(zb_env, ZOO_BENCH_CACHE=str(tmp_path / "cache-dask"))
    dask = run_cli([*args, "-o", str(tmp_path / "dask"), "--executor", "dask"], env=env)
    assert dask.returncode == 1, dask.stderr
    a, b = _comparable(rows(tmp_path / "local")), _comparable(rows(tmp_path / "dask"))
    assert a.keys() == b.keys() and len(a) > 10
    # A stage two jobs share (one quantize for fake_a and fake_b) runs once: which job computes it and
    # which is served from the cache depends on scheduling, in either executor. Compare how many
    # rows of each stage were cached, not which job's.
    assert _cached_counts(a) == _cached_counts(b)
    for key in a:
        assert {**a[key], "cached": None} == {**b[key], "cached": None}, key


def _cached_counts(rows_by_key: dict[tuple, dict]) -> dict[tuple, int]:
    counts: dict[tuple, int] = {}
    for (job, stage, metric), row in rows_by_key.items():
        key = (job.split("@")[0], stage, metric)
        counts[key] = counts.get(key, 0) + bool(row["cached"])
    return counts


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)


@pytest.fixture(params=[None])
def cluster(request, tmp_path, zb_env):
    """A scheduler and two `zoo-bench worker`s on loopback; worker "board" owns board-lab1.
    The parameter is the scheduler's allowed-failures (None: Dask's default, 3)."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(zb_env, ZOO_BENCH_PLUGINS="zb_fake_plugin,zb_fake_board_plugin", ZB_FAKE_BUILD_SLEEP="3")
    senv = dict(env)
    if request.param is not None:
        senv["DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES"] = str(request.param)
    procs = {"scheduler": _start([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", str(port), "--no-dashboard"], senv, tmp_path / "scheduler.log")}
    time.sleep(2)
    for name, extra in (("board", ["--resources", "board-lab1=1"]), ("plain", [])):
        wenv = dict(env, ZB_WORKER_NAME=name, ZB_FAKE_LOG=str(tmp_path / f"{name}.calls"))
        procs[name] = _start([sys.executable, "-m", "zoo_bench.cli", "worker", "--scheduler", address, *extra],
                             wenv, tmp_path / f"{name}.log")
    from distributed import Client

    with Client(address, timeout=60) as client:
        client.wait_for_workers(2, timeout=120)
    yield address, env, procs
    for proc in procs.values():
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def _run_killing_the_plain_worker(tmp_path: Path, address: str, env: dict[str, str], procs: dict,
                                  models: str, targets: str) -> tuple[subprocess.Popen, str, str, bool]:
    run = subprocess.Popen([sys.executable, "-m", "zoo_bench.cli", "run", "-m", models, "-t", targets,
                            "-o", str(tmp_path / "out"), "--executor", "dask", "--address", address, "--json"],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # kill the plain worker as soon as it has started building (the builds sleep 3 s)
    calls = tmp_path / "plain.calls"
    deadline = time.time() + 240
    while time.time() < deadline and not (calls.exists() and "build" in calls.read_text()):
        time.sleep(0.1)
    killed = calls.exists() and "build" in calls.read_text()
    if killed:
        os.killpg(procs["plain"].pid, signal.SIGKILL)
    stdout, stderr = run.communicate(timeout=600)
    return run, stdout, stderr, killed


def test_board_stages_go_to_the_board_worker_and_a_killed_worker_costs_a_retry(tmp_path, cluster):
    address, env, procs = cluster
    out = tmp_path / "out"
    run, stdout, stderr, killed = _run_killing_the_plain_worker(tmp_path, address, env, procs,
                                                                "fake_tiny,fake_other", "fake_board,fake_a")
    assert run.returncode == 0, stderr
    assert killed, "the plain worker never started a build"
    records = rows(out)
    stages = [r for r in records if r["metric"] == "stage_seconds"]
    assert len(stages) == 2 * 2 + 2 * 4 and all(r["status"] == "ok" for r in stages)
    board = [r for r in records if r["target"] == "fake_board" and r["metric"] == "latency_p50_ms"]
    assert len(board) == 2
    assert all(json.loads(r["extra"])["worker"] == "board" for r in board)
    assert all(json.loads(r["extra"])["device"] == "board-lab1" for r in board)
    summary = json.loads(stdout)
    assert summary["counts"] == {"ok": 4, "failed": 0, "skipped": 0}


@pytest.mark.parametrize("cluster", [0], indirect=True)
def test_a_stage_whose_worker_dies_without_retries_left_is_a_failed_row(tmp_path, cluster):
    address, env, procs = cluster
    run, stdout, stderr, killed = _run_killing_the_plain_worker(tmp_path, address, env, procs,
                                                                "fake_tiny,fake_other", "fake_a")
    assert killed, "the plain worker never started a build"
    assert run.returncode == 1, stderr
    stages = {(r["job_id"], r["stage"]): r for r in rows(tmp_path / "out") if r["metric"] == "stage_seconds"}
    assert len(stages) == 2 * 4  # every stage has its row: none is lost
    lost = [r for r in stages.values() if r["status"] == "failed"]
    assert lost and all("KilledWorker" in r["reason"] for r in lost)
    blocked = [r for r in stages.values() if r["status"] == "skipped"]
    assert blocked and all(r["reason"].endswith("failed (see that stage)") for r in blocked)


def test_worker_rejects_a_malformed_resource(zb_env):
    proc = run_cli(["worker", "--scheduler", "tcp://127.0.0.1:1", "--resources", "board-lab1"], env=zb_env)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("zoo-bench: error: resource 'board-lab1' is not NAME=NUMBER "
                                   "(e.g. board-lab1=1)")


def test_address_needs_the_dask_executor(zb_env, tmp_path):
    proc = run_cli(["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(tmp_path), "--address", "tcp://x:1"],
                   env=zb_env)
    assert proc.returncode == 2 and proc.stderr.strip() == "zoo-bench: error: --address needs --executor dask"
