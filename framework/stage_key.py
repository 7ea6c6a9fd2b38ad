"""What a stage's cache key is made of, assembled by the framework (complete by construction).

A component can only add to its key (through ``tool_versions()``, its declared options and
``input_files()``); the framework always adds:

- zoo-bench's version and the cache format;
- the plugin that registered the component: its name, distribution and version, and, when the
  plugin has no distribution or is installed editable (a source tree someone edits), the
  sha256 of its source files (the ``.py`` files beside the component's class and beside the
  plugin module), so an edited or upgraded plugin never serves its old outputs;
- the content (sha256) of every file the component declares with ``input_files(options)``,
  of every option value that names an existing file or folder (declared ``path`` options
  always), and of the model files named by the model spec;
- the model spec, the sha256 of every input artifact, the target for compile/run/evaluate
  stages and the host for components that measure this machine.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import inspect
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .cache import CACHE_FORMAT, cache_key, file_digest
from .options import declared
from .serialize import spec_to_dict

if TYPE_CHECKING:
    from .components import Component
    from .plan import Job, StageSpec
    from .plugins import Registry

#: Read at call time (tests change it to see a miss).
ZOO_BENCH_VERSION = __version__


@functools.cache
def _editable(distribution: str) -> bool:
    """Whether a distribution is installed from a source tree (``pip install -e``)."""
    try:
        text = importlib.metadata.distribution(distribution).read_text("direct_url.json")
    except importlib.metadata.PackageNotFoundError:
        return False
    try:
        return bool(json.loads(text or "{}").get("dir_info", {}).get("editable"))
    except ValueError:
        return False


def _source_hash(files: list[Path]) -> str:
    h = hashlib.sha256()
    for path in sorted(set(files)):
        h.update(f"{path.name}\0{file_digest(path)}\n".encode())
    return h.hexdigest()


def _python_files_beside(obj: Any) -> list[Path]:
    try:
        where = Path(inspect.getfile(obj)).resolve()
    except (TypeError, OSError):
        return []
    return [p for p in where.parent.glob("*.py") if p.is_file()]


def provider_identity(registry: Registry, kind: str, component: Component) -> dict[str, Any]:
    """Name, distribution and version of the plugin that registered ``component`` (plus the
    hash of its source files when that version does not pin the code)."""
    info = registry.provider_info(kind, component.name)
    plugin = info.name if info else None
    identity: dict[str, Any] = {
        "plugin": plugin,
        "distribution": info.distribution if info else None,
        "version": info.version if info else None,
    }
    if identity["distribution"] is None or _editable(identity["distribution"]):
        files = _python_files_beside(type(component))
        module = registry.pm.get_plugin(plugin) if plugin else None
        if module is not None:
            files += _python_files_beside(module if inspect.ismodule(module) else type(module))
        identity["source_sha256"] = _source_hash(files) if files else None
    return identity


def path_values(options: dict[str, Any], component: Component) -> dict[str, Any]:
    """Options with every value that names an existing file or folder as a :class:`Path`
    (entering the key by content): declared ``path`` options always, other strings whenever
    they name something that exists, with or without a separator in them."""
    types = {name: opt.type for name, opt in declared(component).items()}
    out: dict[str, Any] = {}
    for name, value in options.items():
        if isinstance(value, str) and value not in ("", ".", ".."):
            path = Path(value).expanduser()
            if types.get(name) == "path" or path.exists():
                value = path.resolve()
        out[name] = value
    return out


def stage_key(registry: Registry, job: Job, spec: StageSpec, component: Component, options: dict[str, Any],
              input_shas: list[str], host: list[str] | None) -> str:
    """The cache key of one stage (see the module docstring for what enters it)."""
    from .plan import STAGE_KINDS

    payload: dict[str, Any] = {
        "cache_format": CACHE_FORMAT,
        "zoo_bench": ZOO_BENCH_VERSION,
        "kind": spec.kind,
        "component": spec.component,
        "provider": provider_identity(registry, STAGE_KINDS[spec.kind], component),
        "tool_versions": component.tool_versions(),
        "options": path_values(options, component),
        "input_files": [Path(p).resolve() for p in component.input_files(options)],
        "inputs": input_shas,
        "model": spec_to_dict(job.model),
        # model files named by the spec (local models, weights) enter by content
        "model_files": {k: Path(v).resolve() for k, v in job.model.builder
                        if isinstance(v, str) and v and Path(v).is_file()},
    }
    if spec.kind in ("compile", "run", "evaluate"):
        payload["target"] = job.target.id
    if host is not None:
        payload["host"] = host
    return cache_key(payload)
