"""`zoo-bench worker`: join a Dask cluster."""

from __future__ import annotations

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
    for item in resources:
        name, sep, value = item.partition("=")
        try:
            float(value)
        except ValueError:
            sep = ""
        if not sep or not name:
            raise UsageError(f"resource {item!r} is not NAME=NUMBER (e.g. board-lab1=1)")
    cmd = [sys.executable, "-m", "distributed.cli.dask_worker", scheduler, "--nthreads", "1",
           "--nworkers", str(nworkers)]
    if resources:
        cmd += ["--resources", " ".join(resources)]
    sys.exit(subprocess.call(cmd))
