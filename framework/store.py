"""The local results store: Parquet files under one directory, read with pyarrow or DuckDB.

Layout::

    <root>/runs/<run_id>/run.json            manifest: command, models, targets, status
    <root>/runs/<run_id>/jobs/<job>.parquet  one file per job, written atomically
    <root>/runs/<run_id>/logs/<job>/<stage>.log   logs of stages that failed

A job's file is written to a temporary name and renamed into place, so an interrupted run
leaves every finished job readable and no half-written file.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import UsageError
from .records import Record, to_table

DEFAULT_RESULTS_DIR = Path("zoo-bench-results")


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._@-]+", "_", text)


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class ResultsStore:
    def __init__(self, root: Path = DEFAULT_RESULTS_DIR):
        self.root = Path(root)

    # --- writing ----------------------------------------------------------------------------
    def new_run(self, manifest: dict[str, Any]) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        run_id = f"{stamp}-{secrets.token_hex(2)}"
        run_dir = self.run_dir(run_id)
        (run_dir / "jobs").mkdir(parents=True)
        self.write_manifest(run_id, {**manifest, "run_id": run_id, "status": "running",
                                     "started_at": datetime.now(UTC).isoformat()})
        return run_id

    def run_dir(self, run_id: str) -> Path:
        return self.root / "runs" / run_id

    def write_manifest(self, run_id: str, manifest: dict[str, Any]) -> None:
        data = json.dumps(manifest, indent=2, sort_keys=True, default=str).encode()
        _atomic_write_bytes(self.run_dir(run_id) / "run.json", data)

    def update_manifest(self, run_id: str, **changes: Any) -> None:
        manifest = self.manifest(run_id)
        manifest.update(changes)
        self.write_manifest(run_id, manifest)

    def write_job(self, run_id: str, job_id: str, records: list[Record]) -> Path:
        import pyarrow.parquet as pq

        path = self.run_dir(run_id) / "jobs" / f"{safe_name(job_id)}.parquet"
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        pq.write_table(to_table(records), tmp)
        os.replace(tmp, path)
        return path

    def log_path(self, run_id: str, job_id: str, stage_id: str) -> Path:
        path = self.run_dir(run_id) / "logs" / safe_name(job_id) / f"{safe_name(stage_id)}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    # --- reading ----------------------------------------------------------------------------
    def manifest(self, run_id: str) -> dict[str, Any]:
        try:
            return json.loads((self.run_dir(run_id) / "run.json").read_text())
        except FileNotFoundError:
            raise UsageError(f"no run {run_id!r} in {self.root} (see `zoo-bench results --list`)") from None

    def run_ids(self) -> list[str]:
        runs = self.root / "runs"
        if not runs.is_dir():
            return []
        return sorted(p.name for p in runs.iterdir() if (p / "run.json").is_file())

    def resolve_run(self, run_id: str | None) -> str:
        ids = self.run_ids()
        if not ids:
            raise UsageError(f"no runs in {self.root}; start one with `zoo-bench run`")
        if run_id in (None, "latest"):
            return ids[-1]
        matches = [i for i in ids if i.startswith(run_id)]
        if len(matches) != 1:
            raise UsageError(f"run {run_id!r} {'is ambiguous' if matches else 'not found'} in {self.root}")
        return matches[0]

    def job_files(self, run_id: str | None = None) -> list[Path]:
        if run_id is None:
            return sorted(self.root.glob("runs/*/jobs/*.parquet"))
        return sorted((self.run_dir(run_id) / "jobs").glob("*.parquet"))

    def read(self, run_id: str | None = None):
        """All rows of one run (or of every run) as a pyarrow Table."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        from .records import schema

        files = self.job_files(run_id)
        if not files:
            return schema().empty_table()
        return pa.concat_tables([pq.read_table(f, schema=schema()) for f in files])

    def query(self, sql: str, run_id: str | None = None):
        """Run SQL with DuckDB over a view ``results`` (all runs, or one run)."""
        import duckdb

        files = [str(f) for f in self.job_files(run_id)]
        if not files:
            raise UsageError(f"no results in {self.root}; start a run with `zoo-bench run`")
        con = duckdb.connect()
        con.execute(f"CREATE VIEW results AS SELECT * FROM read_parquet({files!r}, union_by_name=true)")
        try:
            relation = con.sql(sql)
            if relation is None:  # a statement that returns no rows
                import pyarrow as pa

                return pa.table({})
            # duckdb 2 names it to_arrow_table; duckdb 1 calls it arrow
            fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
            return fetch()
        except duckdb.Error as exc:
            raise UsageError(f"SQL error: {str(exc).splitlines()[0]}") from None
