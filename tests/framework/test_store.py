"""The results store: explicit schema, atomic job files, pandas/DuckDB access, `zoo-bench results`."""

from __future__ import annotations

from dataclasses import fields

import pyarrow.parquet as pq
from zoo_bench.records import COLUMNS, SCHEMA_VERSION, Record, schema, to_table
from zoo_bench.store import ResultsStore

from tests.conftest import run_cli


def test_schema_is_written_down_and_matches_the_record_type():
    assert [f.name for f in fields(Record)] == list(COLUMNS)
    s = schema()
    assert s.names == list(COLUMNS)
    assert s.metadata[b"zoo_bench_schema_version"] == str(SCHEMA_VERSION).encode()
    assert str(s.field("samples").type) == "list<item: double>"
    assert str(s.field("started_at").type) == "timestamp[us, tz=UTC]"


def test_empty_and_failed_rows_keep_the_schema(tmp_path):
    table = to_table([Record(metric="stage_seconds", status="skipped", reason="tool missing")])
    assert table.schema == schema()
    assert table.column("value").to_pylist() == [None]


def test_job_files_are_atomic_and_readable_with_pandas_and_duckdb(tmp_path):
    store = ResultsStore(tmp_path)
    run_id = store.new_run({"models": ["m"], "targets": ["t"]})
    store.write_job(run_id, "m@t", [Record(run_id=run_id, job_id="m@t", model="m", target="t", metric="latency_p50_ms",
                                           value=1.5, unit="ms", method="measured-host", samples=[1.4, 1.5, 1.6])])
    assert [p.name for p in (tmp_path / "runs" / run_id / "jobs").iterdir()] == ["m@t.parquet"]
    df = pq.read_table(next(tmp_path.glob("runs/*/jobs/*.parquet"))).to_pandas()
    assert df.loc[0, "value"] == 1.5 and list(df.loc[0, "samples"]) == [1.4, 1.5, 1.6]
    got = store.query("select model, value from results where metric = 'latency_p50_ms'").to_pylist()
    assert got == [{"model": "m", "value": 1.5}]


def test_results_command_prints_a_run_and_answers_sql(tmp_path, zb_env):
    out = tmp_path / "out"
    assert run_cli(["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(out), "-q"], env=zb_env).returncode == 0
    table = run_cli(["results", "-o", str(out)], env=zb_env)
    assert table.returncode == 0
    p50 = [line for line in table.stdout.splitlines() if "latency_p50_ms" in line]
    assert len(p50) == 2 and all("measured-host" in line for line in p50)
    sql = run_cli(["results", "-o", str(out), "--sql",
                   "select count(*) as n from results where metric = 'params'"], env=zb_env)
    assert sql.returncode == 0 and sql.stdout.split()[-1] == "1"
    bad = run_cli(["results", "-o", str(out), "--sql", "selec nonsense"], env=zb_env)
    assert bad.returncode == 2 and bad.stderr.startswith("zoo-bench: error: SQL error")
    runs = run_cli(["results", "-o", str(out), "--list"], env=zb_env)
    assert "finished" in runs.stdout
