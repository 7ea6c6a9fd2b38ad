"""Test helpers for plugin authors, as pytest ships ``pytester``: a plugin's own tests need
nothing from zoo-bench's repository.

Two levels:

- **In-process**: :func:`run_stage` calls one component the way the worker does (a
  :class:`~zoo_bench.components.StageContext` with a fresh work directory, the component's
  declared option defaults filled in and typed) and checks what it returns (figures with a
  method, tool and version, a method its stage may claim (:mod:`zoo_bench.provenance`); an
  artifact file inside the work directory).
- **Through the CLI**: :meth:`PluginTester.run` runs ``zoo-bench run`` in a subprocess on a
  temporary results store and artifact cache, with your plugin loaded from
  ``$ZOO_BENCH_PLUGINS``, and returns the exit status and the result rows.

A board runner's tests get a board on loopback (:mod:`zoo_bench.board.loopback`): a real OpenSSH
server on 127.0.0.1 (Debian package ``openssh-server``) and a stand-in ``benchmark_model`` that
prints the real tool's format; the ``zoo_bench_board`` fixture, or :func:`loopback_board` without
pytest (docs/boards.md, "Testing a board runner").

With pytest, put ``pytest_plugins = ["zoo_bench.testing"]`` in your ``conftest.py`` and use the
``zoo_bench_tester`` fixture::

    def test_my_target(zoo_bench_tester):
        tester = zoo_bench_tester.load("my_plugin")
        result = tester.run("my_model", "my_target")
        assert result.returncode == 0, result.stderr
        assert [r["value"] > 0 for r in result.rows if r["metric"] == "latency_p50_ms"] == [True]
"""

from __future__ import annotations

import importlib.util
import itertools
import math
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .board.loopback import LoopbackBoard, sshd_missing, start_sshd
from .components import Artifact, Component, ModelSpec, StageContext, StageOutput, Target
from .errors import ToolUnavailable
from .options import stage_options
from .provenance import check_figures
from .resources import stage_device

#: The target a context gets when the test names none.
TEST_TARGET = Target(id="test", vendor="test", device_class="CPU", description="zoo_bench.testing target")
_KIND_OF = {"source": "source", "quantize": "quantize", "compile": "compile", "run": "run"}


def make_context(model: ModelSpec, workdir: Path, *, component: Component | None = None,
                 inputs: Mapping[str, Artifact] | Sequence[Artifact] | None = None,
                 options: Mapping[str, Any] | None = None, target: Target | None = None,
                 registry: Any = None, stage_id: str = "test") -> StageContext:
    """A :class:`StageContext` as the worker builds it.

    With ``component``, ``options`` go through its declarations like a plan's stage options:
    declared defaults filled in, values typed, an undeclared name a
    :class:`~zoo_bench.errors.UsageError`. ``inputs`` may be a list (ids ``input0``, ...).
    """
    target = target or TEST_TARGET
    if component is not None:
        typed = stage_options(component, dict(target.defaults), {}, dict(options or {}))
    else:
        typed = dict(options or {})
    if inputs is None:
        named: dict[str, Artifact] = {}
    elif isinstance(inputs, Mapping):
        named = dict(inputs)
    else:
        named = {f"input{i}": artifact for i, artifact in enumerate(inputs)}
    workdir.mkdir(parents=True, exist_ok=True)
    return StageContext(model=model, target=target, stage_id=stage_id, options=typed, inputs=named,
                        workdir=workdir, registry=registry)


def run_stage(component: Component, model: ModelSpec, workdir: Path, *, kind: str | None = None,
              inputs: Mapping[str, Artifact] | Sequence[Artifact] | None = None,
              options: Mapping[str, Any] | None = None, target: Target | None = None,
              registry: Any = None) -> StageOutput:
    """Run one stage of ``component`` in this process and check its output.

    ``kind`` is the stage kind (default: the component's; ``export`` needs
    ``options={"format": ...}``). Raises :class:`~zoo_bench.errors.ToolUnavailable` when the
    component's ``unavailable_reason`` says it cannot run here (``pytest.skip`` on it if you
    like), and ``AssertionError`` when the output breaks the contract of a stage output.
    """
    from .worker import call_component

    kind = kind or _KIND_OF.get(component.kind, component.kind)
    ctx = make_context(model, workdir, component=component, inputs=inputs, options=options, target=target,
                       registry=registry, stage_id=kind)
    reason = component.unavailable_reason(ctx.target, ctx.options)
    if reason:
        raise ToolUnavailable(reason)
    output = call_component(component, kind, ctx)
    check_output(output, workdir)
    problem = check_figures(component, output.figures, *stage_device(component, ctx.target, ctx.options))
    assert problem is None, problem
    return output


def check_output(output: Any, workdir: Path) -> None:
    """``AssertionError`` unless ``output`` is a well-formed :class:`StageOutput`."""
    assert isinstance(output, StageOutput), f"a stage must return a StageOutput, not {type(output).__name__}"
    for fig in output.figures:
        where = f"figure {fig.metric}"
        assert fig.tool and fig.tool_version, f"{where}: tool and tool_version are required (provenance)"
        assert fig.value is None or math.isfinite(float(fig.value)), f"{where}: value {fig.value!r} is not finite"
    artifact = output.artifact
    if artifact is not None:
        assert artifact.path.is_file(), f"artifact {artifact.path} does not exist"
        inside = Path(os.path.realpath(artifact.path)).is_relative_to(os.path.realpath(workdir))
        assert inside, f"artifact {artifact.path} is not under the stage's workdir {workdir}"
        assert artifact.format, "an artifact must name its format"


@dataclass
class RunResult:
    """What :meth:`PluginTester.run` returns: the CLI's exit status and output, and the rows."""

    returncode: int
    stdout: str
    stderr: str
    rows: list[dict[str, Any]] = field(default_factory=list)

    def values(self, metric: str) -> list[float | None]:
        """The values of one metric across the rows, in row order."""
        return [r["value"] for r in self.rows if r["metric"] == metric]


class PluginTester:
    """Runs a plugin's stages in-process or through the CLI, inside ``root`` (a temp dir).

    ``plugins`` are importable module names loaded like ``$ZOO_BENCH_PLUGINS``; installed
    plugins (entry points) load too unless ``entry_points=False``.
    """

    def __init__(self, root: Path, plugins: Iterable[str] = (), entry_points: bool = True):
        self.root = Path(root)
        self.plugins = list(plugins)
        self.entry_points = entry_points
        self.cache_dir = self.root / "cache"
        self.results_dir = self.root / "results"
        self._workdirs = itertools.count()

    def load(self, *modules: str) -> PluginTester:
        """Also load these plugin modules (returns ``self``)."""
        self.plugins.extend(modules)
        return self

    def registry(self) -> Any:
        """A fresh registry with the plugins loaded (and the installed ones, see ``entry_points``)."""
        from .plugins import load_registry

        extra = [(name, importlib.import_module(name)) for name in self.plugins]
        return load_registry(extra, entry_points=self.entry_points)

    def workdir(self, label: str = "stage") -> Path:
        path = self.root / "stages" / f"{next(self._workdirs)}-{label.replace(':', '_')}"
        path.mkdir(parents=True)
        return path

    def run_stage(self, component: Component, model: ModelSpec, **kwargs: Any) -> StageOutput:
        """:func:`run_stage` in a fresh work directory, with this tester's registry by default."""
        kwargs.setdefault("registry", self.registry())
        return run_stage(component, model, self.workdir(kwargs.get("kind") or component.kind), **kwargs)

    def env(self) -> dict[str, str]:
        """The environment of CLI runs: private cache, these plugins, their folders importable."""
        env = dict(os.environ)
        env["ZOO_BENCH_CACHE"] = str(self.cache_dir)
        env["ZOO_BENCH_PLUGINS"] = ",".join(self.plugins)
        folders = [str(f) for f in dict.fromkeys(_import_root(name) for name in self.plugins) if f]
        env["PYTHONPATH"] = os.pathsep.join(folders + [p for p in [env.get("PYTHONPATH", "")] if p])
        if not self.entry_points:
            from importlib.metadata import entry_points

            env["ZOO_BENCH_DISABLE_PLUGINS"] = ",".join(ep.name for ep in entry_points(group="zoo_bench"))
        return env

    def cli(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        """``zoo-bench ARGS`` in a subprocess with :meth:`env`."""
        return subprocess.run([sys.executable, "-m", "zoo_bench.cli", *args], env=self.env(), cwd=self.root,
                              capture_output=True, text=True, timeout=timeout)

    def run(self, models: str, targets: str, *args: str, timeout: float = 600) -> RunResult:
        """``zoo-bench run -m MODELS -t TARGETS ARGS`` on the temp store; the rows of that run."""
        proc = self.cli("run", "-m", models, "-t", targets, "-o", str(self.results_dir), "-q", *args,
                        timeout=timeout)
        return RunResult(proc.returncode, proc.stdout, proc.stderr, self.rows() if proc.returncode in (0, 1) else [])

    def rows(self, run_id: str | None = None) -> list[dict[str, Any]]:
        """Rows of a run in the temp store (default: the latest)."""
        from .store import ResultsStore

        store = ResultsStore(self.results_dir)
        return store.read(store.resolve_run(run_id)).to_pylist()


def _import_root(module: str) -> Path | None:
    """The folder to put on ``PYTHONPATH`` for ``module`` to import in a subprocess."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.origin or spec.origin in ("built-in", "frozen"):
        return None
    path = Path(spec.origin).resolve().parent
    levels = module.count(".") + (1 if spec.submodule_search_locations else 0)
    for _ in range(levels):
        path = path.parent
    return path


@contextmanager
def loopback_board(directory: Path) -> Iterator[LoopbackBoard]:
    """This machine as a board over a private loopback sshd (started here, stopped on exit),
    with the stand-in ``benchmark_model``; files go under ``directory``. Raises
    :class:`~zoo_bench.errors.ToolUnavailable` when OpenSSH's server is not installed."""
    reason = sshd_missing()
    if reason:
        raise ToolUnavailable(reason)
    server = start_sshd(Path(directory) / "sshd")
    try:
        yield LoopbackBoard(server, Path(directory) / "board")
    finally:
        server.stop()


try:
    import pytest
except ImportError:  # the helpers above work without pytest
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture
    def zoo_bench_tester(tmp_path: Path) -> PluginTester:
        """A :class:`PluginTester` in this test's ``tmp_path``: add plugins with ``.load("module")``."""
        return PluginTester(tmp_path)

    @pytest.fixture(scope="session")
    def zoo_bench_sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
        """A loopback OpenSSH server shared by the session (skipped without ``openssh-server``,
        failed instead under CI, where ``CI`` is set)."""
        reason = sshd_missing()
        if reason:
            if os.environ.get("CI"):
                pytest.fail(f"{reason}: CI must install it", pytrace=False)
            pytest.skip(reason)
        server = start_sshd(tmp_path_factory.mktemp("zoo_bench_sshd"))
        yield server
        server.stop()

    @pytest.fixture
    def zoo_bench_board(zoo_bench_sshd: Any, tmp_path: Path) -> LoopbackBoard:
        """This machine as a board: ``zoo_bench_board.boards_toml("my_target")`` is a boards.toml
        reaching it, with the stand-in ``benchmark_model`` (see :class:`LoopbackBoard`)."""
        return LoopbackBoard(zoo_bench_sshd, tmp_path / "loopback-board")
