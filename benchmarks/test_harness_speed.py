"""Speed and memory of the harness itself (not of models): `make bench`.

Goals (docs/performance.md): a fully cached job costs well under 50 ms of harness time; one
uncached stage's process overhead stays under 1 s; writing a job's rows under 50 ms; the CLI
starts (registry with every plugin) in under 1 s and under 150 MiB.
"""

from __future__ import annotations

import resource
import subprocess
import sys

from zoo_bench.execute import ExecutionOptions, LocalExecutor
from zoo_bench.plan import plan_jobs, resolve_models, resolve_targets
from zoo_bench.plugins import load_registry
from zoo_bench.records import Record
from zoo_bench.store import ResultsStore


def _executor(tmp_path, registry):
    store = ResultsStore(tmp_path / "out")
    return store, LocalExecutor(registry, store, ExecutionOptions(cache_dir=tmp_path / "cache"))


def test_cached_job(benchmark, tmp_path):
    registry = load_registry()
    store, executor = _executor(tmp_path, registry)
    (job,) = plan_jobs(resolve_models(["fake_tiny"], registry), resolve_targets(["fake_a"], registry))
    run_id = store.new_run({})
    executor.run_job(run_id, job)  # fill the cache
    result = benchmark(executor.run_job, run_id, job)
    assert all(r.cached for r in result.records)


def test_uncached_stage_process(benchmark, tmp_path):
    registry = load_registry()
    store, executor = _executor(tmp_path, registry)
    (job,) = plan_jobs(resolve_models(["fake_tiny"], registry), resolve_targets(["fake_a"], registry))
    run_id = store.new_run({})
    spec = job.stages[0]

    def one_stage():
        executor.cache.clear()
        return executor.run_stage(run_id, job, spec, {})

    result = benchmark.pedantic(one_stage, rounds=5, iterations=1)
    assert result.status == "ok" and not result.cached


def test_write_job_rows(benchmark, tmp_path):
    store = ResultsStore(tmp_path)
    run_id = store.new_run({})
    rows = [Record(run_id=run_id, job_id="m@t", metric="latency_p50_ms", value=float(i), samples=[1.0] * 100)
            for i in range(40)]
    path = benchmark(store.write_job, run_id, "m@t", rows)
    assert path.exists()


def test_cli_startup(benchmark):
    code = ("import resource; from zoo_bench.cli import main\n"
            "try: main(['list', 'targets'])\n"
            "except SystemExit: pass\n"
            "import sys; print('RSS_KIB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)")

    def start():
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    proc = benchmark.pedantic(start, rounds=5, iterations=1)
    rss_kib = int(proc.stderr.split("RSS_KIB")[1].split()[0])
    benchmark.extra_info["cli_peak_rss_mib"] = round(rss_kib / 1024, 1)
    assert rss_kib < 150 * 1024
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 0
