"""Published points files and the cached workloads: loading, validation, discovery.

A plugin keeps its vendor's published board measurements in ``published_points.json`` beside
its ``__init__.py``:

- ``sources``: short names -> repository, commit and a note (every point names one);
- ``targets``: target id -> board, engine, clock, conditions, and optionally a ``baseline``
  (a registered compiler whose ``latency_mean_ms`` estimate the fitted model corrects);
- ``models``: model name -> definition (builder and arguments, resolution, channels, classes,
  input/output types, ``defined_by``): how :mod:`zoo_bench.estimate.build_workloads` builds it;
- ``points``: one published figure each (model, target, metric, value, unit, source, path,
  tool_version; ``holdout: true`` for figures never fitted on; ``check_only`` with a reason for
  figures shown but not fitted).

Workloads of every defined model live in ``workloads.json`` next to this module.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError

WORKLOADS_FILE = Path(__file__).with_name("workloads.json")
POINTS_FILE_NAME = "published_points.json"
_POINT_KEYS = ("model", "target", "metric", "value", "unit", "source")


@dataclass
class PointsFile:
    """One plugin's published points (see the module docstring for the format)."""

    path: Path
    sources: dict[str, Any] = field(default_factory=dict)
    targets: dict[str, Any] = field(default_factory=dict)
    models: dict[str, Any] = field(default_factory=dict)
    points: list[dict[str, Any]] = field(default_factory=list)


def load_points(path: Path) -> PointsFile:
    """Read and check one points file; a malformed file is a :class:`UsageError` naming it."""
    raw = _load_json_object(path, "points file")
    pf = PointsFile(Path(path), raw.get("sources", {}), raw.get("targets", {}), raw.get("models", {}),
                    raw.get("points", []))
    for name, section, kind in (("sources", pf.sources, dict), ("targets", pf.targets, dict),
                                ("models", pf.models, dict), ("points", pf.points, list)):
        if not isinstance(section, kind):
            raise UsageError(f"{path}: {name} is not a JSON {'object' if kind is dict else 'list'}")
    for i, p in enumerate(pf.points):
        if not isinstance(p, dict):
            raise UsageError(f"{path}: point {i} is not a JSON object")
        missing = [k for k in _POINT_KEYS if k not in p]
        if not missing and positive_problem(p["value"]):
            raise UsageError(f"{path}: point {i} ({p['model']} on {p['target']}) has value {p['value']!r}: "
                             f"{positive_problem(p['value'])}")
        if missing:
            raise UsageError(f"{path}: point {i} lacks {', '.join(missing)}")
        if p["source"] not in pf.sources:
            raise UsageError(f"{path}: point {i} cites unknown source {p['source']!r}")
        if p["model"] not in pf.models:
            raise UsageError(f"{path}: point {i} names model {p['model']!r} that the file does not define")
        if p["target"] not in pf.targets:
            raise UsageError(f"{path}: point {i} names target {p['target']!r} that the file does not describe")
    return pf


def points_files() -> list[Path]:
    """``published_points.json`` of every installed zoo-bench plugin package (found without importing it)."""
    found = []
    for ep in importlib.metadata.entry_points(group="zoo_bench"):
        module = ep.value.split(":")[0]
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            continue
        if spec is None or not spec.origin:
            continue
        candidate = Path(spec.origin).parent / POINTS_FILE_NAME
        if candidate.is_file() and candidate not in found:
            found.append(candidate)
    return found


def load_points_files(paths: list[Path]) -> list[PointsFile]:
    return [load_points(p) for p in paths]


def load_workloads(path: Path = WORKLOADS_FILE) -> dict[str, dict[str, Any]]:
    """Model name -> cached entry (``definition``, ``workload``, ``baselines``)."""
    if not path.is_file():
        return {}
    models = _load_json_object(path, "workloads file").get("models", {})
    if not isinstance(models, dict) or not all(isinstance(v, dict) for v in models.values()):
        raise UsageError(f"{path}: models is not a JSON object of objects")
    return models


def positive_problem(value: Any) -> str | None:
    """Why ``value`` cannot be a latency or a size an estimator fits on (``None`` when it can):
    a log-linear fit needs positive finite numbers (zero, negative and NaN are refused)."""
    import math

    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "not a number"
    if not math.isfinite(value) or value <= 0:
        return "not a positive finite number"
    return None


def _load_json_object(path: Path, what: str) -> dict[str, Any]:
    """A JSON object from ``path`` (safe_io: no pipe, no huge or deeply nested file), else one
    :class:`UsageError` line naming it."""
    from ..safe_io import load_json

    try:
        raw = load_json(path, 64 * 1024 * 1024)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {what} {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if not isinstance(raw, dict):
        raise UsageError(f"{what} {path} is not a JSON object")
    return raw


def is_holdout(point: dict[str, Any]) -> bool:
    """A figure the estimators never fit on (MobileNet v2 alpha 1.0, by the project's rule)."""
    return bool(point.get("holdout"))


def is_fitted(point: dict[str, Any]) -> bool:
    return not is_holdout(point) and not point.get("check_only")
