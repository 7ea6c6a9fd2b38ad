"""Plugin loading: registration, duplicate names, broken and disabled plugins."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from zoo_bench import ModelSpec, Target, UsageError, hookimpl
from zoo_bench.components import ModelSource
from zoo_bench.plugins import load_registry

from tests.conftest import run_cli


def test_fake_plugin_components_are_registered_by_kind(fake_registry):
    assert set(fake_registry.targets) == {"fake_a", "fake_b"}
    assert set(fake_registry.components["run"]) == {"fake_numpy"}
    assert fake_registry.provider[("quantize", "fake_int8")] == "fake"
    assert fake_registry.plugins["fake"].provides["target"] == ["fake_a", "fake_b"]
    assert "fake_tiny" in fake_registry.models()


class DuplicateTarget:
    @hookimpl
    def zoo_bench_register_targets(self, register):
        register(Target(id="fake_a", vendor="other", device_class="CPU"))


def test_duplicate_names_are_reported_naming_both_plugins(fake_registry):
    import zb_fake_plugin

    registry = load_registry([("fake", zb_fake_plugin), ("dup", DuplicateTarget())], entry_points=False)
    assert registry.targets["fake_a"].vendor == "fakes"
    (err,) = registry.errors
    assert "plugin 'dup'" in str(err) and "already registered by plugin 'fake'" in str(err)


class Misspelt:
    @hookimpl
    def zoo_bench_register_target(self, register):  # missing "s": not a hook
        raise AssertionError("never called")


def test_a_misspelt_hook_is_reported_and_the_plugin_left_out():
    import zb_fake_plugin

    registry = load_registry([("typo", Misspelt()), ("fake", zb_fake_plugin)], entry_points=False)
    assert "fake_a" in registry.targets
    assert [e.plugin for e in registry.errors] == ["typo"]
    assert "zoo_bench_register_target" in str(registry.errors[0])


class BadRegistration:
    @hookimpl
    def zoo_bench_register_model_sources(self, register):
        register("not a source")


def test_registering_the_wrong_type_is_a_plugin_error():
    registry = load_registry([("bad", BadRegistration())], entry_points=False)
    assert "not a ModelSource" in str(registry.errors[0]) and registry.errors[0].plugin == "bad"
    assert isinstance(ModelSource(), ModelSource)


def _fake_distribution(site: Path, name: str, module: str, code: str) -> None:
    """An installed-looking distribution (dist-info with an entry point) on a tmp path."""
    (site / f"{module}.py").write_text(textwrap.dedent(code))
    info = site / f"{name.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[zoo_bench]\n{module} = {module}\n")


def test_a_broken_third_party_plugin_gives_one_line_and_the_rest_works(tmp_path, zb_env):
    _fake_distribution(tmp_path, "zb-broken", "zb_broken", "raise ImportError('libfoo.so: cannot open')\n")
    zb_env["PYTHONPATH"] = f"{tmp_path}:{zb_env['PYTHONPATH']}"
    proc = run_cli(["list", "targets"], env=zb_env)
    assert proc.returncode == 0
    warnings = [line for line in proc.stderr.splitlines() if line]
    assert warnings == ["zoo-bench: warning: plugin 'zb_broken' (distribution zb-broken) failed to load: "
                        "ImportError: libfoo.so: cannot open"]
    assert "fake_a" in proc.stdout and "cpu" in proc.stdout


def test_disabled_plugins_are_not_loaded(zb_env):
    zb_env["ZOO_BENCH_DISABLE_PLUGINS"] = "host, zb_fake_plugin"
    proc = run_cli(["list", "targets", "--json"], env=zb_env)
    assert proc.returncode == 0
    assert '"cpu"' not in proc.stdout and "fake_a" not in proc.stdout


def test_plugins_command_lists_versions_and_what_each_provides(zb_env):
    proc = run_cli(["plugins"], env=zb_env)
    assert proc.returncode == 0
    host = next(line for line in proc.stdout.splitlines() if line.startswith("host "))
    assert "zoo-bench" in host and "run: litert, onnxruntime" in host and "target: cpu" in host


@pytest.mark.parametrize("kind", ["source", "quantize", "compile", "run", "target"])
def test_every_component_kind_has_a_registration_hook(kind, fake_registry):
    assert fake_registry.components[kind]


class Watcher:
    """A hook wrapper around target registration, as a plugin author may write one."""

    def __init__(self):
        self.seen: list[str] = []

    @hookimpl(hookwrapper=True)
    def zoo_bench_register_targets(self, register):
        self.seen.append("before")
        outcome = yield
        outcome.get_result()
        self.seen.append("after")
        register(Target(id="from_wrapper", vendor="w", device_class="CPU"))


class TwoTargets:
    def __init__(self, prefix: str):
        self.prefix = prefix

    @hookimpl
    def zoo_bench_register_targets(self, register):
        register(Target(id=f"{self.prefix}_1", vendor="t", device_class="CPU"))
        _register_second(register, self.prefix)  # through a helper: still attributed to this plugin


def _register_second(register, prefix: str) -> None:
    register(Target(id=f"{prefix}_2", vendor="t", device_class="CPU"))


def test_registration_hooks_go_through_pluggy_so_wrappers_and_monitors_see_them():
    from zoo_bench.plugins import Registry, make_plugin_manager

    pm = make_plugin_manager()
    watcher = Watcher()
    pm.register(watcher, name="watcher")
    pm.register(TwoTargets("a"), name="two_a")
    pm.register(TwoTargets("b"), name="two_b")
    calls: list[str] = []
    pm.add_hookcall_monitoring(lambda name, impls, kwargs: calls.append(name), lambda *args: None)
    registry = Registry(pm)
    assert watcher.seen == ["before", "after"]
    assert calls.count("zoo_bench_register_targets") == 1
    assert registry.provider[("target", "a_1")] == "two_a" and registry.provider[("target", "a_2")] == "two_a"
    assert registry.provider[("target", "b_2")] == "two_b"
    assert registry.provider[("target", "from_wrapper")] == "watcher"
    assert not registry.errors


class Raising:
    @hookimpl(tryfirst=True)  # called before the fake plugin: must not stop it
    def zoo_bench_register_runners(self, register):
        raise RuntimeError("runner SDK missing")


def test_a_raising_implementation_is_reported_and_the_others_still_register():
    import zb_fake_plugin

    registry = load_registry([("fake", zb_fake_plugin), ("raising", Raising())], entry_points=False)
    assert "fake_numpy" in registry.components["run"]
    (err,) = registry.errors
    assert err.plugin == "raising" and "RuntimeError: runner SDK missing" in str(err)


class ClaimsNames:
    @hookimpl(tryfirst=True)
    def zoo_bench_recognize_model(self, model, path):
        if model.startswith("claimed_") or (path is not None and path.suffix == ".toy"):
            return ModelSpec(name=model if path is None else path.stem, source="fake", family="claimed",
                             resolution=8, native_format="npz")
        return None


class LateAnswer:
    @hookimpl(trylast=True)
    def zoo_bench_recognize_model(self, model, path):
        return ModelSpec(name="late", source="fake", family="late", resolution=8, native_format="npz")


def test_recognize_model_is_a_firstresult_hook_with_tryfirst_and_trylast(tmp_path):
    import zb_fake_plugin
    from zoo_bench.plan import resolve_models

    registry = load_registry([("fake", zb_fake_plugin), ("claims", ClaimsNames())], entry_points=False)
    assert [m.family for m in resolve_models(["claimed_x"], registry)] == ["claimed"]
    toy = tmp_path / "net.toy"
    toy.write_text("x")
    assert [m.name for m in resolve_models([str(toy)], registry)] == ["net"]
    assert registry.model_from_name("unclaimed") is None  # the core's default asked the fake source
    (tmp_path / "w.bin").write_text("")
    with pytest.raises(UsageError, match="no model source reads '.bin' files"):
        registry.model_from_path(tmp_path / "w.bin")
    late = load_registry([("fake", zb_fake_plugin), ("claims", ClaimsNames()), ("late", LateAnswer())],
                         entry_points=False)
    assert late.model_from_name("claimed_y").family == "claimed"  # tryfirst answers first
    assert late.model_from_name("anything").name == "late"


def test_the_builtin_sources_answer_through_the_hook(tmp_path):
    registry = load_registry()
    spec = registry.model_from_name("mobilenet_v2_0.5_160")
    assert spec is not None and spec.source == "keras_applications" and spec.resolution == 160


def test_naming_an_installed_plugin_in_zoo_bench_plugins_is_one_line(zb_env):
    zb_env["ZOO_BENCH_PLUGINS"] = "zoo_bench.builtin.host,zb_fake_plugin"
    proc = run_cli(["list", "targets"], env=zb_env)
    assert proc.returncode == 0
    assert proc.stderr.splitlines() == [
        "zoo-bench: warning: plugin 'zoo_bench.builtin.host' named in $ZOO_BENCH_PLUGINS is already loaded as "
        "plugin 'host'; loaded once (remove it from $ZOO_BENCH_PLUGINS)"]
    assert "cpu" in proc.stdout and "fake_a" in proc.stdout
