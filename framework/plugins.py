"""Plugin loading and the registry: the one typed face over ``pm.hook``.

Every plugin, the built-in ones included, is found through the ``zoo_bench`` entry-point
group. A plugin that fails to import or to register is reported (one line naming it) and
left out; the others keep working. ``ZOO_BENCH_DISABLE_PLUGINS=a,b`` blocks plugins by
entry-point name.
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy

from . import hookspecs
from .components import Compiler, Component, ModelSource, ModelSpec, Quantizer, Runner, Target
from .errors import PluginLoadError, UsageError

ENTRY_POINT_GROUP = "zoo_bench"
DISABLE_ENV = "ZOO_BENCH_DISABLE_PLUGINS"
#: Comma list of importable module names loaded as plugins without installing them
#: (like ``pytest -p``): for trying a plugin from a source tree, and for tests.
EXTRA_ENV = "ZOO_BENCH_PLUGINS"

#: component kind -> (registration hook, base class)
KINDS: dict[str, tuple[str, type]] = {
    "source": ("zoo_bench_register_model_sources", ModelSource),
    "quantize": ("zoo_bench_register_quantizers", Quantizer),
    "compile": ("zoo_bench_register_compilers", Compiler),
    "run": ("zoo_bench_register_runners", Runner),
    "target": ("zoo_bench_register_targets", Target),
}


def make_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("zoo_bench")
    pm.add_hookspecs(hookspecs)
    return pm


@dataclass
class PluginInfo:
    name: str
    distribution: str | None
    version: str | None
    provides: dict[str, list[str]] = field(default_factory=dict)


def disabled_plugins() -> set[str]:
    return {p.strip() for p in os.environ.get(DISABLE_ENV, "").split(",") if p.strip()}


def load_env_plugins(pm: pluggy.PluginManager, errors: list[PluginLoadError], infos: dict[str, PluginInfo]) -> None:
    import importlib

    for name in (n.strip() for n in os.environ.get(EXTRA_ENV, "").split(",")):
        if not name or name in disabled_plugins() or pm.has_plugin(name):
            continue
        try:
            pm.register(importlib.import_module(name), name=name)
        except Exception as exc:
            errors.append(PluginLoadError(name, f"${EXTRA_ENV}", exc))
            continue
        infos[name] = PluginInfo(name, None, None)


def load_entry_point_plugins(pm: pluggy.PluginManager, errors: list[PluginLoadError],
                             infos: dict[str, PluginInfo]) -> None:
    blocked = disabled_plugins()
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in blocked or pm.has_plugin(ep.name):
            continue
        dist = ep.dist.name if ep.dist else None
        version = ep.dist.version if ep.dist else None
        try:
            plugin = ep.load()
            pm.register(plugin, name=ep.name)
        except Exception as exc:  # a broken third-party plugin must not stop the others
            errors.append(PluginLoadError(ep.name, dist, exc))
            continue
        infos[ep.name] = PluginInfo(ep.name, dist, version)


class Registry:
    """Components and targets registered by the loaded plugins, keyed by kind and name."""

    def __init__(self, pm: pluggy.PluginManager, infos: dict[str, PluginInfo] | None = None,
                 errors: list[PluginLoadError] | None = None):
        self.pm = pm
        self.errors: list[PluginLoadError] = list(errors or [])
        self.plugins: dict[str, PluginInfo] = dict(infos or {})
        self.components: dict[str, dict[str, Any]] = {kind: {} for kind in KINDS}
        self.provider: dict[tuple[str, str], str] = {}
        self._drop_invalid_plugins()
        for kind, (hook_name, base) in KINDS.items():
            self._collect(kind, hook_name, base)
        self._models: dict[str, ModelSpec] | None = None

    def _drop_invalid_plugins(self) -> None:
        """A plugin implementing an unknown hook (a misspelt name) is reported and left out."""
        while True:
            try:
                self.pm.check_pending()
                return
            except pluggy.PluginValidationError as exc:
                name = self.pm.get_name(exc.plugin) or repr(exc.plugin)
                self.pm.unregister(exc.plugin)
                info = self.plugins.pop(name, None)
                self.errors.append(PluginLoadError(name, info.distribution if info else None, str(exc)))

    def _collect(self, kind: str, hook_name: str, base: type) -> None:
        hook = getattr(self.pm.hook, hook_name)
        for impl in hook.get_hookimpls():
            plugin_name = impl.plugin_name
            info = self.plugins.setdefault(plugin_name, PluginInfo(plugin_name, None, None))

            def register(obj: Any, _plugin: str = plugin_name, info: PluginInfo = info) -> None:
                if not isinstance(obj, base):
                    raise TypeError(f"{hook_name} registered {obj!r}, not a {base.__name__}")
                name = obj.id if isinstance(obj, Target) else obj.name
                if not name:
                    raise TypeError(f"{type(obj).__name__} has no name")
                other = self.provider.get((kind, name))
                if other is not None:
                    raise TypeError(f"{kind} {name!r} is already registered by plugin {other!r}")
                self.components[kind][name] = obj
                self.provider[(kind, name)] = _plugin
                info.provides.setdefault(kind, []).append(name)

            try:
                impl.function(register=register)
            except Exception as exc:
                self.errors.append(PluginLoadError(plugin_name, info.distribution, exc))

    # --- typed lookups -------------------------------------------------------------------
    @property
    def targets(self) -> dict[str, Target]:
        return self.components["target"]

    @property
    def sources(self) -> dict[str, ModelSource]:
        return self.components["source"]

    def provider_info(self, kind: str, name: str) -> PluginInfo | None:
        """The plugin (name, distribution, version) that registered component ``name`` of ``kind``."""
        plugin = self.provider.get((kind, name))
        return self.plugins.get(plugin) if plugin is not None else None

    def component(self, kind: str, name: str) -> Component:
        try:
            return self.components[kind][name]
        except KeyError:
            known = ", ".join(sorted(self.components[kind])) or "none"
            raise UsageError(f"no {kind} component named {name!r} is registered (known: {known})") from None

    def models(self) -> dict[str, ModelSpec]:
        """Every catalog model of every source, by name."""
        if self._models is None:
            models: dict[str, ModelSpec] = {}
            for source in self.sources.values():
                try:
                    listed = list(source.models())
                except Exception as exc:
                    plugin = self.provider[("source", source.name)]
                    self.errors.append(PluginLoadError(plugin, self.plugins[plugin].distribution, exc))
                    continue
                for spec in listed:
                    models.setdefault(spec.name, spec)
            self._models = models
        return self._models

    def model_from_name(self, name: str) -> ModelSpec | None:
        """A model outside every catalog that some source builds by name, or ``None``."""
        for source in self.sources.values():
            spec = source.spec_for_name(name)
            if spec is not None:
                return spec
        return None

    def model_from_path(self, path: Path) -> ModelSpec:
        """A model file given as ``--model``: the first source that recognises it."""
        if not path.is_file():
            raise UsageError(f"model file {str(path)!r} does not exist")
        for source in self.sources.values():
            spec = source.spec_for_path(path)
            if spec is not None:
                return spec
        raise UsageError(f"no model source reads {path.suffix!r} files like {str(path)!r}")

    # --- lifecycle events ------------------------------------------------------------------
    def job_started(self, job: Any, run_id: str) -> None:
        self.pm.hook.zoo_bench_job_started(job=job, run_id=run_id)

    def job_finished(self, job: Any, result: Any) -> None:
        self.pm.hook.zoo_bench_job_finished(job=job, result=result)


_REGISTRY: Registry | None = None


def load_registry(extra_plugins: Iterable[tuple[str, object]] = (), entry_points: bool = True) -> Registry:
    """Build a registry from entry-point plugins plus ``extra_plugins`` (name, module) pairs."""
    pm = make_plugin_manager()
    errors: list[PluginLoadError] = []
    infos: dict[str, PluginInfo] = {}
    for name, plugin in extra_plugins:
        pm.register(plugin, name=name)
        infos[name] = PluginInfo(name, None, None)
    if entry_points:
        load_entry_point_plugins(pm, errors, infos)
        load_env_plugins(pm, errors, infos)
    return Registry(pm, infos, errors)


def get_registry() -> Registry:
    """The process-wide registry of installed plugins (built on first use)."""
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = load_registry()
    return _REGISTRY

