"""The results schema: one row per figure, written down here and versioned.

Every stage of every job yields at least one row (metric ``stage_seconds``, the stage's wall
time) carrying its status and, when failed or skipped, the reason; each figure the stage
produced is one more row. The pyarrow schema is built from :class:`Record`, never inferred
from data. Bump :data:`SCHEMA_VERSION` when a column changes meaning or type.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

SCHEMA_VERSION = 1
STATUSES = ("ok", "failed", "skipped")

#: column -> (arrow type name, description). The order is the column order on disk.
COLUMNS: dict[str, tuple[str, str]] = {
    "schema_version": ("int16", "version of this schema"),
    "run_id": ("string", "id of the `zoo-bench run` invocation"),
    "job_id": ("string", "model@target"),
    "model": ("string", "catalog name or file name of the model"),
    "target": ("string", "target id"),
    "vendor": ("string", "vendor of the target"),
    "stage": ("string", "stage id within the job, e.g. quantize:tflite_int8"),
    "stage_kind": ("string", "source, export, quantize, compile, run or evaluate"),
    "component": ("string", "registered component that ran the stage"),
    "variant": ("string", "float32 or int8"),
    "metric": ("string", "metric name (docs/metrics.md)"),
    "value": ("float64", "the number; null for a failed or skipped stage"),
    "unit": ("string", "unit of value"),
    "method": ("string", "measured-host, measured-board, tool-estimate or model-estimate"),
    "tool": ("string", "tool that produced the number"),
    "tool_version": ("string", "its version"),
    "status": ("string", "ok, failed or skipped (of the stage)"),
    "reason": ("string", "why the stage failed or was skipped"),
    "started_at": ("timestamp", "UTC start of the stage"),
    "duration_s": ("float64", "wall time of the stage"),
    "cached": ("bool", "stage output was served from the artifact cache"),
    "weights": ("string", "pretrained or random"),
    "classes": ("int32", "number of output classes"),
    "resolution": ("int32", "input resolution (square)"),
    "dataset": ("string", "data set the figure was computed on, if any"),
    "n_images": ("int32", "images behind an accuracy figure"),
    "samples": ("list_float64", "raw measurements behind the figure (latency per run, ms)"),
    "host": ("string", "machine that ran the stage"),
    "host_cpu": ("string", "its CPU model"),
    "python_version": ("string", "Python version"),
    "zoo_bench_version": ("string", "zoo-bench version"),
    "packages": ("string", "JSON: versions of the tools the stage used"),
    "artifact_sha256": ("string", "sha256 of the stage's output artifact"),
    "input_sha256": ("string", "sha256 of the stage's first input artifact"),
    "cache_key": ("string", "content-addressed cache key of the stage"),
    "extra": ("string", "JSON: qualifiers of the figure (threads, config, ...)"),
}


@dataclass
class Record:
    """One result row. Field names and order equal :data:`COLUMNS`."""

    schema_version: int = SCHEMA_VERSION
    run_id: str = ""
    job_id: str = ""
    model: str = ""
    target: str = ""
    vendor: str = ""
    stage: str = ""
    stage_kind: str = ""
    component: str = ""
    variant: str = ""
    metric: str = ""
    value: float | None = None
    unit: str = ""
    method: str = ""
    tool: str = ""
    tool_version: str = ""
    status: str = "ok"
    reason: str = ""
    started_at: datetime | None = None
    duration_s: float | None = None
    cached: bool = False
    weights: str = ""
    classes: int | None = None
    resolution: int | None = None
    dataset: str = ""
    n_images: int | None = None
    samples: list[float] | None = None
    host: str = ""
    host_cpu: str = ""
    python_version: str = ""
    zoo_bench_version: str = ""
    packages: str = "{}"
    artifact_sha256: str = ""
    input_sha256: str = ""
    cache_key: str = ""
    extra: str = "{}"

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} not in {STATUSES}")
        for name in ("packages", "extra"):
            value = getattr(self, name)
            if not isinstance(value, str):
                setattr(self, name, json.dumps(value, sort_keys=True, default=str))


@dataclass
class JobResult:
    """Outcome of one job: its overall status and every row it produced."""

    job_id: str
    status: str
    records: list[Record] = field(default_factory=list)
    reason: str = ""
    duration_s: float = 0.0

    def stage_statuses(self) -> dict[str, str]:
        return {r.stage: r.status for r in self.records if r.metric == "stage_seconds"}

    def cached_stages(self) -> list[str]:
        """Stages served from the artifact cache (their figures were measured in an earlier run)."""
        return [r.stage for r in self.records if r.metric == "stage_seconds" and r.cached]


def extra_dict(value: Any) -> dict[str, Any]:
    """A row's ``extra`` as a dict, whether stored as JSON text or already parsed; anything else
    (bad JSON, a list, a number: a shared store may hold anything) is ``{}``."""
    if isinstance(value, str):
        try:
            value = json.loads(value or "{}")
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _arrow_type(name: str) -> pa.DataType:
    import pyarrow as pa

    return {
        "int16": pa.int16(),
        "int32": pa.int32(),
        "float64": pa.float64(),
        "string": pa.string(),
        "bool": pa.bool_(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "list_float64": pa.list_(pa.float64()),
    }[name]


def schema() -> pa.Schema:
    """The explicit pyarrow schema of the results store."""
    import pyarrow as pa

    return pa.schema(
        [pa.field(name, _arrow_type(kind), metadata={"description": doc}) for name, (kind, doc) in COLUMNS.items()],
        metadata={"zoo_bench_schema_version": str(SCHEMA_VERSION)},
    )


def to_table(records: list[Record]) -> pa.Table:
    import pyarrow as pa

    names = [f.name for f in fields(Record)]
    columns: dict[str, list[Any]] = {n: [] for n in names}
    for rec in records:
        for key, value in asdict(rec).items():
            columns[key].append(value)
    return pa.Table.from_pydict(columns, schema=schema())
