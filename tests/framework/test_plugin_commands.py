"""Commands from plugins (``zoo_bench_register_commands``): listed in ``--help``, isolated when broken."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import click
from zoo_bench import hookimpl
from zoo_bench.plugins import load_registry

from tests.conftest import run_cli


class _Adds:
    def __init__(self, name: str):
        self.name = name

    @hookimpl
    def zoo_bench_register_commands(self, cli):
        @cli.command(name=self.name)
        def hello() -> None:
            """Say hello."""
            click.echo("hello")


class _Raises:
    @hookimpl
    def zoo_bench_register_commands(self, cli):
        cli.add_command(click.Command("half"))  # undone: nothing of a failed plugin stays
        raise RuntimeError("no luck\nsecond line")


def _group() -> click.Group:
    group = click.Group("zoo-bench")
    group.add_command(click.Command("run"))
    return group


def test_a_raising_plugin_is_one_warning_and_the_others_stay():
    registry = load_registry([("good", _Adds("hello")), ("bad", _Raises())], entry_points=False)
    group = _group()
    problems = registry.register_commands(group)
    assert sorted(group.commands) == ["hello", "run"]
    assert problems == ["plugin 'bad' could not register its commands: RuntimeError: no luck | second line; "
                        "left out"]


def test_a_taken_command_name_is_refused():
    registry = load_registry([("clash", _Adds("run"))], entry_points=False)
    group = _group()
    builtin = group.commands["run"]
    problems = registry.register_commands(group)
    assert group.commands["run"] is builtin
    assert problems == ["plugin 'clash' registers command 'run', which is already a command; its own is left out"]


def test_builtin_plugins_load_without_their_entry_points(monkeypatch):
    """The estimator commands come from a built-in plugin even when the installed metadata
    (shared by worktrees, or an older editable install) has no entry point for it."""
    registry = load_registry()
    assert "estimate" in registry.plugins
    group = _group()
    assert registry.register_commands(group) == []
    assert {"fidelity", "fit", "stm32"} <= set(group.commands)
    monkeypatch.setenv("ZOO_BENCH_DISABLE_PLUGINS", "estimate")
    assert "estimate" not in load_registry().plugins


def test_help_lists_plugin_commands_and_stays_light(tmp_path):
    (tmp_path / "zb_cmd_plugin.py").write_text(textwrap.dedent('''
        import click
        from zoo_bench import hookimpl

        @hookimpl
        def zoo_bench_register_commands(cli):
            @cli.command()
            def greet():
                """Greet from a plugin."""
                click.echo("hi from a plugin")
    '''))
    (tmp_path / "zb_bad_cmd_plugin.py").write_text(textwrap.dedent('''
        from zoo_bench import hookimpl

        @hookimpl
        def zoo_bench_register_commands(cli):
            raise ValueError("broken on purpose")
    '''))
    code = ("import sys; from zoo_bench.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('tensorflow', 'torch', 'onnxruntime', 'dask') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    import os

    env = dict(os.environ, ZOO_BENCH_PLUGINS="zb_cmd_plugin,zb_bad_cmd_plugin",
               PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert "greet" in proc.stdout and "fidelity" in proc.stdout and "stm32" in proc.stdout
    assert "HEAVY []" in proc.stdout
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip() == ("zoo-bench: warning: plugin 'zb_bad_cmd_plugin' could not register its "
                                   "commands: ValueError: broken on purpose; left out")
    greet = run_cli(["greet"], env=env)
    assert greet.returncode == 0 and greet.stdout == "hi from a plugin\n"


def test_stm32_tables_is_a_plugin_command(tmp_path):
    missing = run_cli(["stm32", "tables", "--summary", str(tmp_path / "none.json")])
    assert missing.returncode == 2 and "none.json does not exist" in missing.stderr
    assert "Traceback" not in missing.stderr
    (tmp_path / "s.json").write_text("[]")
    from zoo_bench_stm32.results_table import main

    assert main(["--summary", str(tmp_path / "s.json")]) == 0
