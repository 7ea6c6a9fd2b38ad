"""`zoo-bench cache`, `list` and `plugins`: what is installed and cached."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..errors import UsageError
from ..table import format_table
from ._common import _registry


@click.group()
def cache() -> None:
    """Inspect or empty the artifact cache."""


@cache.command(name="info")
@click.option("--cache-dir", type=click.Path(path_type=Path))
def cache_info(cache_dir: Path | None) -> None:
    """Where the cache is, how big it is, and the staging folders dead runs left."""
    from ..cache import MARKER, ArtifactCache, default_cache_dir

    store = ArtifactCache(cache_dir or default_cache_dir())
    if not store.root.exists():
        click.echo(f"{store.root}: no cache yet (a run creates it)")
        return
    if not store.is_cache():  # read only: nothing is created in a folder that is not ours
        raise UsageError(f"{store.root} is not a zoo-bench cache (no {MARKER})")
    tmp = list((store.root / "tmp").iterdir()) if (store.root / "tmp").is_dir() else []
    stale = len(store.stale_staging())
    click.echo(f"{store.root}: {len(store.entries())} stage outputs, {store.size_bytes() / 2**20:.1f} MiB; "
               f"{len(tmp)} staging folders ({stale} left by dead runs, removed by the next run), "
               f"{store.size_bytes(store.root / 'tmp') / 2**20:.1f} MiB")


@cache.command(name="clear")
@click.option("--cache-dir", type=click.Path(path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def cache_clear(cache_dir: Path | None, yes: bool) -> None:
    """Delete every cached stage output (results are not touched).

    Only a directory marked as a zoo-bench cache is emptied, and only of the cache's own folders.
    """
    from ..cache import MARKER, ArtifactCache, default_cache_dir

    store = ArtifactCache(cache_dir or default_cache_dir())
    if not store.root.exists():
        click.echo(f"{store.root}: no cache, nothing to delete")
        return
    if not store.is_cache():
        raise UsageError(f"{store.root} is not a zoo-bench cache (no {MARKER}): not deleting anything")
    if not yes:
        click.confirm(f"Delete every cached artifact in {store.root}?", abort=True)
    count = store.clear()
    click.echo(f"emptied {store.root} ({count} stage outputs deleted)")


@click.group(name="list")
def list_() -> None:
    """List what the installed plugins provide."""


@list_.command(name="models")
@click.argument("pattern", required=False, default="*")
@click.option("--json", "as_json", is_flag=True)
def list_models(pattern: str, as_json: bool) -> None:
    """Catalog models (optionally matching a glob PATTERN)."""
    import fnmatch

    registry = _registry()
    specs = [s for n, s in sorted(registry.models().items()) if fnmatch.fnmatchcase(n, pattern)]
    if as_json:
        click.echo(json.dumps([{"name": s.name, "family": s.family, "source": s.source, "resolution": s.resolution,
                                "classes": s.classes, "params": s.params, "macs": s.macs, "weights": s.weights,
                                "format": s.native_format, "default_in_family": s.default_in_family}
                               for s in specs], indent=2))
        return
    rows = [[s.name, s.family + (" *" if s.default_in_family else ""), s.source, s.resolution,
             _mega(s.params), _mega(s.macs), s.weights] for s in specs]
    click.echo(format_table(["name", "family (* default)", "source", "res", "params M", "MACs M", "weights"], rows))


def _mega(value: int | None) -> float | None:
    return None if value is None else round(value / 1e6, 2)


@list_.command(name="targets")
@click.option("--json", "as_json", is_flag=True)
def list_targets(as_json: bool) -> None:
    """Targets: id, vendor, device class, clock and memory."""
    registry = _registry()
    targets = sorted(registry.targets.values(), key=lambda t: (t.vendor, t.id))
    if as_json:
        click.echo(json.dumps([{"id": t.id, "vendor": t.vendor, "device_class": t.device_class,
                                "clock_mhz": t.clock_mhz, "memory_kib": dict(t.memory_kib),
                                "description": t.description, "plugin": registry.provider[("target", t.id)]}
                               for t in targets], indent=2))
        return
    rows = [[t.id, t.vendor, t.device_class, t.clock_mhz,
             ", ".join(f"{k} {v:,} KiB" for k, v in t.memory_kib), t.description] for t in targets]
    click.echo(format_table(["id", "vendor", "class", "MHz", "memory", "description"], rows, max_width=60))


@click.command()
@click.option("--json", "as_json", is_flag=True)
@click.option("--verbose", "-v", is_flag=True, help="Also list each component's options: type, default, help.")
def plugins(as_json: bool, verbose: bool) -> None:
    """Installed plugins, their versions and what each provides.

    \b
    With -v, every component's options (set them with `zoo-bench run -s NAME=VALUE`).
    """
    from ..options import CLI_OPTIONS, describe_options

    registry = _registry()
    infos = sorted(registry.plugins.values(), key=lambda i: i.name)

    def components_of(info) -> list[tuple[str, Any]]:
        return [(f"{kind}:{name}", registry.components[kind][name])
                for kind, names in sorted(info.provides.items()) if kind != "target" for name in names]

    if as_json:
        listed = []
        for i in infos:
            entry: dict[str, Any] = {"name": i.name, "distribution": i.distribution, "version": i.version,
                                     "provides": i.provides}
            if verbose:
                entry["options"] = {label: dict(describe_options(comp)) for label, comp in components_of(i)}
            listed.append(entry)
        click.echo(json.dumps(listed + [{"name": e.plugin, "error": str(e)} for e in registry.errors], indent=2))
        return
    rows = []
    for info in infos:
        provides = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in sorted(info.provides.items()))
        rows.append([info.name, info.distribution or "", info.version or "", provides or "(nothing)"])
    click.echo(format_table(["plugin", "distribution", "version", "provides"], rows, max_width=90))
    if verbose:
        lines = ["", "options of `zoo-bench run` (-s NAME=VALUE or their own flags):"]
        lines += [f"  {name}: {opt.describe()}" for name, opt in sorted(CLI_OPTIONS.items())]
        for info in infos:
            for label, comp in components_of(info):
                described = describe_options(comp)
                lines.append("")
                lines.append(f"{label} ({info.name}){'' if described else ': no options'}")
                lines += [f"  {name}: {text}" for name, text in described]
                lines += [f"  boards.toml key {name}: {opt.describe()}"  # a board runner's own keys
                          for name, opt in sorted((getattr(comp, "board_keys", None) or {}).items())]
        click.echo("\n".join(lines))
