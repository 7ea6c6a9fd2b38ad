"""The results store: explicit schema, atomic job files, pandas/DuckDB access, `zoo-bench results`."""

from __future__ import annotations

from dataclasses import fields

import pyarrow.parquet as pq
import pytest
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


# --- issue 7: injection, sandboxed SQL, bad files, full disk ---------------------------------

def _one_row_job(store: ResultsStore, run_id: str, value: float) -> None:
    store.write_job(run_id, "m@t", [Record(run_id=run_id, job_id="m@t", model="m", target="t", metric="latency_p50_ms",
                                           value=value, unit="ms", method="measured-host")])


def test_sql_view_is_built_without_pasting_paths(tmp_path, monkeypatch):
    """Before: a folder name under runs/ was pasted into the view's SQL text and ran as SQL."""
    from tests.framework.hardening import INJECTION_DIR

    monkeypatch.chdir(tmp_path)
    store = ResultsStore(tmp_path / "store")
    _one_row_job(store, store.new_run({}), 1.0)
    (store.root / "runs" / INJECTION_DIR / "jobs").mkdir(parents=True)
    _one_row_job(store, INJECTION_DIR, 2.0)
    got = store.query("select value from results order by value").to_pylist()
    assert got == [{"value": 1.0}, {"value": 2.0}]  # the odd folder is data, not SQL
    assert not list(tmp_path.rglob("pwn.csv"))


@pytest.mark.parametrize("sql", [
    "select * from read_csv('/etc/passwd')",
    "select * from read_text('/etc/hostname')",
    "COPY (SELECT 42) TO 'pwn.csv'",
    "ATTACH 'pwn.db'",
    "SET enable_external_access = true",
    "INSTALL httpfs",
])
def test_user_sql_reads_the_results_and_nothing_else(sql, tmp_path, monkeypatch):
    """Before: --sql ran with DuckDB's file access on (read any file, COPY ... TO anywhere)."""
    from zoo_bench.errors import UsageError

    monkeypatch.chdir(tmp_path)
    store = ResultsStore(tmp_path / "store")
    _one_row_job(store, store.new_run({}), 1.0)
    with pytest.raises(UsageError, match="SQL error") as err:
        store.query(sql)
    assert "\n" not in str(err.value)
    assert not list(tmp_path.glob("pwn*"))


def test_sql_errors_through_the_cli_are_one_line(tmp_path, zb_env):
    from tests.framework.hardening import make_store

    out = make_store(tmp_path / "out", zb_env)
    for sql in ("select * from read_csv('/etc/passwd')", "COPY (SELECT 42) TO 'pwn.csv'"):
        proc = run_cli(["results", "-o", str(out), "--sql", sql], env=zb_env, cwd=tmp_path)
        assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert "disabled by configuration" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "pwn.csv").exists()


def test_bad_files_in_the_store_are_skipped_with_one_warning_each(tmp_path, zb_env):
    """Before: one corrupt, empty or foreign .parquet broke results, --sql, compare and card for the whole
    store, and a bad run.json broke --list."""
    from tests.framework.hardening import make_store, spoil_store

    out = make_store(tmp_path / "out", zb_env)
    make_store(out, zb_env)  # a second run, for compare
    bad = spoil_store(out)
    commands = {
        "results": ["results", "-o", str(out)],
        "sql": ["results", "-o", str(out), "--sql", "select count(*) as n from results where metric='latency_p50_ms'"],
        "list": ["results", "-o", str(out), "--list"],
        "compare": ["compare", "-o", str(out)],
        "card": ["card", "-o", str(out), "--cards-dir", str(tmp_path / "cards")],
    }
    parquet = [path for kind, path in bad.items() if not kind.startswith("run_json")]
    for name, args in commands.items():
        proc = run_cli(args, env=zb_env)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, (name, proc.stderr)
        warnings = [line for line in proc.stderr.splitlines() if line.startswith("zoo-bench: warning: skipped")]
        named = {path: sum(str(path) in w for w in warnings) for path in bad.values()}
        assert all(named[p] == (0 if name == "list" else 1) for p in parquet), (name, proc.stderr)
        assert all(named[bad[k]] == (0 if name == "sql" else 1) for k in ("run_json", "run_json_list")), \
            (name, proc.stderr)
        assert len(warnings) == sum(named.values()), (name, proc.stderr)  # nothing else warned
        if name == "results":
            assert sum("latency_p50_ms" in line for line in proc.stdout.splitlines()) == 2
        if name == "sql":
            assert proc.stdout.split()[-1] == "4"  # 2 runs x 2 latency rows, nothing from the bad files
        if name == "list":
            assert proc.stdout.count("finished") == 2 and "20990101T000000Z-dead" not in proc.stdout
        if name == "card":
            assert (tmp_path / "cards" / "fake_tiny.md").is_file()


def test_read_results_helper_reads_a_store_a_run_or_a_file(tmp_path):
    """issue 8: pd.read_parquet("zoo-bench-results/runs") fails beside run.json; read_results works."""
    from zoo_bench.store import read_results

    store = ResultsStore(tmp_path / "zoo-bench-results")
    run_id = store.new_run({})
    _one_row_job(store, run_id, 1.5)
    (store.run_dir(run_id) / "jobs" / "junk.parquet").write_bytes(b"PAR1 not really")
    warned: list[str] = []
    for where in (store.root, store.root / "runs", store.run_dir(run_id), store.run_dir(run_id) / "jobs",
                  store.run_dir(run_id) / "jobs" / "m@t.parquet"):
        table = read_results(where, warn=warned.append)
        assert table.schema == schema() and table.column("value").to_pylist() == [1.5], where
    assert len(warned) == 4 and all("junk.parquet" in w for w in warned)
    assert read_results(store.root, warn=warned.append).to_pandas().loc[0, "model"] == "m"


def test_full_disk_keeps_every_job_rows_and_says_where(tmp_path, zb_env):
    """Before: a write error under -o lost the job's rows (and with --jobs 2 crashed the run)."""
    from zoo_bench.store import read_results

    from tests.framework.hardening import ENOSPC, run_cli_with_fault

    out, tmp = tmp_path / "out", tmp_path / "tmp"
    tmp.mkdir()
    env = dict(zb_env, TMPDIR=str(tmp))
    args = ["run", "-m", "fake_tiny,fake_other", "-t", "fake_a", "-o", str(out), "-q", "--jobs", "2"]
    proc = run_cli_with_fault(args, [f"{out}/runs/*/jobs/*"], ENOSPC, env)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "could not be written" in line]
    assert len(lines) == 2 and all("No space left on device" in line and "kept in" in line for line in lines)
    kept = sorted(tmp.glob("zoo-bench-unsaved/*/*.parquet"))
    assert [p.name for p in kept] == ["fake_other@fake_a.parquet", "fake_tiny@fake_a.parquet"]
    rows = read_results(kept[0].parent).to_pylist()
    assert {r["model"] for r in rows if r["metric"] == "latency_p50_ms" and r["value"] > 0} == {"fake_tiny",
                                                                                                 "fake_other"}
    # the fallback fails too: the rows come out on stdout, nothing is lost
    proc = run_cli_with_fault(args, [f"{out}/runs/*/jobs/*", "*/zoo-bench-unsaved", "*/zoo-bench-unsaved/*"], ENOSPC,
                              env)
    assert proc.returncode == 1 and "printed on stdout as JSON lines" in proc.stderr, proc.stderr
    import json

    printed = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert {r["model"] for r in printed if r["metric"] == "latency_p50_ms"} == {"fake_tiny", "fake_other"}


def test_a_job_file_resaved_by_pandas_is_still_read(tmp_path):
    """Compatible types (int64 classes, ns timestamps, large strings) are read; a string value is not."""
    from zoo_bench.store import check_job_file, read_results

    store = ResultsStore(tmp_path)
    run_id = store.new_run({})
    path = store.write_job(run_id, "m@t", [Record(run_id=run_id, model="m", metric="params", value=3.0,
                                                  classes=5, started_at=None)])
    df = pq.read_table(path).to_pandas()
    df["classes"] = df["classes"].astype("int64")
    df.to_parquet(path)
    assert check_job_file(path) is None
    assert read_results(tmp_path).column("classes").to_pylist() == [5]
    df["value"] = df["value"].astype(str)
    df.to_parquet(path)
    assert "column 'value' is large_string, expected double" in check_job_file(path)
