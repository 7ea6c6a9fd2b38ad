"""`zoo-bench fidelity` and `zoo-bench fit` as users run them (subprocesses)."""

from __future__ import annotations

import json
import time

import pytest
from zoo_bench.records import Record
from zoo_bench.store import ResultsStore

from ...conftest import run_cli
from .conftest import synthetic_points, workload

pytest.importorskip("scipy")


def test_fidelity_json_reports_every_point_and_the_holdout(tmp_path):
    pfile, wfile = synthetic_points(tmp_path, n=10, noise=0.04)
    proc = run_cli(["fidelity", "--points", str(pfile), "--workloads", str(wfile), "--json"])
    assert proc.returncode == 0, proc.stderr
    (entry,) = json.loads(proc.stdout)["targets"]
    kinds = [p["kind"] for p in entry["points"]]
    assert kinds.count("fit") == 10 and kinds.count("holdout") == 1
    assert entry["summary"]["lomo_median_abs_error_pct"] < 15
    assert entry["summary"]["goal_met"] is True


def test_fidelity_of_the_shipped_data_runs_in_seconds():
    t0 = time.perf_counter()
    proc = run_cli(["fidelity"])
    assert proc.returncode == 0, proc.stderr
    assert time.perf_counter() - t0 < 30
    assert "latency_mean_ms" in proc.stdout and "LOMO" in proc.stdout


def test_fidelity_unknown_target_is_a_usage_error(tmp_path):
    pfile, wfile = synthetic_points(tmp_path)
    proc = run_cli(["fidelity", "--points", str(pfile), "--workloads", str(wfile), "--target", "nope"])
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "board1" in proc.stderr


def test_fit_adds_measured_board_rows_to_the_fit(tmp_path):
    """A store holding rows labelled measured-board (as a board runner writes them) for a model
    outside the points file, and the estimate row of the same job carrying its workload."""
    pfile, wfile = synthetic_points(tmp_path, n=8)
    store = ResultsStore(tmp_path / "results")
    run_id = store.new_run({"models": ["newnet"], "targets": ["board1"]})
    w = workload(3e6, 1e6, 30)
    rows = [Record(run_id=run_id, job_id="newnet@board1", model="newnet", target="board1", stage="run:board:npu",
                   stage_kind="run", metric="latency_mean_ms", value=11.0, unit="ms", method="measured-board",
                   tool="board_runner", tool_version="1"),
            Record(run_id=run_id, job_id="newnet@board1", model="newnet", target="board1", stage="run:est:estimate",
                   stage_kind="run", metric="latency_mean_ms", value=8.9, unit="ms", method="model-estimate",
                   tool="zoo-bench-estimate:est", tool_version="1.0", extra={"workload": w})]
    store.write_job(run_id, "newnet@board1", rows)
    out = tmp_path / "measured.json"
    proc = run_cli(["fit", "--target", "board1", "-o", str(tmp_path / "results"), "--points", str(pfile),
                    "--workloads", str(wfile), "--points-out", str(out), "--json"])
    assert proc.returncode == 0, proc.stderr
    written = json.loads(out.read_text())
    assert [p["value"] for p in written["points"]] == [11.0]
    (entry,) = json.loads(proc.stdout)["targets"]
    fitted = [p["model"] for p in entry["points"] if p["kind"] == "fit"]
    assert any(m.startswith("measured:newnet@board1") for m in fitted) and len(fitted) == 9


def test_fit_without_board_rows_is_a_usage_error(tmp_path):
    pfile, wfile = synthetic_points(tmp_path)
    store = ResultsStore(tmp_path / "results")
    run_id = store.new_run({"models": ["m"], "targets": ["cpu"]})
    store.write_job(run_id, "m@cpu", [Record(run_id=run_id, job_id="m@cpu", model="m", target="cpu", stage="run:x",
                                             metric="latency_mean_ms", value=1.0, unit="ms", method="measured-host",
                                             tool="litert", tool_version="1")])
    proc = run_cli(["fit", "--target", "board1", "-o", str(tmp_path / "results"), "--points", str(pfile),
                    "--workloads", str(wfile)])
    assert proc.returncode == 2 and "no measured-board" in proc.stderr
