"""Shared fixtures: a fresh plugin registry per test, the fake plugin, and a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
FAKES = TESTS / "framework" / "fakes"
sys.path.insert(0, str(FAKES))


def _plugins_for_tests() -> list[str]:
    fixtures = TESTS / "fixtures"
    return [f"tests.fixtures.{p.stem}" for p in sorted(fixtures.glob("*.py")) if p.stem != "__init__"]


pytest_plugins = _plugins_for_tests()


@pytest.fixture
def fake_registry():
    """A registry holding only the in-tree fake plugin (no entry points)."""
    import zb_fake_plugin
    from zoo_bench.plugins import load_registry

    return load_registry(extra_plugins=[("fake", zb_fake_plugin)], entry_points=False)


@pytest.fixture
def zb_env(tmp_path: Path) -> dict[str, str]:
    """Environment for CLI subprocesses: fake plugin on, private cache, call log."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(FAKES), env.get("PYTHONPATH", "")]))
    env["ZOO_BENCH_PLUGINS"] = "zb_fake_plugin"
    env["ZOO_BENCH_CACHE"] = str(tmp_path / "cache")
    env["ZB_FAKE_LOG"] = str(tmp_path / "calls.log")
    env.pop("ZOO_BENCH_DISABLE_PLUGINS", None)
    return env


def run_cli(args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``zoo-bench ARGS`` in a subprocess (the way users do) and capture its output."""
    return subprocess.run([sys.executable, "-m", "zoo_bench.cli", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def cli_inproc(monkeypatch, capsys):
    """Like :func:`run_cli`, in this process (tests/inprocess.py): for tests of what the command
    does, not of how it starts."""
    from tests.inprocess import InProcessCli

    return InProcessCli(monkeypatch, capsys)
