"""The cache verifies what it serves and validates what it reads (issue 7 items 6, 7 and 8).

A changed artifact, a result.json of the wrong shape or with a string figure, and a worker that
returns a string figure each fail one entry or one stage, with a warning, never the run; staging
folders left by dead runs are counted and removed.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import textwrap
import time
from pathlib import Path

import pytest
from zoo_bench.cache import ArtifactCache

from tests.conftest import run_cli
from tests.framework.test_harness import calls, rows, stage_status


def _key(out: Path, job: str, stage: str) -> str:
    """The cache key a stage was stored under (from its rows)."""
    (row,) = [r for r in rows(out) if r["job_id"] == job and r["stage"] == stage and r["metric"] == "stage_seconds"]
    return row["cache_key"]


def test_a_changed_cached_artifact_is_evicted_and_recomputed(tmp_path, zb_env):
    """The issue's case: the float model copied over the cached int8 one."""
    out, cache = tmp_path / "out", ArtifactCache(Path(zb_env["ZOO_BENCH_CACHE"]))
    args = ["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(out)]
    assert run_cli(args, env=zb_env).returncode == 0
    source = cache.entry_dir(_key(out, "fake_tiny@fake_a", "source"))
    quant = cache.entry_dir(_key(out, "fake_tiny@fake_a", "quantize:fake_int8"))
    shutil.copyfile(source / "fake_tiny.npz", quant / "int8.npz")
    again = run_cli(args + ["--json"], env=zb_env)
    assert again.returncode == 0, again.stderr
    assert "does not match its recorded sha256 (changed on disk); evicted, recomputing" in again.stderr
    assert calls(zb_env).count("quantize fake_tiny") == 2 and calls(zb_env).count("build fake_tiny") == 1
    run2 = json.loads(again.stdout)["run_id"]
    (q,) = [r for r in rows(out) if r["run_id"] == run2 and r["stage"] == "quantize:fake_int8"
            and r["metric"] == "stage_seconds"]
    assert q["status"] == "ok" and not q["cached"]
    third = run_cli(args, env=zb_env)  # healed: served from the cache without a warning
    assert third.returncode == 0 and "warning" not in third.stderr


def test_a_cached_input_changed_before_use_is_recomputed(tmp_path, zb_env, monkeypatch):
    """In process: the source's artifact changes after it was made, before quantize reads it."""
    import zb_fake_plugin
    from zoo_bench.execute import ExecutionOptions, LocalExecutor
    from zoo_bench.plan import plan_jobs, resolve_models, resolve_targets
    from zoo_bench.plugins import load_registry
    from zoo_bench.progress import Progress
    from zoo_bench.store import ResultsStore

    for name in ("PYTHONPATH", "ZOO_BENCH_PLUGINS", "ZB_FAKE_LOG"):  # for the stage worker processes
        monkeypatch.setenv(name, zb_env[name])
    registry = load_registry(extra_plugins=[("fake", zb_fake_plugin)], entry_points=False)
    (job,) = plan_jobs(resolve_models(["fake_tiny"], registry), resolve_targets(["fake_a"], registry))
    warnings: list[str] = []
    progress = Progress(stream=None)
    progress.warn = warnings.append  # type: ignore[method-assign]
    store = ResultsStore(tmp_path / "out")
    executor = LocalExecutor(registry, store, ExecutionOptions(cache_dir=tmp_path / "c2"), progress)
    run_id = store.new_run({})
    src, quant = job.stages[0], next(s for s in job.stages if s.kind == "quantize")
    done = {src.id: executor.run_stage(run_id, job, src, {})}
    assert done[src.id].status == "ok"
    done[src.id].artifact.path.write_bytes(b"not the model")
    result = executor.run_stage(run_id, job, quant, done)
    assert result.status == "ok", result.reason
    assert calls(zb_env).count("build fake_tiny") == 2
    assert any("the cached output of source is not what was recorded" in w for w in warnings)


def _damage(result_file: Path, how: str) -> None:
    data = json.loads(result_file.read_text())
    if how == "no_started_at":
        del data["started_at"]
    elif how == "string_figure":
        data["figures"][0]["value"] = "fast"
    elif how == "path_escape":
        data["artifact"]["path"] = "../../../../etc/hostname"
    result_file.write_text("{not json" if how == "not_json" else json.dumps(data))


@pytest.mark.parametrize(("source_damage", "other_damage"),
                         [("no_started_at", "string_figure"), ("not_json", "path_escape")])
def test_an_invalid_result_json_is_a_miss_evicted_with_a_warning(tmp_path, zb_env, source_damage, other_damage):
    out, cache = tmp_path / "out", ArtifactCache(Path(zb_env["ZOO_BENCH_CACHE"]))
    args = ["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(out)]
    assert run_cli(args, env=zb_env).returncode == 0
    other = "run:fake_numpy:int8" if other_damage == "string_figure" else "quantize:fake_int8"
    _damage(cache.entry_dir(_key(out, "fake_tiny@fake_a", "source")) / "result.json", source_damage)
    _damage(cache.entry_dir(_key(out, "fake_tiny@fake_a", other)) / "result.json", other_damage)
    again = run_cli(args, env=zb_env)
    assert again.returncode == 0, again.stderr
    assert again.stderr.count("is invalid") == 2 and "evicted, recomputing" in again.stderr
    assert "Traceback" not in again.stderr
    log = calls(zb_env)
    assert log.count("build fake_tiny") == 2
    if other_damage == "string_figure":
        assert log.count("run fake_tiny run:fake_numpy:int8") == 2
    else:
        assert log.count("quantize fake_tiny") == 2
    healed = run_cli(args, env=zb_env)
    assert healed.returncode == 0 and "warning" not in healed.stderr


BAD_PLUGIN = '''
from zoo_bench import Figure, Runner, StageOutput, Target, hookimpl

class StringFigureRunner(Runner):
    """Returns a figure whose value is a string (a plugin bug)."""
    name = "zb_string_figure"
    accepts = ("npz",)

    def run(self, ctx):
        return StageOutput(figures=[Figure("latency_p50_ms", "12.5", "ms", "measured-host", "zb", "1")])

class BadTarget(Target):
    def plan(self, model, p):
        return [p.run(p.source(), "zb_string_figure")]

@hookimpl
def zoo_bench_register_runners(register):
    register(StringFigureRunner())

@hookimpl
def zoo_bench_register_targets(register):
    register(BadTarget(id="bad_t", vendor="fakes", device_class="CPU"))
'''


def test_a_string_figure_fails_its_stage_and_never_the_other_job(tmp_path, zb_env):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "zb_bad_plugin.py").write_text(textwrap.dedent(BAD_PLUGIN))
    zb_env["PYTHONPATH"] = os.pathsep.join([str(plugins), zb_env["PYTHONPATH"]])
    zb_env["ZOO_BENCH_PLUGINS"] = "zb_fake_plugin,zb_bad_plugin"
    out = tmp_path / "out"
    proc = run_cli(["run", "-m", "fake_tiny", "-t", "bad_t,fake_a", "-o", str(out), "--jobs", "2"], env=zb_env)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    records = rows(out)
    status, reason = stage_status(records, "fake_tiny@bad_t", "run:zb_string_figure:float32")
    assert status == "failed"
    assert reason == ("zb_string_figure returned an invalid result: figure 'latency_p50_ms' has value '12.5' "
                      "(str), not a number or null")
    assert stage_status(records, "fake_tiny@fake_a", "run:fake_numpy:int8")[0] == "ok"
    assert stage_status(records, "fake_tiny@bad_t", "source")[0] == "ok"


def test_stale_staging_folders_are_counted_and_removed(tmp_path, zb_env):
    cache = ArtifactCache(Path(zb_env["ZOO_BENCH_CACHE"])).open()
    tmp = cache.root / "tmp"
    old = time.time() - 2 * 3600
    names = {"dead": "a" * 64 + "-111-deadbeef", "fresh": "b" * 64 + "-222-cafebabe",
             "locked": "c" * 64 + "-333-0badf00d", "trash": "old-" + "d" * 64 + "-12345678"}
    for kind, name in names.items():
        (tmp / name).mkdir()
        (tmp / name / "model.bin").write_bytes(b"x" * 4096)
        if kind != "fresh":
            os.utime(tmp / name, (old, old))
    with open(cache.root / "locks" / f"{'c' * 64}.lock", "w") as held:  # a live run builds this one
        fcntl.flock(held, fcntl.LOCK_EX)
        info = run_cli(["cache", "info"], env=zb_env)
        assert info.returncode == 0
        assert "4 staging folders (2 left by dead runs, removed by the next run)" in info.stdout
        proc = run_cli(["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(tmp_path / "out")], env=zb_env)
        assert proc.returncode == 0
        assert "removed 2 staging folders" in proc.stderr
        left = sorted(p.name for p in tmp.iterdir())
    assert left == sorted([names["fresh"], names["locked"]])
