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
import json
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
    try:
        raw = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read points file {path}: {exc}") from None
    pf = PointsFile(Path(path), raw.get("sources", {}), raw.get("targets", {}), raw.get("models", {}),
                    raw.get("points", []))
    for i, p in enumerate(pf.points):
        missing = [k for k in _POINT_KEYS if k not in p]
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
    return json.loads(path.read_text()).get("models", {})


def is_holdout(point: dict[str, Any]) -> bool:
    """A figure the estimators never fit on (MobileNet v2 alpha 1.0, by the project's rule)."""
    return bool(point.get("holdout"))


def is_fitted(point: dict[str, Any]) -> bool:
    return not is_holdout(point) and not point.get("check_only")
