"""``zoo_bench.plugin``: the declared plugin API, its version and the check at load."""

from __future__ import annotations

import ast
import subprocess
import sys
import types
from pathlib import Path

import pytest
import zoo_bench.plugin as plugin_api
from zoo_bench.plugin import PLUGIN_API_VERSION, Compiler, api_problem, hookimpl
from zoo_bench.plugins import IncompatiblePlugin, load_registry

ROOT = Path(__file__).resolve().parents[2]


def _plugin(name: str, api: object = None) -> types.ModuleType:
    """A plugin module registering compiler ``name`` (declaring ``zoo_bench_api = api`` unless None)."""
    module = types.ModuleType(name)
    if api is not None:
        module.zoo_bench_api = api
    compiler = type(f"{name}_compiler", (Compiler,), {"name": name})

    @hookimpl
    def zoo_bench_register_compilers(register):
        register(compiler())

    module.zoo_bench_register_compilers = zoo_bench_register_compilers
    return module


def test_version_rule_same_major_and_no_newer_minor():
    major, minor = (int(p) for p in PLUGIN_API_VERSION.split("."))
    assert api_problem(str(major)) is None and api_problem(f"{major}.{minor}") is None and api_problem(major) is None
    assert "needs zoo-bench plugin API" in api_problem(str(major + 1))
    assert "needs zoo-bench plugin API" in api_problem(f"{major}.{minor + 1}")
    assert "not a version" in api_problem("one")
    assert "not a version" in api_problem(True)


def test_an_incompatible_plugin_is_refused_with_one_line_and_the_others_load():
    registry = load_registry([("old", _plugin("old_c", "0")), ("new", _plugin("new_c", PLUGIN_API_VERSION)),
                              ("silent", _plugin("silent_c"))], entry_points=False)
    assert set(registry.components["compile"]) == {"new_c", "silent_c"}
    assert "old" not in registry.plugins
    [error] = registry.errors
    assert isinstance(error, IncompatiblePlugin)
    assert str(error) == (f"plugin 'old' needs zoo-bench plugin API 0, this zoo-bench provides "
                          f"{PLUGIN_API_VERSION}: not loaded")
    assert "\n" not in str(error)


def test_the_declared_api_names_exist_and_importing_it_stays_light():
    for name in plugin_api.__all__:
        assert getattr(plugin_api, name) is not None, name
    code = ("import sys, zoo_bench.plugin; "
            "print([m for m in ('tensorflow', 'torch', 'onnxruntime') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr


@pytest.mark.parametrize("vendor", ["stm32", "nxp_imx", "rdk_x5"])
def test_vendor_plugins_take_hookimpl_and_base_classes_from_the_declared_api(vendor):
    """Plugins in this repository are written against ``zoo_bench.plugin`` like a third party's."""
    offenders = []
    for path in (ROOT / "plugins" / vendor).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "zoo_bench":
                offenders.append(f"{path.name}:{node.lineno}")
    assert not offenders, f"import from zoo_bench.plugin instead: {offenders}"
