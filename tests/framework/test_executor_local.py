"""The local executor over the shared stage runner, in process, with the fake plugin.

Covers: a cached re-run starts no stage process; a skip the controlling process can decide
(no data set) starts none either; host timings never overlap another stage while conversions
overlap each other; rows say whether the stage had its device alone.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from zoo_bench.execute import ExecutionOptions, LocalExecutor
from zoo_bench.plan import plan_jobs, resolve_models, resolve_targets
from zoo_bench.store import ResultsStore


@pytest.fixture
def worker_env(zb_env, monkeypatch):
    for name in ("PYTHONPATH", "ZOO_BENCH_PLUGINS", "ZB_FAKE_LOG"):  # for the stage worker processes
        monkeypatch.setenv(name, zb_env[name])
    return zb_env


def _run(registry, tmp_path: Path, models: list[str], targets: list[str], **opts):
    jobs = plan_jobs(resolve_models(models, registry), resolve_targets(targets, registry))
    store = ResultsStore(tmp_path / "out")
    executor = LocalExecutor(registry, store, ExecutionOptions(cache_dir=tmp_path / "cache", **opts))
    run_id = store.new_run({})
    results = executor.run(run_id, jobs)
    return executor, [r for res in results for r in res.records]


def _stage_rows(records):
    return [r for r in records if r.metric == "stage_seconds"]


def test_a_cached_rerun_starts_no_stage_process(fake_registry, worker_env, tmp_path):
    first, _ = _run(fake_registry, tmp_path, ["fake_tiny"], ["fake_a", "fake_b"], jobs=2)
    assert first.processes.started == 5  # build, quantize (shared), three runs; fake_b's compile is a skip
    again, records = _run(fake_registry, tmp_path, ["fake_tiny"], ["fake_a", "fake_b"], jobs=2)
    assert again.processes.started == 0
    ok = [r for r in _stage_rows(records) if r.status == "ok"]
    assert len(ok) == 7 and all(r.cached for r in ok)  # build and quantize are rows of both jobs


def test_no_dataset_is_decided_without_a_process():
    from zoo_bench.builtin.accuracy import AccuracyEvaluator

    reason = AccuracyEvaluator().unavailable_reason(None, {"runner": "litert", "threads": 1})
    assert reason == "no --dataset given: accuracy not measured"


def _interval(row):
    return row.started_at, row.started_at + timedelta(seconds=row.duration_s)


def test_timings_run_alone_and_conversions_overlap(fake_registry, worker_env, tmp_path, monkeypatch):
    monkeypatch.setenv("ZB_FAKE_BUILD_SLEEP", "2")
    _, records = _run(fake_registry, tmp_path, ["fake_tiny", "fake_other"], ["fake_a"], jobs=2,
                      options={"sleep_s": 0.02})
    executed = [r for r in _stage_rows(records) if r.status == "ok" and not r.cached]
    assert len(executed) == 8
    extra = {id(r): json.loads(r.extra) for r in executed}
    runs = [r for r in executed if r.stage_kind == "run"]
    for run in runs:
        start, end = _interval(run)
        for other in executed:
            if other is not run:
                o_start, o_end = _interval(other)
                assert o_end <= start or o_start >= end, f"{other.job_id} {other.stage} overlapped {run.stage}"
        assert extra[id(run)]["exclusive"] is True and extra[id(run)]["device"] == "host"
    builds = [r for r in executed if r.stage_kind == "source"]
    (a_start, a_end), (b_start, b_end) = (_interval(b) for b in builds)
    assert a_start < b_end and b_start < a_end, "the two 2 s builds should have run side by side"
    assert all(extra[id(b)]["exclusive"] is False for b in builds)
    latency = [r for r in records if r.metric == "latency_p50_ms"]
    assert latency and all(json.loads(r.extra)["exclusive"] is True for r in latency)


def test_memory_heavy_stages_do_not_start_beyond_the_budget(fake_registry, worker_env, tmp_path, monkeypatch):
    monkeypatch.setenv("ZB_FAKE_BUILD_SLEEP", "1")
    source = fake_registry.component("source", "fake")
    monkeypatch.setattr(type(source), "peak_memory_mb", 3000)
    _, records = _run(fake_registry, tmp_path, ["fake_tiny", "fake_other"], ["fake_a"], jobs=2, memory_mb=4000)
    builds = [r for r in _stage_rows(records) if r.stage_kind == "source"]
    assert [r.status for r in builds] == ["ok", "ok"]
    (a_start, a_end), (b_start, b_end) = (_interval(b) for b in builds)
    assert a_end <= b_start or b_end <= a_start, "two 3000 MB builds ran at once in a 4000 MB budget"
