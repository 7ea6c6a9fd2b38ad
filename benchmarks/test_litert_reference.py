"""The harness's LiteRT latency against LiteRT's own `benchmark_litert_model.py`, interleaved.

The model is built by the harness (`zoo-bench run --model mobilenet_v2_0.35_128 --target cpu`,
the small model of the test suite); then, three times in turn, the harness re-measures it
(`--rerun run`, its `litert` runner in a fresh stage process) and LiteRT's tool times the same
int8 .tflite with the same thread count and run count. Note the two use different LiteRT APIs:
the harness the ``Interpreter`` (XNNPACK delegate by default), the tool the ``CompiledModel``
API with the CPU accelerator. Goal: medians within 3 %. The figures
are written to ``extra_info``; the assertion only checks that both were produced.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ai_edge_litert")
pytest.importorskip("tensorflow")

MODEL = "mobilenet_v2_0.35_128"
THREADS = 1
RUNS = 50
#: Harness/reference pairs, interleaved (on a shared machine the load drifts between them).
PAIRS = 5


def _zoo_bench(args: list[str], env: dict[str, str]) -> dict:
    proc = subprocess.run([sys.executable, "-m", "zoo_bench.cli", "run", "--model", MODEL, "--target", "cpu",
                           "--threads", str(THREADS), "--runs", str(RUNS), "--json", "-q", *args],
                          env=env, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-2000:])
    return json.loads(proc.stdout)


def _harness_int8_median(out: Path, run_id: str) -> tuple[float, str]:
    import pyarrow.parquet as pq

    rows = [r for f in sorted((out / "runs" / run_id / "jobs").glob("*.parquet")) for r in pq.read_table(f).to_pylist()]
    (row,) = [r for r in rows if r["metric"] == "latency_p50_ms" and r["stage"].startswith("run:litert:int8")]
    return row["value"], row["input_sha256"]


def test_harness_latency_against_benchmark_litert_model(benchmark, tmp_path):
    env = dict(os.environ, ZOO_BENCH_CACHE=str(tmp_path / "cache"), ZOO_BENCH_PLUGINS="")
    out = tmp_path / "out"
    first = _zoo_bench(["-o", str(out)], env)
    _, sha = _harness_int8_median(out, first["run_id"])
    model = next(p for p in (tmp_path / "cache").glob("*/*/*.tflite")
                 if "int8" in p.name and _sha256(p) == sha)
    import ai_edge_litert

    tool = Path(ai_edge_litert.__file__).parent / "tools" / "benchmark_litert_model.py"
    harness, reference = [], []

    def interleaved():
        for i in range(PAIRS):
            again = _zoo_bench(["-o", str(out), "--rerun", "run"], env)
            harness.append(_harness_int8_median(out, again["run_id"])[0])
            result = tmp_path / f"ref{i}.json"
            subprocess.run([sys.executable, str(tool), "--model", str(model), "--num_threads", str(THREADS),
                            "--num_runs", str(RUNS), "--warmup_runs", "5", "--result_json", str(result)],
                           check=True, capture_output=True, timeout=600)
            reference.append(_median_ms(json.loads(result.read_text())))

    benchmark.pedantic(interleaved, rounds=1, iterations=1)
    h, r = statistics.median(harness), statistics.median(reference)
    pairs = statistics.median(a / b for a, b in zip(harness, reference, strict=True))
    benchmark.extra_info.update(harness_p50_ms=harness, reference_median_ms=reference,
                                difference_pct=round(100 * (h - r) / r, 2),
                                median_pair_difference_pct=round(100 * (pairs - 1), 2), model=model.name,
                                threads=THREADS)
    assert h > 0 and r > 0


def _median_ms(result: dict) -> float:
    for key in ("median_ms", "inference_median_ms", "median"):
        if key in result:
            return float(result[key])
    for value in result.values():
        if isinstance(value, dict):
            for key in ("median_ms", "median"):
                if key in value:
                    return float(value[key])
    raise AssertionError(f"no median in benchmark_litert_model's JSON: {sorted(result)}")


def _sha256(path: Path) -> str:
    from zoo_bench.components import file_sha256

    return file_sha256(path)
