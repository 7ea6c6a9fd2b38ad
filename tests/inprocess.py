"""``zoo-bench ARGS`` called in this process (``zoo_bench.cli.main``) for tests where a
subprocess is not what is tested: no interpreter start-up and plugin import per call.

Each call gets the environment it names (``monkeypatch``: restored after the test), a fresh
plugin registry, the built-in commands only (plugin commands are registered again from that
registry), the working directory asked for, and captured stdout/stderr. Stage processes that a
``run`` starts still inherit that environment, as they do under the real command.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import zoo_bench.plugins
from zoo_bench.cli import cli, main


def _builtin_commands() -> dict:
    return {name: command for name, command in cli.commands.items()
            if (command.callback is None or command.callback.__module__.startswith("zoo_bench.cli"))}


class InProcessCli:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
        self.monkeypatch, self.capsys = monkeypatch, capsys

    def __call__(self, args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None,
                 timeout: float | None = None) -> subprocess.CompletedProcess:
        mp = self.monkeypatch
        if env is not None:
            for key in set(os.environ) - set(env):
                mp.delenv(key)
            for key, value in env.items():
                mp.setenv(key, value)
            for folder in reversed([p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]):
                mp.syspath_prepend(folder)
        if cwd is not None:
            mp.chdir(cwd)
        mp.setattr(zoo_bench.plugins, "_REGISTRY", None)
        mp.setattr(cli, "commands", _builtin_commands())
        mp.setattr(cli, "_plugins_loaded", False)
        self.capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out = self.capsys.readouterr()
        return subprocess.CompletedProcess(["zoo-bench", *args], code, out.out, out.err)
