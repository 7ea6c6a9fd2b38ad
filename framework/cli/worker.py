"""`zoo-bench worker`: join a Dask cluster."""

from __future__ import annotations

import math
import re
import sys

import click

from ..errors import UsageError


@click.command()
@click.option("--scheduler", required=True, metavar="tcp://HOST:PORT", help="The Dask scheduler to join.")
@click.option("--resources", "resources", multiple=True, metavar="NAME=N",
              help="Resources this worker owns, e.g. board-lab1=1 for a board plugged in here.")
@click.option("--nworkers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (stages at once on this machine).")
def worker(scheduler, resources, nworkers) -> None:
    """Join a Dask cluster as a zoo-bench worker (a thin wrapper over `dask worker`).

    \b
    Examples:
      zoo-bench worker --scheduler tcp://10.0.0.5:8786
      zoo-bench worker --scheduler tcp://10.0.0.5:8786 --resources board-lab1=1
    Board runs of board lab1 go only to a worker that owns board-lab1. Every worker
    must see the run's --cache-dir at the same path (a shared folder) and have zoo-bench and
    its plugins installed.
    """
    import importlib.util
    import subprocess

    if importlib.util.find_spec("distributed") is None:
        raise UsageError("zoo-bench worker needs Dask: pip install 'zoo-bench[dask]'")
    address = check_scheduler_address(scheduler)
    names = [check_resource(item) for item in resources]
    cmd = [sys.executable, "-m", "distributed.cli.dask_worker", "--nthreads", "1", "--nworkers", str(nworkers)]
    if names:
        cmd += ["--resources", " ".join(names)]
    # the address after "--": whatever it holds, dask reads it as the scheduler, never as an option
    sys.exit(subprocess.call([*cmd, "--", address]))


#: ``[scheme://]host:port`` with a host name, IPv4 or [IPv6] address.
_ADDRESS = re.compile(r"^(?:(tcp|tls|ws|wss|ucx)://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):(\d{1,5})$")
_RESOURCE = re.compile(r"^([A-Za-z0-9_][A-Za-z0-9_.:-]*)=([0-9]+(?:\.[0-9]+)?)$")


def check_scheduler_address(text: str) -> str:
    """A Dask scheduler address (``tcp://10.0.0.5:8786``, ``host:8786``) or :class:`UsageError`:
    a value that is not one (``--preload=FILE``) never reaches ``dask worker``."""
    match = _ADDRESS.match(text.strip())
    if not match or not 0 < int(match.group(3)) < 65536:
        raise UsageError(f"--scheduler {text!r} is not a scheduler address like tcp://HOST:PORT")
    return text.strip()


def check_resource(item: str) -> str:
    """``NAME=NUMBER`` with a plain name and a finite non-negative number, else :class:`UsageError`."""
    match = _RESOURCE.match(item.strip())
    if not match or not math.isfinite(float(match.group(2))):
        raise UsageError(f"resource {item!r} is not NAME=NUMBER (e.g. board-lab1=1)")
    return item.strip()
