"""The ``zoo-bench`` command line: one module per group of commands, over the Python API.

Never imports tensorflow or torch: stages that need them run in worker processes.
User errors (:class:`UsageError`) print one line and exit with code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import __version__
from ..errors import UsageError, ZooBenchError
from ._common import _one_line


class _Commands(click.Group):
    """The built-in commands, and those plugins add (``zoo_bench_register_commands``), loaded the
    first time the list is needed or a name is not a built-in one."""

    _plugins_loaded = False

    def _load_plugin_commands(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        from ..plugins import get_registry

        for problem in get_registry().register_commands(self):
            click.echo(f"zoo-bench: warning: {problem}", err=True)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            self._load_plugin_commands()
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="zoo-bench")
def cli() -> None:
    """Benchmark image-classification models on edge targets into one results store.

    \b
    Pipeline of every job (one model on one target):
      source -> export -> quantize -> compile -> run / evaluate -> Parquet rows
    Every number says how it was obtained: measured-host, measured-board,
    tool-estimate or model-estimate, with the tool and its version.

    \b
    Start here:
      zoo-bench list models              what can be built
      zoo-bench list targets             where it can run
      zoo-bench run --model mobilenet_v2_0.35_128 --target cpu
      zoo-bench results                  the last run as a table
    """


from .history import history  # noqa: E402
from .inspect import cache, list_, plugins  # noqa: E402
from .plugin_new import plugin  # noqa: E402
from .run import plan_text, run, summary_table  # noqa: E402,F401
from .store_commands import card, compare, report, results  # noqa: E402
from .toolchain import toolchain  # noqa: E402
from .worker import worker  # noqa: E402

for _command in (run, results, compare, card, report, cache, list_, plugins, plugin, worker, toolchain):
    cli.add_command(_command)
cli.add_command(history)


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="zoo-bench", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("zoo-bench: aborted", err=True)
        sys.exit(130)
    except click.exceptions.UsageError as exc:  # bad flags and values: one line, like our own errors
        command = exc.ctx.command_path if exc.ctx else "zoo-bench"
        click.echo(f"zoo-bench: error: {exc.format_message()} (see `{command} --help`)", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (UsageError, ZooBenchError) as exc:
        click.echo(f"zoo-bench: error: {_one_line(str(exc))}", err=True)
        sys.exit(2)
    except BrokenPipeError:  # `zoo-bench results | head`: the reader left, nothing to say
        sys.stderr.close()
        sys.exit(141)
    except OSError as exc:  # a path the user gave that the system refuses (too long, unreadable, ...)
        from ..paths import short_path

        where = f" {short_path(Path(exc.filename))}" if exc.filename else ""
        click.echo(f"zoo-bench: error: cannot use{where}: {exc.strerror or exc}", err=True)
        sys.exit(2)
