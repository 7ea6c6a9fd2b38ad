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

Plugins hand their data to the core through the ``zoo_bench_register_estimator_data`` hook
(:class:`EstimatorData`: the points file, the cached workloads of the models it defines, and
builders for those models); the core ships only the workloads of catalog models
(``catalog_workloads.json`` next to this module) and works on whatever plugins register.

MobileNet v2 with width 1.0 is held out by a rule in code (:func:`holdout_reason`), whatever a
source calls it and whether the figure was published or measured.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError

#: Workloads of catalog models (no vendor data: per-target tool baselines live with the plugins).
WORKLOADS_FILE = Path(__file__).with_name("catalog_workloads.json")
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


@dataclass
class EstimatorData:
    """What a plugin registers through ``zoo_bench_register_estimator_data``.

    ``points``: its ``published_points.json`` (format in the module docstring); ``workloads``: the
    cached workloads of the models it defines, and the baseline tool figures of the targets it
    owns (written by ``python -m zoo_bench.estimate.build_workloads``); ``builders``: builder
    name -> function ``(keras_input, classes, **args) -> keras.Model`` for definitions whose
    builder the core does not know.
    """

    points: Path
    workloads: Path | None = None
    builders: dict[str, Callable[..., Any]] = field(default_factory=dict)
    name: str = ""


def registered_data(registry: Any = None) -> list[EstimatorData]:
    """Every :class:`EstimatorData` the installed plugins register (the typed face of the hook)."""
    if registry is None:
        from ..plugins import get_registry

        registry = get_registry()
    found: list[EstimatorData] = []

    def register(data: EstimatorData) -> None:
        if not isinstance(data, EstimatorData):
            raise TypeError(f"zoo_bench_register_estimator_data registered {data!r}, not an EstimatorData")
        if all(d.points != data.points for d in found):
            found.append(data)

    hook = getattr(registry.pm.hook, "zoo_bench_register_estimator_data", None)
    if hook is not None:
        hook(register=register)
    return found


def points_files(registry: Any = None) -> list[Path]:
    """The points file of every registered :class:`EstimatorData`."""
    return [d.points for d in registered_data(registry)]


def workloads_files(registry: Any = None) -> list[Path]:
    """The core's catalog workloads, then every plugin's (merged by :func:`load_workloads`)."""
    return [WORKLOADS_FILE, *[d.workloads for d in registered_data(registry) if d.workloads is not None]]


def registered_builders(registry: Any = None) -> dict[str, Callable[..., Any]]:
    builders: dict[str, Callable[..., Any]] = {}
    for d in registered_data(registry):
        builders.update(d.builders)
    return builders


def load_points_files(paths: list[Path]) -> list[PointsFile]:
    return [load_points(p) for p in paths]


def load_workloads(paths: Path | list[Path] | None = None) -> dict[str, dict[str, Any]]:
    """Model name -> cached entry (``definition``, ``workload``, ``baselines``), merged over
    ``paths`` (default: :func:`workloads_files`); the baselines of one model are united, so a
    plugin can keep the tool figures of its targets for models another file defines."""
    if paths is None:
        paths = workloads_files()
    merged: dict[str, dict[str, Any]] = {}
    for path in [paths] if isinstance(paths, Path) else paths:
        if not Path(path).is_file():
            continue
        models = _load_json_object(Path(path), "workloads file").get("models", {})
        if not isinstance(models, dict) or not all(isinstance(v, dict) for v in models.values()):
            raise UsageError(f"{path}: models is not a JSON object of objects")
        for name, entry in models.items():
            into = merged.setdefault(name, {"baselines": {}})
            for key, value in entry.items():
                if key == "baselines":
                    into["baselines"].update(value or {})
                else:
                    into.setdefault(key, value)
    return {n: e for n, e in merged.items() if "workload" in e}


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


#: MobileNet v2 at width 1.0 under the names sources give it (``mobilenet_v2_1.0_224``,
#: ``mobilenetv2_100``, ``MobileNetV2-1.0``, ``mobilenet_v2_224`` without a width, ...).
_MNV2 = re.compile(r"mobilenet[\W_]*v2(?![\d.])", re.IGNORECASE)
_WIDTH = re.compile(r"^[\W_]*(?:alpha[\W_]*)?(\d+(?:\.\d+)?)")


def _mnv2_width(name: str) -> float | None:
    """The width of a MobileNet v2 named ``name`` (1.0 when the name gives none), else ``None``."""
    m = _MNV2.search(name)
    if m is None:
        return None
    rest = name[m.end():]
    w = _WIDTH.match(rest)
    if w is None:
        return 1.0
    text = w.group(1)
    value = float(text)
    if "." not in text and value >= 10:  # mobilenetv2_100 / _035 (timm), or a resolution (_224)
        if value in (224.0, 192.0, 160.0, 128.0, 96.0):
            return 1.0
        value = value / 100.0
    return value


def holdout_reason(model: str, definition: dict[str, Any] | None = None) -> str | None:
    """Why a figure of this model is never fitted on, or ``None``.

    The rule (the project's outside check): every figure of MobileNet v2 with width 1.0, by its
    definition (``keras_application`` ``MobileNetV2`` with ``alpha`` 1.0, a timm
    ``mobilenetv2_100``) or by any name it goes by (the point's model, the catalog name, the
    measured model), published or measured alike.
    """
    definition = definition or {}
    args = definition.get("args", {}) or {}
    if args.get("application") == "MobileNetV2" and float(args.get("alpha", 1.0)) == 1.0:
        return "MobileNet v2 width 1.0 (held out by rule: the outside check)"
    names = [model, definition.get("catalog"), definition.get("measured_model"), definition.get("model"),
             args.get("timm_name")]
    for name in names:
        if isinstance(name, str) and _mnv2_width(name) == 1.0:
            return "MobileNet v2 width 1.0 (held out by rule: the outside check)"
    return None


def is_holdout(point: dict[str, Any], definition: dict[str, Any] | None = None) -> bool:
    """A figure the estimators never fit on: flagged ``holdout`` or held out by :func:`holdout_reason`."""
    return bool(point.get("holdout")) or holdout_reason(point["model"], definition) is not None


def is_fitted(point: dict[str, Any], definition: dict[str, Any] | None = None) -> bool:
    return not is_holdout(point, definition) and not point.get("check_only")
