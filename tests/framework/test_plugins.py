"""Plugin loading: registration, duplicate names, broken and disabled plugins."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from zoo_bench import Target, hookimpl
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
