"""``zoo-bench plugin new NAME``: write a working plugin project from the template folder.

The template (``zoo_bench/plugin_template/``, files ending in ``.tmpl``) is a plugin project with
a ``pyproject.toml`` declaring the ``zoo_bench`` entry point, a model source, a compiler, a host
runner, a board runner on the framework's ``SshBoardRunner``, two targets, a command registered
through ``zoo_bench_register_commands`` and tests using ``zoo_bench.testing``. Placeholders
(``@@name@@`` and friends) are replaced; nothing else is generated, so what the template holds
is what a plugin author reads.
"""

from __future__ import annotations

import re
from pathlib import Path

import click

from .. import __version__
from ..errors import UsageError
from ..plugin import PLUGIN_API_VERSION

TEMPLATE = Path(__file__).resolve().parents[1] / "plugin_template"
SUFFIX = ".tmpl"
_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


def placeholders(name: str) -> dict[str, str]:
    """What each ``@@...@@`` of the template becomes for plugin ``name``."""
    return {
        "@@name@@": name,
        "@@Name@@": "".join(part.capitalize() for part in name.split("_")),
        "@@dist@@": "zoo-bench-" + name.replace("_", "-"),
        "@@api@@": PLUGIN_API_VERSION,
        "@@api_major@@": PLUGIN_API_VERSION.split(".")[0],
        "@@core_version@@": __version__,
    }


def _fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def write_plugin(name: str, dest: Path) -> list[Path]:
    """Write the plugin project ``name`` into ``dest`` (absent or empty); returns the files written."""
    if not _NAME.fullmatch(name) or "__" in name or name.endswith("_"):
        raise UsageError(f"plugin name {name!r} is not a lowercase Python identifier part such as 'acme' or "
                         "'acme_npu' (letters, digits, single underscores, 40 characters at most)")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UsageError(f"{dest} already exists and is not an empty folder (choose another --dir)")
    values = placeholders(name)
    templates = sorted(p for p in TEMPLATE.rglob("*" + SUFFIX) if p.is_file())
    if not templates:
        raise UsageError(f"the plugin template is missing from this installation ({TEMPLATE})")
    written = []
    for template in templates:
        relative = _fill(str(template.relative_to(TEMPLATE)), values).removesuffix(SUFFIX)
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_fill(template.read_text(), values))
        written.append(target)
    return written


@click.group(name="plugin")
def plugin() -> None:
    """Write plugins (see docs/plugins.md)."""


@plugin.command(name="new")
@click.argument("name")
@click.option("--dir", "dest", type=click.Path(path_type=Path, file_okay=False),
              help="Folder of the new project (default ./zoo-bench-NAME); must be absent or empty.")
def new(name: str, dest: Path | None) -> None:
    """Write a working plugin project NAME: a target, a compiler, a runner, a board runner, a
    command and its tests (pip install -e FOLDER, then pytest FOLDER)."""
    dest = dest or Path("zoo-bench-" + name.replace("_", "-"))
    written = write_plugin(name, dest)
    click.echo(f"wrote plugin {name!r}: {len(written)} files in {dest}")
    click.echo(f"next: pip install -e {dest}  &&  zoo-bench run -m {name}_tiny -t {name}_cpu  &&  pytest {dest}")
