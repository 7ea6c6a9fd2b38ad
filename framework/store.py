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
import math
import os
import re
import secrets
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import UsageError
from .paths import ensure_writable_dir, path_error, short_path
from .records import Record, to_table
from .safe_io import load_json, open_binary, write_bytes

if TYPE_CHECKING:
    import pyarrow as pa

DEFAULT_RESULTS_DIR = Path("zoo-bench-results")
#: Columns a job file must have to be read as results (older schema versions had all of them).
REQUIRED_COLUMNS = ("run_id", "model", "target", "stage", "metric", "value", "status")
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

Warn = Callable[[str], None]


def _stderr_warning(message: str) -> None:
    from .table import terminal_safe  # a shared store's file names may hold control characters

    print(f"zoo-bench: warning: {terminal_safe(message)}", file=sys.stderr)


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._@-]+", "_", text)


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    write_bytes(path, data)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def check_job_file(path: Path) -> str | None:
    """Why ``path`` is not a readable job file of this store (``None`` when it is).

    Checks the footer and the column types against :func:`~zoo_bench.records.schema` without
    reading the rows, so a foreign file is refused rather than read as rows of nulls and a
    string ``value`` is refused rather than parsed.
    """
    import pyarrow.parquet as pq

    from .records import schema

    try:
        with open_binary(path) as fh:  # a named pipe or a device is refused, never blocks
            found = pq.read_schema(fh)
    except Exception as exc:  # ArrowInvalid, OSError: anything unreadable is skipped
        return f"not a readable Parquet file ({_first_line(exc)})"
    missing = [c for c in REQUIRED_COLUMNS if c not in found.names]
    if missing:
        return f"not a zoo-bench job file (no column {', '.join(missing)})"
    expected = schema()
    for name in found.names:
        if name not in expected.names:
            continue  # a newer schema's extra column: read the known ones
        have, want = found.field(name).type, expected.field(name).type
        if not _compatible(have, want):
            return f"column {name!r} is {have}, expected {want}"
    return None


def _compatible(have, want) -> bool:
    """``have`` converts to ``want`` without parsing or losing meaning (e.g. a file re-saved by
    pandas: int64 classes, ns timestamps); a string where a number belongs does not."""
    import pyarrow as pa

    t = pa.types
    if have.equals(want) or t.is_null(have):
        return True
    for kind in (t.is_string, t.is_timestamp, t.is_boolean):
        if kind(want):
            return kind(have) or (kind is t.is_string and t.is_large_string(have))
    if t.is_integer(want):  # pandas stores a nullable int column as float64; 5.0 casts, 5.5 fails the read
        return t.is_integer(have) or t.is_floating(have)
    if t.is_floating(want):
        return t.is_floating(have) or t.is_integer(have)
    if t.is_list(want):
        return (t.is_list(have) or t.is_large_list(have)) and _compatible(have.value_type, want.value_type)
    return False


#: Latest ``started_at`` a row may carry (Python's datetime ends at year 9999).
_MAX_TIME_US = 253402300799 * 1_000_000
#: Columns that must be non-empty in every row (a row without them cannot be shown or joined).
NAMED_COLUMNS = ("model", "metric")


def check_rows(table: pa.Table, path: Path | str = "", warn: Warn | None = None) -> pa.Table:
    """Check a job file's rows; raise ``ValueError`` for a file that cannot be read as rows
    (an empty name, a time past year 9999, more than a job's rows nested), else return the
    table with every row whose figure cannot be true turned into a failed row with the reason.

    A row cannot be true when its status or method is unknown (it is no figure), or its value
    lies outside its metric's domain (``metrics.py``: a NaN, infinite, zero or negative latency,
    a negative size...). Such rows keep their place, with ``value`` null, status ``failed``
    and the reason; ``warn`` hears one line per file that had any.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from .components import METHODS
    from .metrics import get_metrics
    from .records import STATUSES

    for name in NAMED_COLUMNS:
        column = table.column(name)
        if column.null_count or (len(column) and pc.any(pc.equal(pc.utf8_length(column), 0)).as_py()):
            raise ValueError(f"a row has an empty {name}")
    times = table.column("started_at")
    if times.null_count < len(times):
        micros = pc.cast(pc.cast(times, pa.timestamp("us")), pa.int64())
        low, high = pc.min(micros).as_py(), pc.max(micros).as_py()
        if high is not None and (high > _MAX_TIME_US or low < -62135596800 * 1_000_000):
            raise ValueError("a row's started_at is outside years 1-9999")
    duration = table.column("duration_s").to_pylist()
    if any(d is not None and not (math.isfinite(d) and d >= 0) for d in duration):
        raise ValueError("a row's duration_s is not a non-negative finite number")
    metrics = get_metrics()
    values = table.column("value").to_pylist()
    statuses = table.column("status").to_pylist()
    methods = table.column("method").to_pylist()
    names = table.column("metric").to_pylist()
    reasons = table.column("reason").to_pylist()
    bad = []
    for i, (value, status, method, name) in enumerate(zip(values, statuses, methods, names, strict=True)):
        if status not in STATUSES:
            problem = f"unknown status {status!r}: not a figure"
        elif status == "ok" and name != "stage_seconds" and method not in METHODS and value is not None:
            problem = f"unknown method {method!r}: not a figure"
        elif status == "ok" or value is not None:
            problem = metrics.problem(name, value)
        else:
            problem = None
        if problem:
            bad.append(problem)
            values[i], statuses[i] = None, "failed"
            reasons[i] = f"refused when read: {problem}" + (f" ({reasons[i]})" if reasons[i] else "")
    if not bad:
        return table
    if warn:
        more = f" and {len(bad) - 1} more" if len(bad) > 1 else ""
        warn(f"{path}: {len(bad)} row(s) with a figure that cannot be true shown as failed ({bad[0]}{more})")
    for name, column in (("value", values), ("status", statuses), ("reason", reasons)):
        index = table.schema.get_field_index(name)
        table = table.set_column(index, table.schema.field(index), pa.array(column, table.schema.field(index).type))
    return table


def read_job_file(path: Path, warn: Warn | None = None) -> pa.Table:
    """One job file as a table of the current schema (columns it lacks are null), its rows
    checked (:func:`check_rows`)."""
    import pyarrow.parquet as pq

    from .records import schema

    reason = check_job_file(path)
    if reason:
        raise ValueError(reason)
    with open_binary(path) as fh:
        table = pq.read_table(fh, schema=schema())
    return check_rows(table, path, warn)


def read_results(path: str | Path, warn: Warn | None = None) -> pa.Table:
    """Every result row under ``path`` as one pyarrow Table (no pandas needed).

    ``path`` is a store root (``zoo-bench-results``), its ``runs`` folder, one run's folder,
    a ``jobs`` folder or one ``.parquet`` file. Files that are not job files of this store
    (corrupt, empty, foreign) are skipped, each with one warning naming it (``warn``, default:
    a line on stderr). Use ``.to_pandas()`` or ``.to_pylist()`` on the result::

        from zoo_bench.store import read_results
        df = read_results("zoo-bench-results").to_pandas()
    """
    path = Path(path)
    if path.is_file():
        files = [path]
    elif (path / "runs").is_dir():
        files = sorted((path / "runs").glob("*/jobs/*.parquet"))
    elif (path / "jobs").is_dir():
        files = sorted((path / "jobs").glob("*.parquet"))
    elif path.is_dir():
        files = sorted(path.glob("*/jobs/*.parquet")) or sorted(path.glob("*.parquet"))
    else:
        raise UsageError(f"no results at {path} (give a results folder, a run folder or a .parquet file)")
    return _read_files(files, warn or _stderr_warning)


def _read_files(files: list[Path], warn: Warn) -> pa.Table:
    import pyarrow as pa

    from .records import schema

    tables = []
    for f in files:
        if f.name.startswith("."):  # a job file being written (see write_job)
            continue
        try:
            tables.append(read_job_file(f, warn))
        except Exception as exc:  # one bad file must not hide the others
            warn(f"skipped {f}: {_first_line(exc)}")
    if not tables:
        return schema().empty_table()
    return pa.concat_tables(tables)


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


def table_columns(table: pa.Table) -> tuple[list[str], list[list[Any]]]:
    """Headers (made unique: ``a``, ``a_2``) and the columns of any table as Python values.

    What an SQL query returns can hold values Python cannot represent (DuckDB's ``infinity``
    timestamp, year 10000, a ``date`` of 2^31 days): such a column is shown as Arrow's text for
    it instead, never a traceback.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    headers: list[str] = []
    seen: dict[str, int] = {}
    for name in table.column_names:
        name = name or "column"
        seen[name] = seen.get(name, 0) + 1
        headers.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    columns = []
    for column in table.columns:
        try:
            values = column.to_pylist()
        except (OverflowError, ValueError, TypeError, NotImplementedError, pa.ArrowException):
            try:
                values = pc.cast(column, pa.string()).to_pylist()
            except pa.ArrowException:
                values = [str(v) for v in column]
        columns.append(values)
    return headers, columns


def table_rows(table: pa.Table) -> tuple[list[str], list[list[Any]]]:
    """:func:`table_columns` as rows."""
    headers, columns = table_columns(table)
    return headers, [list(row) for row in zip(*columns, strict=True)] if columns else []


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
