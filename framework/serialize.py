"""JSON forms of the values that cross the process boundary (CLI <-> stage worker) and the
cache (``result.json``). Artifact paths are stored relative to the directory they live in,
so a cache entry stays valid after it is renamed into place.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from .components import Artifact, Figure, ModelSpec, Preprocess


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


def figure_to_dict(fig: Figure) -> dict[str, Any]:
    return asdict(fig)


def figure_from_dict(data: dict[str, Any]) -> Figure:
    return Figure(**data)
