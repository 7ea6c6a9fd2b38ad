"""JSON forms of the values that cross the process boundary (CLI <-> stage worker) and the
cache (``result.json``). Artifact paths are stored relative to the directory they live in,
so a cache entry stays valid after it is renamed into place.
"""

from __future__ import annotations

import math
from dataclasses import asdict, fields
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from .components import METHODS, Artifact, Figure, ModelSpec, Preprocess
from .metrics import MetricRegistry, get_metrics


def spec_to_dict(spec: ModelSpec) -> dict[str, Any]:
    data = asdict(spec)
    data["builder"] = [list(item) for item in spec.builder]
    return data


def spec_from_dict(data: dict[str, Any]) -> ModelSpec:
    data = dict(data)
    pre = data.get("preprocess")
    if pre is not None:
        pre = dict(pre)
        pre["mean"] = tuple(pre["mean"])
        pre["std"] = tuple(pre["std"])
        data["preprocess"] = Preprocess(**pre)
    data["builder"] = tuple((k, _freeze(v)) for k, v in data.get("builder", ()))
    return ModelSpec(**data)


def _freeze(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _rel(path: Path, base: Path) -> str:
    path = Path(path)
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path.resolve())


def artifact_to_dict(artifact: Artifact, base: Path) -> dict[str, Any]:
    return {
        "path": _rel(artifact.path, base),
        "format": artifact.format,
        "precision": artifact.precision,
        "meta": artifact.meta,
        "files": {k: _rel(v, base) for k, v in artifact.files.items()},
    }


def artifact_from_dict(data: dict[str, Any], base: Path) -> Artifact:
    return Artifact(
        path=base / data["path"],
        format=data["format"],
        precision=data.get("precision", "float32"),
        meta=dict(data.get("meta") or {}),
        files={k: base / v for k, v in (data.get("files") or {}).items()},
    )


def _plain_number(value: Any) -> Any:
    """numpy scalars (``np.float32``) as Python numbers; anything else unchanged (a string stays
    a string, so that the validation below can name it)."""
    if not isinstance(value, (str, bytes)) and hasattr(value, "item") and callable(value.item):
        try:
            return value.item()
        except (TypeError, ValueError):
            return value
    return value


def figure_to_dict(fig: Figure) -> dict[str, Any]:
    data = asdict(fig)
    data["value"] = _plain_number(data["value"])
    if isinstance(data.get("samples"), (list, tuple)):
        data["samples"] = [_plain_number(v) for v in data["samples"]]
    return data


def figure_from_dict(data: dict[str, Any]) -> Figure:
    return Figure(**data)


# --- validation of what crosses the process boundary and what the cache serves ---------------
_FIGURE_FIELDS = {f.name for f in fields(Figure)}
_STATUSES = ("ok", "failed", "skipped")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    """A number that is a finite float (an integer past 1e308 is not)."""
    try:
        return math.isfinite(float(value))
    except (OverflowError, TypeError, ValueError):
        return False


def _str_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def _inside(rel: Any) -> bool:
    """A relative path that stays inside its directory (no absolute path, no ``..``)."""
    if not isinstance(rel, str) or not rel:
        return False
    parts = PurePosixPath(rel).parts
    return not PurePosixPath(rel).is_absolute() and ".." not in parts


def validate_figure(data: Any, metrics: MetricRegistry | None = None) -> str | None:
    """``None`` for a well-formed figure dict whose value lies in its metric's domain
    (``metrics``, default: the installed plugins' registry), else what is wrong (one phrase)."""
    if not isinstance(data, dict):
        return f"a figure is a {type(data).__name__}, not an object"
    name = data.get("metric")
    if not isinstance(name, str) or not name:
        return "a figure has no metric name"
    unknown = set(data) - _FIGURE_FIELDS
    if unknown:
        return f"figure {name!r} has unknown fields {sorted(unknown)}"
    value = data.get("value")
    if value is not None and not _is_number(value):
        return f"figure {name!r} has value {value!r} ({type(value).__name__}), not a number or null"
    if value is not None and isinstance(value, float) and math.isinf(value):
        return f"figure {name!r} has an infinite value"
    for key in ("unit", "tool", "tool_version"):
        if not isinstance(data.get(key, ""), str):
            return f"figure {name!r}: {key} is not a string"
    if data.get("method") not in METHODS:
        return f"figure {name!r}: method {data.get('method')!r} not in {METHODS}"
    samples = data.get("samples")
    if samples is not None and not (isinstance(samples, list) and all(_is_number(v) for v in samples)):
        return f"figure {name!r}: samples are not a list of numbers"
    if samples and not all(_finite(v) for v in samples):
        return f"figure {name!r}: a sample is not finite"
    if not isinstance(data.get("extra", {}), dict):
        return f"figure {name!r}: extra is not an object"
    return (metrics or get_metrics()).problem(name, value)


def validate_artifact(data: Any) -> str | None:
    """``None`` for a well-formed artifact dict whose files stay inside their directory."""
    if data is None:
        return None
    if not isinstance(data, dict):
        return "the artifact is not an object"
    if not _inside(data.get("path")):
        return f"artifact path {data.get('path')!r} is not a relative path inside the stage folder"
    if not isinstance(data.get("format"), str) or not isinstance(data.get("precision", ""), str):
        return "the artifact's format or precision is not a string"
    if not isinstance(data.get("meta") or {}, dict):
        return "the artifact's meta is not an object"
    files = data.get("files") or {}
    if not isinstance(files, dict) or not all(_inside(v) for v in files.values()):
        return "the artifact's side files are not relative paths inside the stage folder"
    return None


def validate_worker_result(data: Any, metrics: MetricRegistry | None = None) -> str | None:
    """``None`` when a worker's ``result.json`` has the documented shape and every figure lies
    in its metric's domain, else what is wrong."""
    if not isinstance(data, dict):
        return "result.json is not an object"
    if data.get("status") not in _STATUSES:
        return f"status {data.get('status')!r} not in {_STATUSES}"
    if not isinstance(data.get("reason", ""), str):
        return "reason is not a string"
    if not _str_map(data.get("tool_versions", {})):
        return "tool_versions is not an object of strings"
    figures = data.get("figures", [])
    if not isinstance(figures, list):
        return "figures is not a list"
    metrics = metrics or get_metrics()
    for fig in figures:
        problem = validate_figure(fig, metrics)
        if problem:
            return problem
    return validate_artifact(data.get("artifact"))


def validate_stored_result(data: Any, metrics: MetricRegistry | None = None) -> str | None:
    """``None`` when a cache entry's ``result.json`` is well formed: a worker result with
    status ok (every figure in its domain), a start time, a duration and the sha256 of every
    artifact file."""
    problem = validate_worker_result(data, metrics)
    if problem:
        return problem
    if data["status"] != "ok":
        return f"status is {data['status']!r}, the cache keeps only ok stages"
    try:
        started = datetime.fromisoformat(data["started_at"])
        if started.tzinfo is None:
            started = started.replace(tzinfo=UTC)
        started.timestamp()
    except (KeyError, TypeError, ValueError, OverflowError):
        return "started_at is missing or not an ISO time"
    if not _is_number(data.get("duration_s")) or not _finite(data["duration_s"]) or data["duration_s"] < 0:
        return "duration_s is missing or not a non-negative number"
    shas = data.get("files_sha256")
    if not _str_map(shas) or not all(_inside(k) for k in shas):
        return "files_sha256 is missing or malformed"
    artifact = data.get("artifact")
    if artifact is not None:
        wanted = {artifact["path"], *(artifact.get("files") or {}).values()}
        missing = {str(PurePosixPath(p)) for p in wanted} - {str(PurePosixPath(p)) for p in shas}
        if missing:
            return f"no recorded sha256 for {sorted(missing)}"
        if not isinstance(data.get("artifact_sha256"), str):
            return "artifact_sha256 is not a string"
    return None
