"""``-o`` means the same thing on every command: the results store."""

from __future__ import annotations

import click
from zoo_bench.cli import cli
from zoo_bench.plugins import get_registry

from tests.conftest import run_cli


def _commands(group: click.Group, prefix: str = ""):
    for name, command in group.commands.items():
        yield f"{prefix}{name}", command
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix}{name} ")


def test_every_dash_o_is_the_results_store():
    group = click.Group("zoo-bench", commands=dict(cli.commands))
    assert get_registry().register_commands(group) == []
    seen = []
    for path, command in _commands(group):
        for param in command.params:
            if "-o" in getattr(param, "opts", []):
                seen.append(path)
                assert "--output" in param.opts, path
                assert "store" in (param.help or "").lower(), f"{path}: -o is not the results store"
    assert {"run", "results", "compare", "report", "fit", "stm32 tables"} <= set(seen)


def test_report_minus_o_with_an_html_name_says_where_the_page_goes(tmp_path):
    proc = run_cli(["report", "-o", str(tmp_path / "page.html")])
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith(f"write the page with --html {tmp_path / 'page.html'}")
    assert "Traceback" not in proc.stderr
