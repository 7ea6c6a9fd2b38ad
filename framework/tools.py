"""Cheap facts about installed tools: versions and presence, without importing them.

Components call these from ``tool_versions()`` and ``unavailable_reason()``, which run in the
CLI process, so nothing here may import a heavy package.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from collections.abc import Iterable


def dist_version(name: str) -> str:
    """Installed version of distribution ``name``, or ``"not installed"``."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def missing_module(modules: Iterable[str]) -> str | None:
    """The first of ``modules`` (import names) that cannot be imported here, or ``None``."""
    for module in modules:
        if importlib.util.find_spec(module) is None:
            return module
    return None
