"""Per-layer rows (zoo_bench.layers): checked where they enter, written apart from the results per job,
read back typed; a planted or foreign layers file costs only its own rows."""

from __future__ import annotations

import json
import math

import pyarrow as pa
import pyarrow.parquet as pq
from zoo_bench.layers import SCHEMA, clean_layers, read_layers
from zoo_bench.store import ResultsStore

from tests.conftest import run_cli


def test_clean_layers_keeps_the_schema_and_refuses_impossible_numbers():
    rows = clean_layers([
        {"name": "conv", "op": "Conv2D", "placement": "npu", "cycles": 100, "time_share": 0.5, "vendor_col": "x"},
        {"name": "bad", "cycles": math.nan, "time_ms": -1.0, "time_share": 3.0, "memory_bytes": math.inf},
        {"op": "no name"}, "not a dict", {"name": ""},
    ])
    assert [r["name"] for r in rows] == ["conv", "bad"]
    assert rows[0]["placement"] == "NPU" and rows[0]["cycles"] == 100.0 and json.loads(rows[0]["extra"]) == {
        "vendor_col": "x"}
    assert all(rows[1][k] is None for k in ("cycles", "time_ms", "time_share", "memory_bytes"))
    assert clean_layers("not a list") == [] and clean_layers(None) == []


def test_a_run_writes_each_jobs_layers_apart_from_its_rows(tmp_path, zb_env):
    out = tmp_path / "out"
    assert run_cli(["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(out), "-q"], env=zb_env).returncode == 0
    store = ResultsStore(out)
    run_id = store.run_ids()[-1]
    files = sorted((store.run_dir(run_id) / "layers").glob("*.parquet"))
    assert [f.name for f in files] == ["fake_tiny@fake_a.parquet"]
    assert pq.read_schema(files[0]).metadata[b"zoo_bench_layers_schema"] == b"1"
    layers = read_layers(out, [run_id])
    by_stage = {(r["stage"], r["name"]): r for r in layers}
    assert {name for _, name in by_stage} == {"dense_1", "dense_2"}
    dense_1 = next(r for r in layers if r["name"] == "dense_1")
    assert dense_1["macs"] == 8 * 8 * 3 * 16 and dense_1["memory_bytes"] == 8 * 8 * 3 * 16 * 4
    assert dense_1["model"] == "fake_tiny" and dense_1["target"] == "fake_a" and dense_1["method"] == "measured-host"
    assert "layers" not in {c for r in store.read(run_id).to_pylist() for c in r}  # not in the results table
    # a second run served from the cache still has its layers, marked cached
    assert run_cli(["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(out), "-q"], env=zb_env).returncode == 0
    again = read_layers(out, [store.run_ids()[-1]])
    assert len(again) == len(layers) and all(r["cached"] for r in again)


def test_a_foreign_or_planted_layers_file_is_skipped_with_a_warning(tmp_path):
    folder = tmp_path / "runs" / "r1" / "layers"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"name": ["x"]}), folder / "foreign.parquet")
    (folder / "garbage.parquet").write_bytes(b"not parquet")
    good = {n: None for n in SCHEMA.names} | {"name": "ok", "model": "m", "target": "t", "stage": "s",
                                                "cycles": -5.0, "index": 0}
    pq.write_table(pa.Table.from_pylist([good], schema=SCHEMA), folder / "good.parquet")
    (folder / "link.parquet").symlink_to(folder / "good.parquet")
    warnings: list[str] = []
    rows = read_layers(tmp_path, ["r1"], warnings.append)
    assert [r["name"] for r in rows] == ["ok"] and rows[0]["cycles"] is None  # a negative count is no count
    assert len(warnings) == 3 and all("skipped layers file" in w for w in warnings)


def test_the_dask_executor_writes_the_same_layers(tmp_path, zb_env):
    out = tmp_path / "out"
    proc = run_cli(["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(out), "-q", "--executor", "dask"],
                   env=dict(zb_env, ZOO_BENCH_CACHE=str(tmp_path / "cache")))
    assert proc.returncode == 0, proc.stderr
    store = ResultsStore(out)
    layers = read_layers(out, [store.run_ids()[-1]])
    stages = {r["stage"] for r in layers}
    assert stages and sorted(r["name"] for r in layers) == sorted(["dense_1", "dense_2"] * len(stages))
