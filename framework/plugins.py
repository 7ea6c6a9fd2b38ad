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
from .errors import PluginLoadError, UsageError, ZooBenchError
from .hook_owners import ImplOwners

ENTRY_POINT_GROUP = "zoo_bench"
#: Name under which the core registers its own default hook implementations.
CORE_PLUGIN = "zoo_bench.core"
hookimpl = pluggy.HookimplMarker("zoo_bench")
DISABLE_ENV = "ZOO_BENCH_DISABLE_PLUGINS"
#: Plugins of the core's own distribution, by entry-point name: loaded even when the installed
#: metadata predates them (an editable install of an older checkout), unless disabled.
BUILTIN_PLUGINS: dict[str, str] = {
    "host": "zoo_bench.builtin.host",
    "models": "zoo_bench.builtin.models",
    "quantizers": "zoo_bench.builtin.quantizers",
    "accuracy": "zoo_bench.builtin.accuracy",
    "estimate": "zoo_bench.estimate.plugin",
}
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


class AlreadyLoaded(PluginLoadError):
    """A module named in ``$ZOO_BENCH_PLUGINS`` is already loaded (e.g. installed with an entry point)."""

    def __init__(self, plugin: str, loaded_as: str):
        self.plugin = plugin
        self.distribution = None
        ZooBenchError.__init__(self, f"plugin {plugin!r} named in ${EXTRA_ENV} is already loaded as plugin "
                                     f"{loaded_as!r}; loaded once (remove it from ${EXTRA_ENV})")


class IncompatiblePlugin(PluginLoadError):
    """A plugin declares a plugin API version (``zoo_bench_api``) this zoo-bench does not provide."""

    def __init__(self, plugin: str, distribution: str | None, problem: str):
        self.plugin = plugin
        self.distribution = distribution
        where = f" (distribution {distribution})" if distribution else ""
        ZooBenchError.__init__(self, f"plugin {plugin!r}{where} {problem}: not loaded")


def load_env_plugins(pm: pluggy.PluginManager, errors: list[PluginLoadError], infos: dict[str, PluginInfo]) -> None:
    import importlib

    for name in (n.strip() for n in os.environ.get(EXTRA_ENV, "").split(",")):
        if not name or name in disabled_plugins() or pm.has_plugin(name):
            continue
        try:
            module = importlib.import_module(name)
        except Exception as exc:
            errors.append(PluginLoadError(name, f"${EXTRA_ENV}", exc))
            continue
        if pm.is_registered(module):  # pluggy's own ValueError would dump every registered module
            errors.append(AlreadyLoaded(name, pm.get_name(module) or "?"))
            continue
        try:
            pm.register(module, name=name)
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


def load_builtin_plugins(pm: pluggy.PluginManager, errors: list[PluginLoadError],
                         infos: dict[str, PluginInfo]) -> None:
    """The core's own plugins that the entry points did not load (and no one disabled)."""
    import importlib

    blocked = disabled_plugins()
    for name, module_name in BUILTIN_PLUGINS.items():
        if name in blocked or pm.has_plugin(name):
            continue
        try:
            module = importlib.import_module(module_name)
            if pm.is_registered(module):  # installed under another entry-point name
                continue
            pm.register(module, name=name)
        except Exception as exc:
            errors.append(PluginLoadError(name, "zoo-bench", exc))
            continue
        infos[name] = PluginInfo(name, "zoo-bench", None)


class Registry:
    """Components and targets registered by the loaded plugins, keyed by kind and name."""

    def __init__(self, pm: pluggy.PluginManager, infos: dict[str, PluginInfo] | None = None,
                 errors: list[PluginLoadError] | None = None):
        self.pm = pm
        self.errors: list[PluginLoadError] = list(errors or [])
        self.plugins: dict[str, PluginInfo] = dict(infos or {})
        self.components: dict[str, dict[str, Any]] = {kind: {} for kind in KINDS}
        self.provider: dict[tuple[str, str], str] = {}
        self._drop_incompatible_plugins()
        self._drop_invalid_plugins()
        if not pm.has_plugin(CORE_PLUGIN):
            pm.register(SourcesRecognizeModels(self), name=CORE_PLUGIN)
        for kind, (hook_name, base) in KINDS.items():
            self._collect(kind, hook_name, base)
        self._models: dict[str, ModelSpec] | None = None

    def _drop_incompatible_plugins(self) -> None:
        """A plugin declaring a plugin API this zoo-bench does not provide is reported and left out."""
        from .plugin import API_ATTRIBUTE, api_problem

        for name, plugin in list(self.pm.list_name_plugin()):
            if not hasattr(plugin, API_ATTRIBUTE) or name == CORE_PLUGIN:
                continue
            problem = api_problem(getattr(plugin, API_ATTRIBUTE))
            if problem:
                self.pm.unregister(plugin)
                info = self.plugins.pop(name, None)
                self.errors.append(IncompatiblePlugin(name, info.distribution if info else None, problem))

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
        """Call a registration hook through ``pm.hook`` (one call: wrappers, ordering and tracing
        as pluggy defines them) and keep what each plugin registered.

        ``register`` learns which plugin calls it from the call stack (the frame of a hook
        implementation). An implementation that raises is reported, and the hook is called
        again without it, so one broken plugin never hides the others' components.
        """
        hook = getattr(self.pm.hook, hook_name)
        excluded: list[object] = []
        while True:
            impls = [impl for impl in hook.get_hookimpls() if impl.plugin not in excluded]
            owners = ImplOwners(impls)
            registered: list[tuple[str, Any]] = []

            def register(obj: Any, _owners: ImplOwners = owners, _into: list = registered) -> None:
                _into.append((_owners.caller(), obj))

            call = self.pm.subset_hook_caller(hook_name, excluded) if excluded else hook
            try:
                call(register=register)
                break
            except Exception as exc:
                culprit = owners.raiser(exc)
                name = culprit.plugin_name if culprit else f"(a {hook_name} implementation)"
                self.errors.append(PluginLoadError(name, self._distribution(name), exc))
                if culprit is None:
                    return
                excluded.append(culprit.plugin)
        # First loaded wins a duplicate name, whatever order pluggy called the implementations in.
        order = {impl.plugin_name: i for i, impl in enumerate(hook.get_hookimpls())}
        for plugin_name, obj in sorted(registered, key=lambda item: order.get(item[0], len(order))):
            self._add(kind, hook_name, base, plugin_name, obj)

    def _add(self, kind: str, hook_name: str, base: type, plugin_name: str, obj: Any) -> None:
        info = self.plugins.setdefault(plugin_name, PluginInfo(plugin_name, None, None))
        if not isinstance(obj, base):
            problem = f"{hook_name} registered {obj!r}, not a {base.__name__}"
        else:
            name = obj.id if isinstance(obj, Target) else obj.name
            other = self.provider.get((kind, name))
            problem = (f"{type(obj).__name__} has no name" if not name else
                       f"{kind} {name!r} is already registered by plugin {other!r}" if other is not None else "")
        if problem:
            self.errors.append(PluginLoadError(plugin_name, info.distribution, problem))
            return
        self.components[kind][name] = obj
        self.provider[(kind, name)] = plugin_name
        info.provides.setdefault(kind, []).append(name)

    def _distribution(self, plugin_name: str) -> str | None:
        info = self.plugins.get(plugin_name)
        return info.distribution if info else None

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

    def recognize_model(self, model: str, path: Path | None = None) -> ModelSpec | None:
        """The answer of the ``zoo_bench_recognize_model`` hook (first non-``None``), checked."""
        spec = self.pm.hook.zoo_bench_recognize_model(model=model, path=path)
        if spec is not None and not isinstance(spec, ModelSpec):
            raise UsageError(f"a zoo_bench_recognize_model hook answered {model!r} with {spec!r}, not a ModelSpec")
        return spec

    def model_from_name(self, name: str) -> ModelSpec | None:
        """A model outside every catalog that some plugin recognises by name, or ``None``."""
        return self.recognize_model(name, None)

    def model_from_path(self, path: Path) -> ModelSpec:
        """A model file given as ``--model``: the first plugin or source that recognises it."""
        if not path.is_file():
            raise UsageError(f"model file {str(path)!r} does not exist")
        spec = self.recognize_model(str(path), path)
        if spec is None:
            raise UsageError(f"no model source reads {path.suffix!r} files like {str(path)!r}")
        return spec

    # --- commands ----------------------------------------------------------------------------
    def register_commands(self, group: Any) -> list[str]:
        """Let every plugin add its commands to the click ``group``; one problem line per plugin
        whose implementation raised or took a command name that is already used (left out)."""
        problems: list[str] = []
        for impl in self.pm.hook.zoo_bench_register_commands.get_hookimpls():
            before = dict(group.commands)
            try:
                impl.function(*[{"cli": group}.get(arg) for arg in impl.argnames])
            except Exception as exc:
                group.commands.clear()
                group.commands.update(before)
                why = " | ".join(line.strip() for line in str(exc).strip().splitlines() if line.strip())
                problems.append(f"plugin {impl.plugin_name!r} could not register its commands: "
                                f"{type(exc).__name__}: {why}; left out")
                continue
            for name, command in before.items():
                if group.commands.get(name) is not command:
                    group.commands[name] = command
                    problems.append(f"plugin {impl.plugin_name!r} registers command {name!r}, which is "
                                    f"already a command; its own is left out")
        return problems

    # --- lifecycle events ------------------------------------------------------------------
    def job_started(self, job: Any, run_id: str) -> None:
        self.pm.hook.zoo_bench_job_started(job=job, run_id=run_id)

    def job_finished(self, job: Any, result: Any) -> None:
        self.pm.hook.zoo_bench_job_finished(job=job, result=result)


class SourcesRecognizeModels:
    """The core's ``trylast`` answer to ``zoo_bench_recognize_model``: ask every registered
    source's ``spec_for_path`` / ``spec_for_name``, in registration order."""

    def __init__(self, registry: Registry):
        self.registry = registry

    @hookimpl(trylast=True)
    def zoo_bench_recognize_model(self, model: str, path: Path | None) -> ModelSpec | None:
        for source in self.registry.sources.values():
            spec = source.spec_for_path(path) if path is not None else source.spec_for_name(model)
            if spec is not None:
                return spec
        return None


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
        load_builtin_plugins(pm, errors, infos)
        load_env_plugins(pm, errors, infos)
    return Registry(pm, infos, errors)


def get_registry() -> Registry:
    """The process-wide registry of installed plugins (built on first use)."""
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = load_registry()
    return _REGISTRY

