"""``zoo-bench toolchain list | install NAME | path NAME``: vendor toolchains in environments of
their own (:mod:`zoo_bench.toolchains`)."""

from __future__ import annotations

import click

from .. import toolchains
from ..errors import UsageError
from ._common import _registry


def _specs() -> dict[str, toolchains.ToolchainSpec]:
    specs, problems = toolchains.collect(_registry().pm)
    for problem in problems:
        click.echo(f"zoo-bench: warning: {problem}", err=True)
    return specs


def _spec(name: str) -> toolchains.ToolchainSpec:
    specs = _specs()
    if name not in specs:
        known = ", ".join(sorted(specs)) or "none"
        raise UsageError(f"no toolchain named {name!r} (known: {known}; see `zoo-bench toolchain list`)")
    return specs[name]


@click.group("toolchain")
def toolchain() -> None:
    """Install vendor toolchains that need a Python of their own (e.g. Horizon's, CPython 3.10).

    \b
      zoo-bench toolchain list
      zoo-bench toolchain install horizon     # then the plugin finds it, no option needed
      zoo-bench toolchain path horizon        # the toolchain's python
    Toolchains live in $ZOO_BENCH_DATA (default $XDG_DATA_HOME/zoo-bench or ~/.local/share/zoo-bench).
    """


@toolchain.command("list")
def list_toolchains() -> None:
    """The toolchains plugins declare, and whether each is installed."""
    specs = _specs()
    if not specs:
        click.echo("no plugin declares an installable toolchain")
        return
    for name, spec in sorted(specs.items()):
        record = toolchains.installed(name)
        state = (f"installed ({record.get('check', '')}, {record.get('size_bytes', 0) / 1e9:.1f} GB) at "
                 f"{toolchains.toolchain_dir(name)}") if record else "not installed"
        click.echo(f"{name:12s} Python {spec.python}  {state}\n             {spec.description}")


@toolchain.command("install")
@click.argument("name")
@click.option("--python", "python", metavar="PATH", help="the CPython interpreter to build the environment on")
@click.option("--force", is_flag=True, help="reinstall even when already installed")
def install_toolchain(name: str, python: str | None, force: bool) -> None:
    """Install toolchain NAME into zoo-bench's data folder (idempotent; re-run after an interruption)."""
    spec = _spec(name)
    record = toolchains.installed(name)
    if record is not None and not force and record.get("constraints_sha256") == toolchains.constraints_hash(spec):
        click.echo(f"{name} is already installed at {toolchains.toolchain_dir(name)} ({record.get('check', '')}); "
                   "--force reinstalls")
        return
    exe, looked = toolchains.find_python(spec.python, python, spec.python_env)
    if exe is None:
        raise UsageError(f"no CPython {spec.python} found (looked in: {', '.join(looked)}); install one, e.g. "
                         f"`uv python install {spec.python}` or `pyenv install {spec.python}`, then re-run or pass "
                         f"--python PATH" + (f" (see {spec.docs})" if spec.docs else ""))
    click.echo(f"installing {name} with {exe} (Python {spec.python}, found via {looked[-1]})")
    record = toolchains.install(spec, exe, click.echo, force=force)
    click.echo(f"installed {name}: {record['check']}; {record['size_bytes'] / 1e9:.2f} GB in "
               f"{record['install_s']:.0f} s at {toolchains.toolchain_dir(name)}")


@toolchain.command("path")
@click.argument("name")
def toolchain_path(name: str) -> None:
    """Print the installed toolchain's Python (exit 2 when it is not installed)."""
    _spec(name)
    exe = toolchains.installed_python(name)
    if exe is None:
        raise UsageError(f"toolchain {name} is not installed; run `zoo-bench toolchain install {name}`")
    click.echo(str(exe))
