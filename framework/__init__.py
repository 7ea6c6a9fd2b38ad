"""zoo-bench: one benchmark harness for the model zoos of edge-AI vendors.

Plugins import what they need from here: ``hookimpl`` and the component base classes.
"""

from importlib.metadata import PackageNotFoundError, version

import pluggy

from .components import (
    Artifact,
    Compiler,
    Estimator,
    Figure,
    ModelSource,
    ModelSpec,
    Preprocess,
    Quantizer,
    Runner,
    StageContext,
    StageOutput,
    Target,
)
from .errors import PluginLoadError, ToolUnavailable, UsageError

try:
    __version__ = version("zoo-bench")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0+unknown"

hookimpl = pluggy.HookimplMarker("zoo_bench")

__all__ = [
    "Artifact",
    "Compiler",
    "Estimator",
    "Figure",
    "ModelSource",
    "ModelSpec",
    "PluginLoadError",
    "Preprocess",
    "Quantizer",
    "Runner",
    "StageContext",
    "StageOutput",
    "Target",
    "ToolUnavailable",
    "UsageError",
    "__version__",
    "hookimpl",
]
