"""The local results store: Parquet files under one directory, read with pyarrow or DuckDB.

Layout::

    <root>/runs/<run_id>/run.json            manifest: command, models, targets, status
    <root>/runs/<run_id>/jobs/<job>.parquet  one file per job, written atomically
    <root>/runs/<run_id>/logs/<job>/<stage>.log   logs of stages that failed

A job's file is written to a temporary name and renamed into place, so an interrupted run
leaves every finished job readable and no half-written file.

A store may be shared (a network folder, a CI artefact), so what is in it is not trusted
(docs/security.md): a corrupt, empty or foreign Parquet file, or a bad ``run.json``, is
skipped with one warning naming it, and ``--sql`` runs over rows already read, in a DuckDB
that can touch no file.
"""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import UsageError
from .paths import ensure_writable_dir, path_error, short_path
from .records import Record, to_table
from .safe_io import load_json, write_bytes
from .store_read import (  # noqa: F401  (the store's readers, re-exported)
    REQUIRED_COLUMNS,
    Warn,
    _first_line,
    _read_files,
    _stderr_warning,
    check_job_file,
    check_rows,
    read_job_file,
    read_results,
    table_columns,
    table_rows,
)

if TYPE_CHECKING:
    import pyarrow as pa

DEFAULT_RESULTS_DIR = Path("zoo-bench-results")
#: DuckDB settings of a ``--sql`` connection: no file, network or extension access, locked so the
#: user's SQL cannot switch them back on.
SQL_SANDBOX = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "python_enable_replacements": False,
    "lock_configuration": True,
}
#: Set when the ``--sql`` connection is made, before the user's SQL: no temp directory at all.
#: DuckDB's default (``.tmp`` of the working directory) stays reachable with external access
#: off, so ``COPY ... TO '.tmp/x'`` and ``ATTACH`` wrote there, and a ``.tmp`` symlink shipped
#: in a cloned repository reached any folder. The store's queries are small and need no spill.
SQL_CONNECT_CONFIG = {"temp_directory": ""}



def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._@-]+", "_", text)


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    write_bytes(path, data)


class ResultsStore:
    """The results folder of ``zoo-bench run -o DIR``; ``warn`` receives one line per skipped file."""

    def __init__(self, root: Path = DEFAULT_RESULTS_DIR, warn: Warn | None = None):
        self.root = Path(root)
        self.warn: Warn = warn or _stderr_warning
        self._warned: set[str] = set()
        #: job id -> (rows, where they went instead, why the store refused them)
        self.unsaved: dict[str, tuple[list[Record], Path | None, str]] = {}

    def _warn_once(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            self.warn(message)

    # --- writing ----------------------------------------------------------------------------
    def check_writable(self) -> None:
        """Raise :class:`UsageError` unless results can be written under the root (made if missing)."""
        ensure_writable_dir(self.root / "runs", "-o", shown=self.root)

    def new_run(self, manifest: dict[str, Any]) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        run_id = f"{stamp}-{secrets.token_hex(2)}"
        run_dir = self.run_dir(run_id)
        try:
            (run_dir / "jobs").mkdir(parents=True)
            self.write_manifest(run_id, {**manifest, "run_id": run_id, "status": "running",
                                         "started_at": datetime.now(UTC).isoformat()})
        except OSError as exc:
            why = path_error(exc, self.root)
            raise UsageError(f"cannot write results to {short_path(self.root)} (-o): {why}") from None
        return run_id

    def run_dir(self, run_id: str) -> Path:
        return self.root / "runs" / run_id

    def write_manifest(self, run_id: str, manifest: dict[str, Any]) -> None:
        data = json.dumps(manifest, indent=2, sort_keys=True, default=str).encode()
        _atomic_write_bytes(self.run_dir(run_id) / "run.json", data)

    def update_manifest(self, run_id: str, **changes: Any) -> bool:
        """Merge ``changes`` into run.json; on a write error, warn and return False (rows matter more)."""
        try:
            manifest = self.manifest(run_id)
        except UsageError:
            manifest = {"run_id": run_id}
        manifest.update(changes)
        try:
            self.write_manifest(run_id, manifest)
        except OSError as exc:
            self._warn_once(f"could not update {self.run_dir(run_id) / 'run.json'}: {exc.strerror or exc}")
            return False
        return True

    def write_job(self, run_id: str, job_id: str, records: list[Record]) -> Path | None:
        """Write a job's rows atomically; return the file.

        A write error (full disk, read-only folder) does not lose the rows: they go to a
        fallback file in the system temp folder (returned), or, if that fails too, stay in
        :attr:`unsaved` with ``None`` as their place; the run goes on either way.
        """
        path = self.run_dir(run_id) / "jobs" / f"{safe_name(job_id)}.parquet"
        try:
            _write_parquet(records, path)
            return path
        except OSError as exc:
            why = f"{exc.strerror or _first_line(exc)} ({errno.errorcode.get(exc.errno or 0, 'OSError')})"
        fallback: Path | None = Path(tempfile.gettempdir()) / "zoo-bench-unsaved" / safe_name(run_id) / path.name
        try:
            fallback.parent.mkdir(parents=True, exist_ok=True)
            _write_parquet(records, fallback)
        except OSError:
            fallback = None
        self.unsaved[job_id] = (records, fallback, why)
        return fallback

    def unsaved_report(self, rows_on_stdout: bool = True) -> list[str]:
        """One line per job whose rows are not under the root: the error and where they are."""
        lines = []
        for job_id, (_records, fallback, why) in self.unsaved.items():
            where = f"kept in {fallback}" if fallback else (
                "printed on stdout as JSON lines" if rows_on_stdout else "in the JSON summary")
            lines.append(f"rows of {job_id} could not be written to {short_path(self.root)}: {why}; {where}")
        return lines

    def unsaved_json(self) -> dict[str, Any]:
        """Jobs whose rows are not under the root: why, where they are, and the rows when nowhere else."""
        from dataclasses import asdict

        return {job_id: {"reason": why, "kept_in": str(fallback) if fallback else None,
                         "rows": None if fallback else [asdict(r) for r in records]}
                for job_id, (records, fallback, why) in self.unsaved.items()}

    def log_path(self, run_id: str, job_id: str, stage_id: str) -> Path:
        path = self.run_dir(run_id) / "logs" / safe_name(job_id) / f"{safe_name(stage_id)}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    # --- reading ----------------------------------------------------------------------------
    def manifest(self, run_id: str) -> dict[str, Any]:
        path = self.run_dir(run_id) / "run.json"
        try:
            data = load_json(path)  # a pipe, a huge or deeply nested file: refused, never a hang
        except FileNotFoundError:
            raise UsageError(f"no run {run_id!r} in {self.root} (see `zoo-bench results --list`)") from None
        except (OSError, ValueError) as exc:
            raise UsageError(f"run {run_id!r}: {path} is not readable JSON ({_first_line(exc)})") from None
        if not isinstance(data, dict):
            raise UsageError(f"run {run_id!r}: {path} is not a run manifest (a JSON object)")
        return data

    def run_ids(self) -> list[str]:
        """Runs with a readable run.json, oldest first; a bad run.json is skipped with a warning."""
        runs = self.root / "runs"
        if not runs.is_dir():
            return []
        ids = []
        for p in sorted(runs.iterdir()):
            if not (p / "run.json").is_file():
                continue
            try:
                self.manifest(p.name)
            except UsageError as exc:
                self._warn_once(f"skipped {exc}")
                continue
            ids.append(p.name)
        return ids

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

    def read(self, run_id: str | None = None) -> pa.Table:
        """All rows of one run (or of every run) as a pyarrow Table; bad files are skipped with a warning."""
        return _read_files(self.job_files(run_id), self._warn_once)

    def query(self, sql: str, run_id: str | None = None) -> pa.Table:
        """Run SQL with DuckDB over a view ``results`` (all runs, or one run).

        The rows are read (and checked) by pyarrow first and handed to DuckDB as a table, so
        no path is ever written into SQL text; the connection then has file, network and
        extension access switched off and locked (:data:`SQL_SANDBOX`): the user's SQL can read
        ``results`` and nothing else.
        """
        import duckdb
        import pyarrow as pa

        if not self.job_files(run_id):
            raise UsageError(f"no results in {self.root}; start a run with `zoo-bench run`")
        table = self.read(run_id)
        con = duckdb.connect(":memory:", config=dict(SQL_CONNECT_CONFIG))
        try:
            con.register("results", table)
            for name, value in SQL_SANDBOX.items():  # lock_configuration last: the dict keeps order
                con.execute(f"SET {name} = {'true' if value else 'false'}")
            relation = con.sql(sql)
            if relation is None:  # a statement that returns no rows
                return pa.table({})
            # duckdb 2 names it to_arrow_table; duckdb 1 calls it arrow
            fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
            return fetch()
        except duckdb.Error as exc:
            raise UsageError(f"SQL error: {_first_line(exc)}") from None
        finally:
            con.close()


def _write_parquet(records: list[Record], path: Path) -> None:
    """Write to a hidden temporary name in the same folder, then rename into place."""
    import pyarrow.parquet as pq

    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        # a fresh name, never through a link planted in a shared store (O_EXCL | O_NOFOLLOW);
        # a Python file object, so a write error surfaces as OSError
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        with os.fdopen(fd, "wb") as fh:
            pq.write_table(to_table(records), fh)
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise
