"""Fixtures of the built-in component tests: stage contexts, a registry, small data sets.

torch (and timm, which loads triton) is imported before anything imports tensorflow: loading
triton after tensorflow segfaults with torch 2.14 + tensorflow 2.21 (measured here).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

if importlib.util.find_spec("timm") is not None:
    import timm  # noqa: F401

from zoo_bench.components import Artifact, ModelSpec, StageContext, Target
from zoo_bench.plan import STAGE_KINDS
from zoo_bench.plugins import Registry, load_registry
from zoo_bench.testing import make_context


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry()


@pytest.fixture(scope="session")
def cpu_target(registry: Registry) -> Target:
    return registry.targets["cpu"]


@pytest.fixture
def make_ctx(tmp_path: Path, registry: Registry, cpu_target: Target):
    """``make_ctx(model, stage_id, inputs=None, **options)`` -> a StageContext in a fresh workdir."""
    counter = iter(range(1000))

    def make(model: ModelSpec, stage_id: str, inputs: dict[str, Artifact] | None = None,
             **options: Any) -> StageContext:
        workdir = tmp_path / f"{next(counter)}-{stage_id.replace(':', '_')}"
        kind, _, name = stage_id.partition(":")
        # The component the stage id names types the options, as the executor does.
        component = (registry.sources[model.source] if kind in ("source", "export")
                     else registry.component(STAGE_KINDS[kind], name.split(":")[0]))
        return make_context(model, workdir, component=component, inputs=inputs, options=options,
                            target=cpu_target, registry=registry, stage_id=stage_id)

    return make


@pytest.fixture(scope="session")
def photo_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """scikit-image's real photos as a data set: 281/ (chelsea, a tabby/tiger cat), 967/ (coffee)."""
    pytest.importorskip("skimage")
    from PIL import Image
    from skimage import data

    root = tmp_path_factory.mktemp("photos")
    for label, name in ((281, "chelsea"), (967, "coffee")):
        (root / str(label)).mkdir()
        pixels = getattr(data, name)()
        Image.fromarray(pixels).save(root / str(label) / f"{name}.png")
        Image.fromarray(pixels[:, ::-1].copy()).save(root / str(label) / f"{name}_mirrored.png")
    return root
