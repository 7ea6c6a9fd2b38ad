"""The main job for real: `zoo-bench run --model mobilenet_v2_0.35_128 --target cpu`.

Keras builds the model (random weights, batch norm recalibrated), the TFLite converter
exports float and int8, LiteRT times both on this CPU. The second run must come from the
cache in a small fraction of the first run's time.
"""

from __future__ import annotations

import json
import time

import pyarrow.parquet as pq
import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.e2e


def test_mobilenet_on_cpu_then_again_from_cache(tmp_path, zb_env):
    out = tmp_path / "out"
    args = ["run", "--model", "mobilenet_v2_0.35_128", "--target", "cpu", "--output", str(out), "--runs", "20",
            "--json"]
    t0 = time.time()
    first = run_cli(args, env=zb_env, timeout=900)
    first_s = time.time() - t0
    assert first.returncode == 0, first.stdout + first.stderr
    run1 = json.loads(first.stdout)["run_id"]
    rows = [r for f in out.glob(f"runs/{run1}/jobs/*.parquet") for r in pq.read_table(f).to_pylist()]
    ok = [r for r in rows if r["status"] == "ok"]
    p50 = {r["variant"]: r for r in ok if r["metric"] == "latency_p50_ms"}
    assert set(p50) == {"float32", "int8"}
    for r in p50.values():
        assert r["method"] == "measured-host" and r["tool"] == "litert" and r["tool_version"]
        assert 0.05 < r["value"] < 500 and len(r["samples"]) == 20
    (params,) = [r for r in ok if r["metric"] == "params"]
    assert params["method"] == "measured-host" and abs(params["value"] - 1.66e6) / 1.66e6 < 0.02
    sizes = {r["variant"]: r["value"] for r in ok if r["metric"] == "model_size_kib"}
    assert sizes["int8"] < sizes["float32"] / 2.5  # int8 weights are a quarter of float32
    assert all(r["weights"] == "random" for r in rows)
    evaluate = [r for r in rows if r["stage"] == "evaluate:accuracy" and r["metric"] == "stage_seconds"]
    assert evaluate[0]["status"] == "skipped" and "--dataset" in evaluate[0]["reason"]

    t1 = time.time()
    second = run_cli(args, env=zb_env, timeout=900)
    second_s = time.time() - t1
    assert second.returncode == 0
    run2 = json.loads(second.stdout)["run_id"]
    again = [r for f in out.glob(f"runs/{run2}/jobs/*.parquet") for r in pq.read_table(f).to_pylist()]
    assert all(r["cached"] for r in again if r["status"] == "ok")
    print(f"first run {first_s:.1f}s, cached run {second_s:.1f}s ({100 * second_s / first_s:.0f}%)")
    assert second_s < 0.25 * first_s
