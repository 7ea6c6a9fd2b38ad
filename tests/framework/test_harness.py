"""The harness end to end through the CLI, with the in-tree fake plugin (tiny numpy models).

Each test runs `zoo-bench run` in a subprocess the way a user does and asserts on exit codes,
the Parquet rows and the fake plugin's call log.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

from tests.conftest import run_cli


def rows(out: Path) -> list[dict]:
    files = sorted(out.glob("runs/*/jobs/*.parquet"))
    return [r for f in files for r in pq.read_table(f).to_pylist()]


def calls(env: dict[str, str]) -> list[str]:
    path = Path(env["ZB_FAKE_LOG"])
    return path.read_text().splitlines() if path.exists() else []


def stage_status(records: list[dict], job: str, stage: str) -> tuple[str, str]:
    (row,) = [r for r in records if r["job_id"] == job and r["stage"] == stage and r["metric"] == "stage_seconds"]
    return row["status"], row["reason"]


def test_crashing_and_raising_jobs_become_failed_rows_and_the_run_goes_on(tmp_path, zb_env):
    out = tmp_path / "out"
    proc = run_cli(["run", "-m", "fake_crash,fake_fail,fake_tiny", "-t", "fake_a", "-o", str(out)], env=zb_env)
    assert proc.returncode == 1, proc.stderr
    records = rows(out)
    assert stage_status(records, "fake_crash@fake_a", "source") == ("failed", "stage process killed by SIGABRT")
    status, reason = stage_status(records, "fake_fail@fake_a", "source")
    assert status == "failed" and reason == "RuntimeError: the fake model refuses to build"
    status, reason = stage_status(records, "fake_fail@fake_a", "run:fake_numpy:int8")
    assert status == "skipped" and reason == "source failed (see that stage)"
    latency = [r for r in records if r["job_id"] == "fake_tiny@fake_a" and r["metric"] == "latency_p50_ms"]
    assert len(latency) == 2 and all(r["value"] > 0 and r["method"] == "measured-host" for r in latency)
    assert len(latency[0]["samples"]) == 20  # the fake_a target's default runs
    assert "Traceback" not in proc.stderr


def test_a_hanging_stage_is_killed_at_the_timeout(tmp_path, zb_env):
    out = tmp_path / "out"
    t0 = time.time()
    proc = run_cli(["run", "-m", "fake_hang,fake_tiny", "-t", "fake_a", "-o", str(out), "--timeout", "3"], env=zb_env)
    assert time.time() - t0 < 60
    assert proc.returncode == 1
    status, reason = stage_status(rows(out), "fake_hang@fake_a", "source")
    assert status == "failed" and "timed out after 3 s" in reason
    assert stage_status(rows(out), "fake_tiny@fake_a", "run:fake_numpy:int8")[0] == "ok"


def test_second_run_is_served_from_cache_and_shared_stages_run_once(tmp_path, zb_env):
    out = tmp_path / "out"
    first = run_cli(["run", "-m", "fake_tiny", "-t", "fake_a,fake_b", "-o", str(out), "--json"], env=zb_env)
    assert first.returncode == 0, first.stderr
    # one build and one quantize feed both targets
    assert calls(zb_env).count("build fake_tiny") == 1
    assert calls(zb_env).count("quantize fake_tiny") == 1
    second = run_cli(["run", "-m", "fake_tiny", "-t", "fake_a,fake_b", "-o", str(out), "--json"], env=zb_env)
    assert second.returncode == 0
    assert calls(zb_env).count("build fake_tiny") == 1
    assert sum(line.startswith("run ") for line in calls(zb_env)) == 3  # nothing re-measured
    import json

    run2 = json.loads(second.stdout)["run_id"]
    again = [r for r in rows(out) if r["run_id"] == run2 and r["status"] == "ok"]
    assert again and all(r["cached"] for r in again)


def test_rerun_run_remeasures_but_keeps_artifacts(tmp_path, zb_env):
    out = tmp_path / "out"
    assert run_cli(["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(out)], env=zb_env).returncode == 0
    assert run_cli(["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(out), "--rerun", "run"],
                   env=zb_env).returncode == 0
    log = calls(zb_env)
    assert log.count("build fake_tiny") == 1
    assert log.count("run fake_tiny run:fake_numpy:int8") == 2


def test_missing_tool_skips_with_its_reason(tmp_path, zb_env):
    out = tmp_path / "out"
    proc = run_cli(["run", "-m", "fake_tiny", "-t", "fake_b", "-o", str(out)], env=zb_env)
    assert proc.returncode == 0
    records = rows(out)
    compile_status = stage_status(records, "fake_tiny@fake_b", "compile:fake_missing_tool")
    assert compile_status == ("skipped", "fakec not found on PATH")
    assert stage_status(records, "fake_tiny@fake_b", "run:fake_numpy:int8") == (
        "skipped", "compile:fake_missing_tool skipped: fakec not found on PATH")
    assert "fakec not found on PATH" in proc.stdout


def test_lifecycle_hooks_see_every_job(tmp_path, zb_env):
    out = tmp_path / "out"
    run_cli(["run", "-m", "fake_tiny,fake_fail", "-t", "fake_a", "-o", str(out)], env=zb_env)
    log = calls(zb_env)
    started = [line for line in log if line.startswith("job_started")]
    finished = [line.split()[1:3] for line in log if line.startswith("job_finished")]
    assert len(started) == 2
    assert sorted(finished) == [["fake_fail@fake_a", "failed"], ["fake_tiny@fake_a", "ok"]]


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "zoo_bench.cli", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(predicate, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not reached")


def test_ctrl_c_keeps_finished_jobs_and_leaves_no_partial_files(tmp_path, zb_env):
    out = tmp_path / "out"
    proc = _start(["run", "-m", "fake_tiny,fake_hang", "-t", "fake_a", "-o", str(out)], zb_env)
    _wait_for(lambda: "build fake_hang" in calls(zb_env))
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    records = rows(out)
    assert stage_status(records, "fake_tiny@fake_a", "run:fake_numpy:int8")[0] == "ok"
    assert stage_status(records, "fake_hang@fake_a", "source") == ("failed", "interrupted")
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    (manifest,) = out.glob("runs/*/run.json")
    assert '"status": "interrupted"' in manifest.read_text()


def test_kill_9_mid_run_loses_nothing_and_the_rerun_resumes_from_cache(tmp_path, zb_env):
    out = tmp_path / "out"
    args = ["run", "-m", "fake_tiny,fake_other", "-t", "fake_a", "-o", str(out), "-s", "sleep_s=0.05"]
    proc = _start(args, zb_env)
    _wait_for(lambda: "run fake_other run:fake_numpy:float32" in calls(zb_env))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = rows(out)
    assert {r["job_id"] for r in done} == {"fake_tiny@fake_a"}  # the finished job is intact
    assert not list(out.rglob("*.parquet.*"))
    time.sleep(1.5)  # let the orphaned stage process finish
    again = run_cli(args, env=zb_env)
    assert again.returncode == 0, again.stderr
    log = calls(zb_env)
    assert log.count("build fake_other") == 1 and log.count("quantize fake_other") == 1


def test_parallel_jobs_share_a_stage_without_doing_it_twice(tmp_path, zb_env):
    out = tmp_path / "out"
    proc = run_cli(["run", "-m", "fake_tiny", "-t", "fake_a,fake_b", "-o", str(out), "--jobs", "2"], env=zb_env)
    assert proc.returncode == 0, proc.stderr
    assert calls(zb_env).count("build fake_tiny") == 1
    sources = [r for r in rows(out) if r["stage"] == "source" and r["metric"] == "stage_seconds"]
    assert sorted(r["cached"] for r in sources) == [False, True]


def test_plugin_bugs_outside_stages_fail_one_job_not_the_run(tmp_path, zb_env):
    out = tmp_path / "out"
    zb_env["ZB_FAKE_BREAK"] = "plan,hook"
    proc = run_cli(["run", "-m", "fake_tiny", "-t", "fake_a,fake_b", "-o", str(out)], env=zb_env)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    records = rows(out)
    assert stage_status(records, "fake_tiny@fake_b", "plan") == (
        "failed", "target fake_b could not plan: RuntimeError: fake_b cannot plan today")
    assert stage_status(records, "fake_tiny@fake_a", "run:fake_numpy:int8")[0] == "ok"
    assert "zoo-bench: warning: a job_finished hook failed: KeyError" in proc.stderr


def test_a_crashing_availability_check_fails_only_its_stage(tmp_path, zb_env):
    out = tmp_path / "out"
    zb_env["ZB_FAKE_BREAK"] = "unavailable"
    proc = run_cli(["run", "-m", "fake_tiny", "-t", "fake_b", "-o", str(out)], env=zb_env)
    assert proc.returncode == 1
    records = rows(out)
    status, reason = stage_status(records, "fake_tiny@fake_b", "compile:fake_missing_tool")
    assert (status, reason) == ("failed", "ValueError: the availability check itself crashed")
    assert stage_status(records, "fake_tiny@fake_b", "run:fake_numpy:float32")[0] == "ok"


def test_rerun_redoes_a_shared_stage_once_per_run(tmp_path, zb_env):
    out = tmp_path / "out"
    args = ["run", "-m", "fake_tiny", "-t", "fake_a,fake_b", "-o", str(out)]
    assert run_cli(args, env=zb_env).returncode == 0
    assert run_cli(args + ["--rerun", "source"], env=zb_env).returncode == 0
    assert calls(zb_env).count("build fake_tiny") == 2


def test_fresh_remeasures_every_run_stage_and_the_summary_says_what_was_cached(tmp_path, zb_env):
    out = tmp_path / "out"
    args = ["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(out)]
    assert run_cli(args, env=zb_env).returncode == 0
    cached = run_cli(args, env=zb_env)
    lines = [ln for ln in cached.stdout.splitlines() if ln.startswith("fake_tiny")]
    assert len(lines) == 1 and all(ln.rstrip().endswith("cached") for ln in lines), cached.stdout  # one per job
    fresh = run_cli(args + ["--fresh"], env=zb_env)
    assert fresh.returncode == 0
    lines = [ln for ln in fresh.stdout.splitlines() if ln.startswith("fake_tiny")]
    assert len(lines) == 1 and not any(ln.rstrip().endswith("cached") for ln in lines), fresh.stdout
    log = calls(zb_env)
    assert log.count("run fake_tiny run:fake_numpy:int8") == 2
    assert log.count("run fake_tiny run:fake_numpy:float32") == 2
    assert log.count("build fake_tiny") == 1 and log.count("quantize fake_tiny") == 1  # artifacts reused
