"""`zoo-bench compare`: noise-aware verdicts, thresholds per kind of figure, run selection that ignores
killed runs, and the exit codes a nightly CI job acts on. Hand-made rows set up precise situations; the
CLI tests use rows the harness really wrote (fake plugin, real timings)."""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import pytest
from zoo_bench.errors import UsageError
from zoo_bench.records import Record
from zoo_bench.reports.compare import Thresholds, compare_rows
from zoo_bench.reports.noise import ratio_interval
from zoo_bench.store import ResultsStore

from tests.conftest import run_cli


def row(metric: str, value: float | None, status: str = "ok", **kw) -> dict:
    base = dict(model="m", target="t", stage="run:x:int8", stage_kind="run", variant="int8", metric=metric,
                value=value, status=status, method="measured-host", tool="x", tool_version="1", vendor="v",
                resolution=8, classes=10, weights="random")
    base.update(kw)
    return asdict(Record(**base))


def latency_row(samples: list[float], **kw) -> dict:
    return row("latency_p50_ms", float(np.median(samples)), samples=samples, **kw)


def verdicts(changes) -> dict[str, str]:
    return {c.key[3]: c.verdict for c in changes}


def test_thresholds_per_kind_latency_memory_and_accuracy_points():
    base = [row("latency_mean_ms", 10.0), row("weights_flash_kib", 100.0), row("top1_int8", 70.0, stage="ev"),
            row("top5_int8", 90.0, stage="ev")]
    new = [row("latency_mean_ms", 10.4), row("weights_flash_kib", 101.5), row("top1_int8", 69.4, stage="ev"),
           row("top5_int8", 89.8, stage="ev")]
    # defaults: latency +5 % (4 % is not), memory +1 % (1.5 % is), accuracy -0.5 point (-0.6 is, -0.2 is not)
    assert verdicts(compare_rows(base, new)) == {"latency_mean_ms": "same", "weights_flash_kib": "regression",
                                                 "top1_int8": "regression", "top5_int8": "same"}
    loose = Thresholds(latency_pct=3, memory_pct=2, accuracy_points=1)
    assert verdicts(compare_rows(base, new, loose)) == {"latency_mean_ms": "regression", "weights_flash_kib": "same",
                                                        "top1_int8": "same", "top5_int8": "same"}


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1.0])
def test_a_threshold_that_is_not_a_finite_non_negative_number_is_a_usage_error(value):
    with pytest.raises(UsageError, match="--latency-threshold must be a finite number"):
        Thresholds(latency_pct=value)


def test_a_shift_beyond_threshold_but_within_noise_is_noise_and_a_clear_one_a_regression():
    rng = np.random.default_rng(1)
    noisy_base = list(rng.lognormal(np.log(10), 0.5, 30))
    noisy_new = list(rng.permutation(noisy_base) * 1.08)  # +8 % median, lost in a 50 % spread
    (change,) = compare_rows([latency_row(noisy_base)], [latency_row(noisy_new)])
    assert change.delta_pct > 5 and change.verdict == "noise"
    assert change.interval.low < 1 < change.interval.high
    steady_base = list(rng.normal(10, 0.1, 30))
    steady_new = list(rng.permutation(steady_base) * 1.08)
    (change,) = compare_rows([latency_row(steady_base)], [latency_row(steady_new)])
    assert change.verdict == "regression" and change.interval.low > 1.0


def test_tail_and_mean_of_sampled_latencies_are_reported_not_judged():
    """A loaded machine moves the tails of a distribution (p99 of 40 runs is nearly its maximum) without any
    change of the build; with samples, the median decides."""
    rng = np.random.default_rng(2)
    b = list(rng.normal(10, 0.1, 30))
    base = [latency_row(b), row("latency_p99_ms", 10.3), row("latency_mean_ms", 10.0)]
    new = [latency_row(b), row("latency_p99_ms", 14.0), row("latency_mean_ms", 11.0)]
    found = {c.key[3]: (c.verdict, c.reason) for c in compare_rows(base, new)}
    assert found["latency_p99_ms"] == ("same", "judged by the median (latency_p50_ms) of the same samples")
    assert found["latency_mean_ms"][0] == "same" and found["latency_p50_ms"][0] == "same"
    # without samples (a tool's single figure) the mean is judged on its own
    (mean,) = compare_rows([row("latency_mean_ms", 10.0)], [row("latency_mean_ms", 11.0)])
    assert mean.verdict == "regression"


def test_bootstrap_interval_is_reproducible_and_refuses_too_few_samples():
    a, b = [1.0, 1.1, 0.9, 1.0, 1.05, 0.95], [1.2, 1.3, 1.1, 1.2, 1.25, 1.15]
    assert ratio_interval("latency_p50_ms", a, b) == ratio_interval("latency_p50_ms", a, b)
    assert ratio_interval("latency_p50_ms", a[:3], b[:3]) is None


def test_a_stage_that_stopped_working_is_broken_and_its_figures_are_not_repeated_as_gone():
    base = [row("stage_seconds", 1.0), row("latency_mean_ms", 3.0)]
    new = [row("stage_seconds", None, status="failed", reason="boom")]
    (change,) = compare_rows(base, new)
    assert (change.verdict, change.new_status, change.reason) == ("broken", "failed", "boom")


def test_a_figure_the_new_run_lacks_is_gone():
    (change,) = compare_rows([row("latency_mean_ms", 3.0)], [])
    assert change.verdict == "gone"


def test_multi_thread_rows_of_one_stage_are_matched_by_thread_count():
    base = [row("latency_mean_ms", 4.0, extra={"threads": 1}), row("latency_mean_ms", 2.0, extra={"threads": 4})]
    new = [row("latency_mean_ms", 4.0, extra={"threads": 1}), row("latency_mean_ms", 3.0, extra={"threads": 4})]
    found = {c.key[5]: c.verdict for c in compare_rows(base, new)}
    assert found == {"threads=1": "same", "threads=4": "regression"}


# --- the CLI, on rows the harness wrote -----------------------------------------------------------------------

def fake_run(out, env, *more: str):
    proc = run_cli(["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(out), "-q", *more], env=env)
    assert proc.returncode == 0, proc.stderr
    return proc


def test_same_build_twice_compares_clean_and_a_slower_runner_is_a_regression(tmp_path, zb_env):
    """Real timings of the fake numpy runner: two fresh measurements of the same build must not disagree;
    the third run sleeps 20 ms per inference (the same model made slower) and must fail CI."""
    out = tmp_path / "out"
    for _ in range(2):
        fake_run(out, zb_env, "--rerun", "run", "-s", "runs=30", "-s", "sleep_s=0.002")
    clean = run_cli(["compare", "-o", str(out), "--json"], env=zb_env)
    failures = [c for c in json.loads(clean.stdout)["changes"] if c["verdict"] in ("regression", "broken", "gone")]
    assert clean.returncode == 0 and not failures, failures
    fake_run(out, zb_env, "--rerun", "run", "-s", "runs=30", "-s", "sleep_s=0.02")
    slow = run_cli(["compare", "-o", str(out), "--json"], env=zb_env)
    assert slow.returncode == 1
    found = {(c["stage"], c["metric"]): c for c in json.loads(slow.stdout)["changes"]}
    p50 = found[("run:fake_numpy:float32", "latency_p50_ms")]
    assert p50["verdict"] == "regression" and p50["noise_interval"]["low"] > 1.05
    markdown = run_cli(["compare", "-o", str(out), "--markdown"], env=zb_env)
    assert markdown.returncode == 1 and "**zoo-bench compare: ❌ regression**" in markdown.stdout
    assert "| fake_tiny | fake_a | run:fake_numpy:float32 | latency_p50_ms |" in markdown.stdout
    assert run_cli(["compare", "-o", str(out), "--exit-zero"], env=zb_env).returncode == 0


def test_a_killed_run_is_not_the_latest_and_an_unfinished_new_run_fails(tmp_path, zb_env):
    """Issue 7 item 5: a killed run keeps status `running` (what new_run writes before any job); compare must
    take the latest finished run by default, and fail when asked to judge an unfinished one (all `gone`)."""
    out = tmp_path / "out"
    fake_run(out, zb_env)
    fake_run(out, zb_env)
    killed = ResultsStore(out).new_run({"argv": ["zoo-bench", "run"], "models": ["fake_tiny"], "targets": ["fake_a"]})
    default = run_cli(["compare", "-o", str(out), "--json"], env=zb_env)
    assert default.returncode == 0, default.stdout + default.stderr
    assert json.loads(default.stdout)["new"] != killed
    explicit = run_cli(["compare", "-o", str(out), "latest", killed, "--json"], env=zb_env)
    assert explicit.returncode == 1
    report = json.loads(explicit.stdout)
    assert report["new_status"] == "running" and {c["verdict"] for c in report["changes"]} == {"gone"}
    legacy = run_cli(["compare", "-o", str(out), "latest", killed, "--fail-on-regression"], env=zb_env)
    assert legacy.returncode == 1 and "did not finish" in legacy.stderr


def test_cached_measurements_are_flagged_and_an_error_with_require_fresh(tmp_path, zb_env):
    out = tmp_path / "out"
    fake_run(out, zb_env)
    fake_run(out, zb_env)  # served from the cache
    report = run_cli(["compare", "-o", str(out), "--all"], env=zb_env)
    assert report.returncode == 0
    assert "served from the cache, not re-measured (run with --rerun run" in report.stderr
    assert "same (cached)" in report.stdout
    strict = run_cli(["compare", "-o", str(out), "--require-fresh"], env=zb_env)
    assert strict.returncode == 2 and "--require-fresh" in strict.stderr and "Traceback" not in strict.stderr


@pytest.mark.parametrize("args", [["--latency-threshold", "nan"], ["--memory-threshold", "inf"],
                                  ["--accuracy-threshold", "-1"], ["--json", "--markdown"]])
def test_bad_compare_options_are_one_line_usage_errors(tmp_path, zb_env, args):
    out = tmp_path / "out"
    fake_run(out, zb_env)
    fake_run(out, zb_env)
    proc = run_cli(["compare", "-o", str(out), *args], env=zb_env)
    assert proc.returncode == 2 and proc.stderr.startswith("zoo-bench: error:")
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.e2e
def test_two_real_runs_of_the_same_build_compare_clean(tmp_path):
    """Issue 12: the smallest catalog model on the host CPU (LiteRT), built once and measured twice with
    --rerun run; the noise-aware comparison must find no regression between the two measurements."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("ZOO_BENCH_")}
    env["ZOO_BENCH_CACHE"] = str(tmp_path / "cache")
    out = tmp_path / "out"
    for _ in range(2):
        proc = run_cli(["run", "-m", "mobilenet_v2_0.35_128", "-t", "cpu", "-o", str(out), "-q", "--rerun", "run",
                        "--runs", "40", "--threads", "1"], env=env)
        assert proc.returncode == 0, proc.stderr
    # The two measurements are minutes apart: on a busy 2-core CI machine the median itself can move
    # by more than the default 5 % (seen once with other tests running beside it), so this test
    # allows 20 %; the regression test above slows a model far beyond that.
    report = run_cli(["compare", "-o", str(out), "--json", "--require-fresh", "--latency-threshold", "20"], env=env)
    changes = json.loads(report.stdout)["changes"]
    failures = [c for c in changes if c["verdict"] in ("regression", "broken", "gone")]
    assert report.returncode == 0 and not failures, failures
