"""The estimators' commands, ``zoo-bench fidelity`` and ``zoo-bench fit``, registered as a plugin.

A built-in plugin (entry point ``estimate``) like a third party's: the commands reach the
command line through ``zoo_bench_register_commands``. Importing it imports click only.
"""

from __future__ import annotations

from ..plugins import hookimpl


@hookimpl
def zoo_bench_register_commands(cli):
    from .cli import fidelity, fit

    cli.add_command(fidelity)
    cli.add_command(fit)
