"""Each vendor plugin of this repository is a distribution of its own (issue 17, item 4): its own
pyproject.toml in plugins/<vendor>/ with its own name, version, dependencies and entry point, the
folder mapped as the package, and nothing of it left in the core's pyproject.toml.

Installing them is checked by hand (and by the plugin-template test for a generated plugin): a
scratch venv with ``pip install --no-deps -e . -e plugins/<vendor>`` makes ``zoo-bench plugins``
list each vendor plugin under its own distribution and version.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENDORS = {"stm32": "tflite-micro", "nxp_imx": "ethos-u-vela", "rdk_x5": None}


def _pyproject(path: Path) -> dict:
    return tomllib.loads(path.read_text())


@pytest.mark.parametrize("vendor", sorted(VENDORS))
def test_a_vendor_plugin_is_its_own_distribution(vendor):
    data = _pyproject(ROOT / "plugins" / vendor / "pyproject.toml")
    project, package = data["project"], f"zoo_bench_{vendor}"
    assert project["name"] == "zoo-bench-" + vendor.replace("_", "-")
    assert project["version"]
    assert project["entry-points"]["zoo_bench"] == {vendor: package}
    assert data["tool"]["setuptools"]["package-dir"] == {package: "."}
    assert data["tool"]["setuptools"]["packages"] == [package]
    deps = [d.split(">")[0].split("=")[0].split("<")[0].strip() for d in project["dependencies"]]
    assert "zoo-bench" in deps
    if VENDORS[vendor]:
        assert VENDORS[vendor] in deps
    # every data file the plugin reads at run time ships with it
    data_files = {p.suffix for p in (ROOT / "plugins" / vendor).iterdir() if p.suffix in (".json", ".ini", ".yaml")}
    shipped = {pattern.removeprefix("*") for pattern in data["tool"]["setuptools"]["package-data"][package]}
    assert data_files <= shipped


def test_the_core_distribution_holds_no_vendor_plugin():
    data = _pyproject(ROOT / "pyproject.toml")
    setuptools = data["tool"]["setuptools"]
    assert not [p for p in setuptools["packages"] if not p.startswith("zoo_bench.") and p != "zoo_bench"]
    assert set(setuptools["package-dir"]) == {"zoo_bench"}
    assert not [v for v in data["project"]["entry-points"]["zoo_bench"].values() if not v.startswith("zoo_bench.")]
    extras = data["project"]["optional-dependencies"]
    assert not {"nxp", "stm32"} & set(extras)
    assert all(dep.startswith("zoo-bench[") for dep in extras["all"])
    everything = [d for deps in extras.values() for d in deps] + data["project"]["dependencies"]
    assert not [d for d in everything if d.startswith(("ethos-u-vela", "tflite-micro"))]


def test_make_setup_installs_every_plugin_editable_with_the_constraints():
    makefile = (ROOT / "Makefile").read_text()
    assert "$(wildcard plugins/*/pyproject.toml)" in makefile
    assert "-c constraints.txt -e '.[all]' $(addprefix -e ./,$(PLUGINS))" in makefile
