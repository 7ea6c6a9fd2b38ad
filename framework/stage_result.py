"""What a stage yields (:class:`StageResult`) and how a run executes (:class:`ExecutionOptions`).

The data the stage runner (``stage_runner.py``), the executors and the row builder (``rows.py``)
share; :mod:`zoo_bench.stage_runner` re-exports these names.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .components import Artifact, Figure
from .plan import StageSpec


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal; ``signum`` is it (SIGINT for Ctrl-C)."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@dataclass
class ExecutionOptions:
    """How a run executes. ``options`` are the user's run options (threads, dataset, ...);
    ``force`` names stage kinds to redo even when cached (e.g. ``{"run"}`` to re-measure);
    ``memory_mb`` is the memory stages may use at once (default: what is available at start)."""

    cache_dir: Path
    jobs: int = 1
    stage_timeout_s: float = 3600.0
    options: dict[str, Any] = field(default_factory=dict)
    force: frozenset[str] = frozenset()
    memory_mb: int | None = None
    #: Folder for device locks shared with other processes of this machine (Dask workers);
    #: ``None``: this process's stages only.
    device_lock_dir: Path | None = None
    #: Memory (resident, MiB) one stage process and the tools it started may use before it is
    #: killed and reported failed; ``None``: $ZOO_BENCH_STAGE_MEMORY_MB, else the default of
    #: ``stage_process.default_stage_memory_mb()``; 0: no limit.
    stage_memory_mb: int | None = None


@dataclass
class StageResult:
    spec: StageSpec
    status: str
    reason: str = ""
    artifact: Artifact | None = None
    figures: list[Figure] = field(default_factory=list)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    duration_s: float = 0.0
    cached: bool = False
    key: str = ""
    tool_versions: dict[str, str] = field(default_factory=dict)
    artifact_sha256: str = ""
    input_sha256: str = ""
    log: str = ""
    #: For a stage skipped because an input did not succeed: the stage where the trouble began.
    blocked_by: str = ""
    #: Absolute path -> sha256 of the artifact's files, checked before a later stage uses them.
    files: dict[str, str] = field(default_factory=dict)
    #: Where the stage ran (``host``, ``board-<id>``), whether nothing else ran there meanwhile,
    #: and the threads it was given; ``None`` for a stage that never started a process.
    device: str = ""
    exclusive: bool | None = None
    threads: int | None = None
    #: host_facts() of the machine that ran or served the stage (a Dask worker's own); empty: this one.
    host: dict[str, str] = field(default_factory=dict)
    #: per-layer rows the stage's tool reported (``zoo_bench.layers``), written apart from the rows
    layers: list[dict[str, Any]] = field(default_factory=list)
    #: For a stage served from the cache: the run that measured it (empty when the entry predates this).
    measured_in_run: str = ""
