"""Scale of the executor (issue 13): `make bench`, or
`.venv/bin/python -m pytest benchmarks/test_scale.py --benchmark-enable --benchmark-only -s`.

- a no-op re-run of a cached matrix of 10 models x 4 targets (goal: under 2 s wall);
- planning and scheduling 10, 100, 1000, 10000 jobs whose stages start no process;
- a cold matrix of conversions with 2 local jobs against 1;
- the controlling process's peak memory on a cached re-run with every plugin loaded (goal:
  under 300 MB, no tensorflow or torch import).
Figures go to docs/performance.md; these are benchmarks, their assertions only check that the
figures were produced (and the memory and import goals).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import scale_plugin
from zoo_bench.execute import ExecutionOptions, LocalExecutor
from zoo_bench.plan import plan_jobs, resolve_targets
from zoo_bench.store import ResultsStore

MATRIX_TARGETS = ["fake_a", "fake_b", "fake_c", "fake_d"]


def _run(registry, tmp_path: Path, jobs, n_jobs: int = 2, cache: str = "cache"):
    store = ResultsStore(tmp_path / "out")
    executor = LocalExecutor(registry, store, ExecutionOptions(cache_dir=tmp_path / cache, jobs=n_jobs))
    results = executor.run(store.new_run({}), jobs)
    return executor, results


def test_noop_rerun_of_a_cached_10x4_matrix(benchmark, tmp_path):
    registry = scale_plugin.registry()
    jobs = plan_jobs(scale_plugin.models(registry, 10), resolve_targets(MATRIX_TARGETS, registry))
    assert len(jobs) == 40
    t0 = time.perf_counter()
    first, _ = _run(registry, tmp_path, jobs)
    benchmark.extra_info["cold_s"] = round(time.perf_counter() - t0, 2)
    benchmark.extra_info["cold_processes"] = first.processes.started

    def rerun():
        return _run(registry, tmp_path, jobs)

    executor, results = benchmark.pedantic(rerun, rounds=3, iterations=1)
    assert executor.processes.started == 0
    assert all(r.cached for res in results for r in res.records if r.status == "ok")


@pytest.mark.parametrize("n", [10, 100, 1000, 10000])
def test_plan_and_schedule_trivial_jobs(benchmark, tmp_path, n):
    registry = scale_plugin.registry()
    targets = resolve_targets(["bench_trivial"], registry)
    models = scale_plugin.models(registry, n, source="bench_skip")

    def plan_and_run():
        t0 = time.perf_counter()
        jobs = plan_jobs(models, targets)
        planned = time.perf_counter() - t0
        executor, results = _run(registry, tmp_path, jobs)
        return planned, executor, results

    planned, executor, results = benchmark.pedantic(plan_and_run, rounds=1 if n >= 1000 else 3, iterations=1)
    benchmark.extra_info["plan_s"] = round(planned, 4)
    assert len(results) == n and executor.processes.started == 0
    assert all(r.status == "skipped" for r in results)


@pytest.mark.parametrize("workers", [1, 2])
def test_cold_conversions_matrix(benchmark, tmp_path, workers, monkeypatch):
    """6 models built (1 s of waiting each, like a download) and quantized: stages that overlap."""
    monkeypatch.setenv("ZB_FAKE_BUILD_SLEEP", "1")
    registry = scale_plugin.registry()
    jobs = plan_jobs(scale_plugin.models(registry, 6), resolve_targets(["fake_conv"], registry))
    rounds = iter(range(100))

    def cold():
        return _run(registry, tmp_path, jobs, n_jobs=workers, cache=f"cache-{next(rounds)}")

    executor, results = benchmark.pedantic(cold, rounds=2, iterations=1)
    assert executor.processes.started == 12 and all(r.status == "ok" for r in results)


CONTROLLER = """
import resource, sys, time
sys.path[:0] = {paths!r}
import scale_plugin
from zoo_bench.execute import ExecutionOptions, LocalExecutor
from zoo_bench.plan import plan_jobs, resolve_targets
from zoo_bench.plugins import load_registry
from zoo_bench.store import ResultsStore
import zb_fake_plugin
registry = load_registry(extra_plugins=[("zb_fake_plugin", zb_fake_plugin), ("scale_plugin", scale_plugin)])
jobs = plan_jobs(scale_plugin.models(registry, 10), resolve_targets({targets!r}, registry))
store = ResultsStore({out!r})
for _ in range(2):  # cold, then the cached re-run
    t0 = time.perf_counter()
    LocalExecutor(registry, store, ExecutionOptions(cache_dir={cache!r}, jobs=2)).run(store.new_run({{}}), jobs)
heavy = [m for m in ("tensorflow", "torch") if m in sys.modules]
print("RESULT", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter() - t0, heavy)
"""


def test_controller_peak_memory(benchmark, tmp_path):
    """Every installed plugin (entry points) plus the fakes, a 10 x 4 matrix, cold then cached."""
    code = CONTROLLER.format(paths=sys.path[:2], targets=MATRIX_TARGETS, out=str(tmp_path / "out"),
                             cache=str(tmp_path / "cache"))

    def controller():
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    proc = benchmark.pedantic(controller, rounds=1, iterations=1)
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT"))
    rss_kib, rerun_s, heavy = line.split(" ", 3)[1:]
    benchmark.extra_info["controller_peak_rss_mib"] = round(int(rss_kib) / 1024, 1)
    benchmark.extra_info["rerun_s"] = round(float(rerun_s), 2)
    assert heavy == "[]"
    assert int(rss_kib) < 300 * 1024
