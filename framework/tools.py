"""Cheap facts about installed tools: versions and presence, without importing them.

Components call these from ``tool_versions()`` and ``unavailable_reason()``, which run in the
CLI process, so nothing here may import a heavy package::

    def tool_versions(self):
        return {"ethos-u-vela": dist_version("ethos-u-vela")}

    def unavailable_reason(self, target=None, options=None):
        missing = missing_module("ethosu", "flatbuffers")
        return f"{missing} is not installed (pip install ethos-u-vela)" if missing else None
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


def missing_module(*modules: str | Iterable[str]) -> str | None:
    """The first of ``modules`` (import names) that cannot be imported here, or ``None``.

    ``missing_module("tflite_micro")``, ``missing_module("onnx", "onnxsim")``; a list or tuple
    of names also works (``missing_module(["onnx", "onnxsim"])``). A string is always one
    module name, never a sequence of characters. Checks with ``importlib.util.find_spec``:
    nothing is imported (a dotted name imports its parent packages).
    """
    for module in _names(modules):
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):  # a dotted name whose parent is missing, or ""
            found = False
        if not found:
            return module
    return None


def _names(items: tuple[str | Iterable[str], ...]) -> list[str]:
    names: list[str] = []
    for item in items:
        if isinstance(item, str):
            names.append(item)
        else:
            names.extend(str(name) for name in item)
    return names
