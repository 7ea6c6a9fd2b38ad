"""Per-layer (per-node, per-operator) rows, kept apart from the results table.

A stage may return, beside its figures, one row per layer of the network as its tool reports it
(``StageOutput.layers``): Vela's per-layer cycles and NPU/CPU placement, hb_mapper's per-node
BPU/CPU placement and cosine similarity. The framework writes them, one Parquet file per job, to
``runs/<run_id>/layers/<job>.parquet`` with the explicit :data:`SCHEMA` below (version
:data:`SCHEMA_VERSION`), and the report and the cards read them back with :func:`read_layers`.

A layer row is untrusted like any result (it may come from a shared cache): :func:`clean_layers`
keeps the known keys of each row, with finite non-negative numbers, and drops a row without a name;
a malformed file is skipped with a warning by :func:`read_layers`.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa

SCHEMA_VERSION = 1
#: What a component may give for one layer (all optional but ``name``).
LAYER_FIELDS: dict[str, str] = {
    "index": "int",          # position in the tool's own listing (execution order when the tool says so)
    "name": "str",           # the layer / node / operator name in the model
    "op": "str",             # the operator type (Conv2D, DepthwiseConv2D, ...)
    "placement": "str",      # where it runs: NPU, BPU, CPU, host, ...
    "time_ms": "float",      # its time, when the tool gives one in time units
    "cycles": "float",       # its cycles, when the tool counts cycles
    "time_share": "float",   # its share of the network's time or cycles, 0..1
    "memory_bytes": "float",  # the memory it needs (the tool's own measure, see ``memory_kind``)
    "memory_kind": "str",    # what ``memory_bytes`` is (``staging SRAM``, ``weights``, ...)
    "macs": "float",         # its multiply-accumulates
    "cosine": "float",       # cosine similarity of its output with the float model's (quantization check)
}
#: Columns of a layers file: where the layers come from, then :data:`LAYER_FIELDS`, then ``extra``.
SCHEMA = pa.schema(
    [("run_id", pa.string()), ("job", pa.string()), ("model", pa.string()), ("target", pa.string()),
     ("stage", pa.string()), ("variant", pa.string()), ("tool", pa.string()), ("tool_version", pa.string()),
     ("method", pa.string()), ("cached", pa.bool_())]
    + [(k, {"int": pa.int64(), "str": pa.string(), "float": pa.float64()}[t]) for k, t in LAYER_FIELDS.items()]
    + [("extra", pa.string())],
    metadata={"zoo_bench_layers_schema": str(SCHEMA_VERSION)},
)


def _placement(name: str) -> str:
    """One spelling per placement: short unit names upper-cased (``npu`` -> ``NPU``), ``host`` as is."""
    if name.lower() == "host":
        return "host"
    return name.upper() if name.isalpha() and len(name) <= 4 else name


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def clean_layers(layers: Any, limit: int = 100_000) -> list[dict[str, Any]]:
    """Layer rows as :data:`LAYER_FIELDS` dicts: unknown keys go to ``extra``, bad numbers to ``None``,
    rows without a name are dropped; anything that is not a list gives no rows."""
    if not isinstance(layers, list):
        return []
    out = []
    for i, raw in enumerate(layers[:limit]):
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
            continue
        row: dict[str, Any] = {}
        for key, kind in LAYER_FIELDS.items():
            value = raw.get(key)
            if kind == "str":
                row[key] = str(value)[:1000] if isinstance(value, (str, int, float)) and value != "" else None
            elif kind == "int":
                row[key] = int(value) if isinstance(value, int) and not isinstance(value, bool) else i
            else:
                row[key] = _number(value)
        if row["placement"]:
            row["placement"] = _placement(row["placement"])
        if row["time_share"] is not None and row["time_share"] > 1:
            row["time_share"] = None  # a share above 1 cannot be true
        rest = {k: v for k, v in raw.items() if k not in LAYER_FIELDS and isinstance(k, str)}
        try:
            row["extra"] = json.dumps(rest, sort_keys=True, allow_nan=False, default=str) if rest else "{}"
        except ValueError:
            row["extra"] = "{}"
        out.append(row)
    return out


def layers_path(run_dir: Path, job_id: str) -> Path:
    from .store import safe_name

    return run_dir / "layers" / f"{safe_name(job_id)}.parquet"


def write_job_layers(run_dir: Path, run_id: str, job: Any, results: Iterable[Any]) -> Path | None:
    """Write the layer rows of a job's stage results (``StageResult.layers``); ``None`` when it has none."""
    rows = []
    for res in results:
        layers = getattr(res, "layers", None) or []
        if not layers:
            continue
        figure = res.figures[0] if getattr(res, "figures", None) else None
        source = {"run_id": run_id, "job": job.id, "model": job.model.name, "target": job.target.id,
                  "stage": res.spec.id, "variant": getattr(res.spec, "variant", "") or "",
                  "tool": figure.tool if figure else res.spec.component,
                  "tool_version": figure.tool_version if figure else "",
                  "method": figure.method if figure else "", "cached": bool(getattr(res, "cached", False))}
        rows += [{**source, **layer} for layer in clean_layers(layers)]
    if not rows:
        return None
    path = layers_path(run_dir, job.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    import pyarrow.parquet as pq

    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), tmp)
    tmp.replace(path)
    return path


def read_layers(store_root: Path, run_ids: Iterable[str], warn: Callable[[str], None] | None = None
                ) -> list[dict[str, Any]]:
    """Every layer row of the runs (dicts of :data:`SCHEMA`); an unreadable or foreign file is
    skipped with one warning naming it."""
    import pyarrow.parquet as pq

    say = warn or (lambda m: print(f"zoo-bench: warning: {m}", file=sys.stderr))
    rows: list[dict[str, Any]] = []
    for run_id in run_ids:
        for path in sorted((Path(store_root) / "runs" / run_id / "layers").glob("*.parquet")):
            if path.is_symlink() or not path.is_file():
                say(f"skipped layers file {path}: not a regular file")
                continue
            try:
                table = pq.read_table(path)
                if (table.schema.metadata or {}).get(b"zoo_bench_layers_schema") != str(SCHEMA_VERSION).encode():
                    raise ValueError("not a zoo-bench layers file of this version")
                table = table.select(SCHEMA.names).cast(SCHEMA)
            except Exception as exc:  # one bad file costs its own rows only
                say(f"skipped layers file {path}: {exc}")
                continue
            for r in table.to_pylist():
                clean = clean_layers([{k: r.get(k) for k in LAYER_FIELDS}])
                if clean:  # the typed values again through the same checks as a fresh stage's
                    rows.append({**r, **{k: clean[0][k] for k in LAYER_FIELDS}})
    return rows
