"""Reading a results store's job files: checked before use, since a store may be shared.

A job file is a regular Parquet file of a schema compatible with ours; its rows are checked
against the metric registry's domains (:func:`check_rows`): a row that cannot be true is shown
as failed with the reason, never as a figure. :func:`table_columns` turns any query result into
Python values without a traceback. :mod:`zoo_bench.store` re-exports these names.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import UsageError
from .safe_io import open_binary

if TYPE_CHECKING:
    import pyarrow as pa

#: Columns a job file must have to be read as results (older schema versions had all of them).
REQUIRED_COLUMNS = ("run_id", "model", "target", "stage", "metric", "value", "status")

Warn = Callable[[str], None]


def _stderr_warning(message: str) -> None:
    from .table import terminal_safe  # a shared store's file names may hold control characters

    print(f"zoo-bench: warning: {terminal_safe(message)}", file=sys.stderr)


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
