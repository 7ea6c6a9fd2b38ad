"""How the plugin finds the Horizon toolchain: the path given is kept (a venv's python is a symlink
that must not be resolved), then the variable, then `zoo-bench toolchain install horizon`'s."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from zoo_bench import toolchains
from zoo_bench_rdk_x5 import toolchain
from zoo_bench_rdk_x5.hb_mapper import HbMapperCompiler


def _venv_python(root: Path) -> Path:
    (root / "bin").mkdir(parents=True)
    link = root / "bin" / "python"
    link.symlink_to(sys.executable)  # as `python -m venv` makes it
    return link


def test_the_option_keeps_a_symlinked_venv_python_as_given(tmp_path, monkeypatch):
    monkeypatch.delenv(toolchain.HORIZON_PYTHON_ENV, raising=False)
    python = _venv_python(tmp_path / "env")
    typed = HbMapperCompiler.options["toolchain_python"].parse("toolchain_python", str(python))
    found = toolchain.find_toolchain({"toolchain_python": typed})
    assert found.command[0] == str(python) and found.bin_dir == tmp_path / "env" / "bin"
    assert HbMapperCompiler.options["toolchain_python"].type == "str"  # a "path" option would resolve it
    monkeypatch.chdir(tmp_path)
    relative = toolchain.find_toolchain({"toolchain_python": "env/bin/python"})
    assert relative.command[0] == str(python)  # absolute, still the link


def test_the_installed_toolchain_is_found_with_no_option(monkeypatch, tmp_path):
    monkeypatch.delenv(toolchain.HORIZON_PYTHON_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert toolchain.find_toolchain({}) is None
    root = toolchains.toolchain_dir("horizon")
    python = _venv_python(root / "venv")
    (root / "installed.json").write_text(json.dumps({"name": "horizon", "check": "hb_mapper, version 1.24.3"}))
    found = toolchain.find_toolchain({})
    assert found.command[0] == str(python) and "zoo-bench toolchain horizon" in found.origin
    assert HbMapperCompiler().unavailable_reason(None, {}) is None
    monkeypatch.setenv(toolchain.HORIZON_PYTHON_ENV, str(tmp_path / "other"))
    assert "$ZOO_BENCH_HORIZON_PYTHON" in toolchain.find_toolchain({}).origin  # the variable goes first
