"""The declared plugin API of zoo-bench: everything a plugin author needs, in one import.

    from zoo_bench.plugin import hookimpl, Target, Runner, Figure, StageOutput, Option

What this module exports is the stable surface documented in docs/plugins.md; the rest of
``zoo_bench`` may change without notice. :data:`PLUGIN_API_VERSION` versions it: a minor
version adds names, a major version removes or changes some. A plugin module may declare the
API it was written for with a module attribute (``zoo_bench_api = "1"`` or ``"1.0"``): it is
loaded when the major versions are equal and the minor version it needs is not newer than this
one, else refused at load with one warning line naming it and both versions (the other plugins
still load). A plugin that declares nothing is loaded.

Importing this module is cheap (no TensorFlow, torch, numpy-heavy code): ``zoo_bench.testing``'s
helpers are imported on first use.
"""

from __future__ import annotations

from typing import Any

from . import hookimpl
from .board.benchmark_model import (
    BenchmarkModelCall,
    benchmark_model_figures,
    benchmark_on_board,
    benchmark_options,
    delegate_library,
    run_benchmark_model,
)
from .board.inventory import Board, boards_file, select_board
from .board.session import (
    BOARD_SELECTION,
    SETUP_TIMEOUT_S,
    BoardCommandFailed,
    BoardConnectionLost,
    BoardTimeout,
    SshBoardRunner,
    board_errors,
    board_session,
)
from .board.ssh import SshError, SshTransport
from .board.tflite_report import BenchmarkModelReport, parse_benchmark_model
from .components import (
    Artifact,
    Compiler,
    Component,
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
from .formats import ArtifactFormat, check_input, register_format
from .metrics import Metric
from .options import Option
from .plan import Planner, StageRef
from .records import JobResult, Record
from .timing import latency_figures
from .tools import dist_version, missing_module

#: Version of this module's surface: same major = compatible (see the module docstring).
PLUGIN_API_VERSION = "1.1"  # 1.1: Metric (zoo_bench_register_metrics), Estimator, the benchmark_model board benchmark
#: Name of the module attribute by which a plugin declares the API version it needs.
API_ATTRIBUTE = "zoo_bench_api"

#: ``zoo_bench.testing`` names, imported on first use (a test helper is not needed to load a plugin).
_TESTING = ("LoopbackBoard", "PluginTester", "check_output", "loopback_board", "make_context", "run_stage")


def __getattr__(name: str) -> Any:
    if name in _TESTING:
        from . import testing

        return getattr(testing, name)
    raise AttributeError(f"module 'zoo_bench.plugin' has no attribute {name!r}")


def _version(text: str) -> tuple[int, int] | None:
    parts = text.strip().split(".")
    if not 1 <= len(parts) <= 2 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1]) if len(parts) == 2 else 0


def api_problem(required: Any) -> str | None:
    """Why a plugin declaring ``zoo_bench_api = required`` cannot load here, or ``None``."""
    have = _version(PLUGIN_API_VERSION)
    want = _version(str(required)) if isinstance(required, (str, int)) and not isinstance(required, bool) else None
    if want is None:
        return f"declares {API_ATTRIBUTE} = {required!r}, not a version like \"1\" or \"1.0\""
    assert have is not None
    if want[0] != have[0] or want[1] > have[1]:
        return f"needs zoo-bench plugin API {required}, this zoo-bench provides {PLUGIN_API_VERSION}"
    return None


__all__ = [
    "API_ATTRIBUTE", "BOARD_SELECTION", "BenchmarkModelCall", "Estimator", "benchmark_model_figures",
    "benchmark_on_board", "benchmark_options", "delegate_library", "run_benchmark_model",
    "PLUGIN_API_VERSION", "SETUP_TIMEOUT_S", "Artifact", "ArtifactFormat",
    "BenchmarkModelReport", "Board", "BoardCommandFailed", "BoardConnectionLost", "BoardTimeout", "Compiler",
    "Component", "Figure", "JobResult", "Metric", "ModelSource", "ModelSpec", "Option", "Planner", "PluginLoadError",
    "Preprocess", "Quantizer", "Record", "Runner", "SshBoardRunner", "SshError", "SshTransport", "StageContext",
    "StageOutput", "StageRef", "Target", "ToolUnavailable", "UsageError", "api_problem", "board_errors",
    "board_session", "boards_file", "check_input", "dist_version", "hookimpl", "latency_figures",
    "missing_module", "parse_benchmark_model", "register_format", "select_board", *_TESTING,
]
