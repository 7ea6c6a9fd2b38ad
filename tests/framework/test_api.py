"""``zoo_bench.api``: the Python API under ``zoo-bench run``, in process with the fake plugin."""

from __future__ import annotations

import json

import pytest
from zoo_bench import api
from zoo_bench.errors import UsageError


@pytest.fixture
def worker_env(zb_env, monkeypatch):
    for name in ("PYTHONPATH", "ZOO_BENCH_PLUGINS", "ZB_FAKE_LOG"):  # for the stage worker processes
        monkeypatch.setenv(name, zb_env[name])
    return zb_env


def test_plan_is_a_dry_run(fake_registry, tmp_path):
    planned = api.plan("fake_tiny", ["fake_a"], registry=fake_registry)
    assert [j.id for j in planned.jobs] == ["fake_tiny@fake_a"]
    assert planned.jobs[0].stages and not (tmp_path / "out").exists()


@pytest.mark.parametrize("kwargs, message", [
    ({"models": "no_such_model", "targets": "fake_a"}, "no_such_model"),
    ({"models": "fake_tiny", "targets": "no_such_target"}, "no_such_target"),
    ({"models": "fake_tiny", "targets": "fake_a", "options": {"no_such_option": "1"}}, "no_such_option"),
])
def test_plan_refuses_bad_input_like_the_cli(fake_registry, kwargs, message):
    with pytest.raises(UsageError, match=message):
        api.plan(registry=fake_registry, **kwargs)


@pytest.mark.parametrize("kwargs, message", [
    ({"jobs": 0}, "jobs 0"), ({"executor": "ray"}, "executor 'ray'"), ({"force": ["bake"]}, "force bake"),
    ({"address": "tcp://x:1"}, "--address needs --executor dask"),
])
def test_run_refuses_bad_settings_before_recording(fake_registry, tmp_path, kwargs, message):
    with pytest.raises(UsageError, match=message):
        api.run("fake_tiny", "fake_a", output=tmp_path / "out", registry=fake_registry, **kwargs)
    assert not (tmp_path / "out" / "runs").exists() or not any((tmp_path / "out" / "runs").iterdir())


def test_run_records_and_returns_the_rows(fake_registry, worker_env, tmp_path):
    seen = []
    result = api.run("fake_tiny", ["fake_a"], output=tmp_path / "out", cache_dir=tmp_path / "cache",
                     registry=fake_registry, on_start=lambda *a: seen.append(a), argv=["notebook"])
    assert seen == [(result.run_id, 1, result.run_dir)]
    assert result.counts == {"ok": 1, "failed": 0, "skipped": 0} and result.ok
    assert [r.job_id for r in result.results] == ["fake_tiny@fake_a"]
    rows = result.rows
    assert rows and {r["run_id"] for r in rows} == {result.run_id}
    assert {"metric", "value", "method", "stage"} <= set(rows[0])
    # the same rows as the store holds
    stored = result.store.read(result.run_id).to_pylist()
    assert sorted((r["stage"], r["metric"]) for r in stored) == sorted((r["stage"], r["metric"]) for r in rows)
    manifest = json.loads((result.run_dir / "run.json").read_text())
    assert manifest["status"] == "finished" and manifest["argv"] == ["notebook"]
    assert manifest["models"] == ["fake_tiny"] and manifest["targets"] == ["fake_a"]


def test_force_reruns_a_cached_stage(fake_registry, worker_env, tmp_path):
    kw = {"output": tmp_path / "out", "cache_dir": tmp_path / "cache", "registry": fake_registry}
    api.run("fake_tiny", "fake_a", **kw)
    again = api.run("fake_tiny", "fake_a", force={"run"}, **kw)
    stages = [r for r in again.rows if r["metric"] == "stage_seconds" and r["status"] == "ok"]
    assert {r["stage_kind"]: r["cached"] for r in stages}["run"] is False
    assert any(r["cached"] for r in stages if r["stage_kind"] != "run")


def test_a_relative_cache_dir_works(fake_registry, worker_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # stage processes run in their own work directories
    result = api.run("fake_tiny", "fake_a", output="out", cache_dir="cache", registry=fake_registry)
    assert result.counts["ok"] == 1 and (tmp_path / "cache").is_dir()
