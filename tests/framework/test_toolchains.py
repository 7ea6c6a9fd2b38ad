"""`zoo-bench toolchain`: the hook, finding a Python, installing into the data folder (idempotent,
starting clean after an interruption, checked), and the one-line refusals."""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import zipfile
from pathlib import Path

import pytest
from zoo_bench import hookimpl, toolchains
from zoo_bench.cli import main
from zoo_bench.errors import UsageError
from zoo_bench.plugins import load_registry

PY = f"{sys.version_info.major}.{sys.version_info.minor}"


def _wheel(folder: Path) -> Path:
    """A minimal offline wheel ``zbfake`` with a console script ``zbfake-check`` printing a version."""
    files = {
        "zbfake/__init__.py": "def main():\n    print('zbfake, version 0.1')\n",
        "zbfake-0.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: zbfake\nVersion: 0.1\n",
        "zbfake-0.1.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        "zbfake-0.1.dist-info/entry_points.txt": "[console_scripts]\nzbfake-check = zbfake:main\n",
    }
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(text.encode())}")
    files["zbfake-0.1.dist-info/RECORD"] = "\n".join([*record, "zbfake-0.1.dist-info/RECORD,,"]) + "\n"
    path = folder / "zbfake-0.1-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


@pytest.fixture
def spec(tmp_path: Path) -> toolchains.ToolchainSpec:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _wheel(wheels)
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("zbfake==0.1\n")
    return toolchains.ToolchainSpec(name="fake", description="a test toolchain", python=PY, packages=("zbfake",),
                                    constraints=constraints, check=("zbfake-check",),
                                    pip_args=("--no-index", "--find-links", str(wheels)))


@pytest.fixture(autouse=True)
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(toolchains.DATA_ENV, str(tmp_path / "data"))
    return tmp_path / "data"


def test_the_hook_declares_toolchains_and_bad_declarations_are_reported(spec):
    class Plugin:
        @hookimpl
        def zoo_bench_register_toolchains(self, register):
            register(spec)
            register("not a spec")

    found, problems = toolchains.collect(load_registry(extra_plugins=[("fake_tc", Plugin())]).pm)
    assert found["fake"] is spec
    assert "horizon" in found  # the RDK X5 plugin's
    assert problems == ["zoo_bench_register_toolchains registered 'not a spec', not a ToolchainSpec"]


def test_data_folder_follows_the_environment(monkeypatch, tmp_path):
    assert toolchains.toolchain_dir("x") == tmp_path / "data" / "toolchains" / "x"
    monkeypatch.delenv(toolchains.DATA_ENV)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert toolchains.data_dir() == tmp_path / "xdg" / "zoo-bench"


def test_install_is_checked_idempotent_and_starts_clean_after_an_interruption(spec, data):
    lines: list[str] = []
    record = toolchains.install(spec, Path(sys.executable), lines.append)
    assert record["check"] == "zbfake, version 0.1" and record["size_bytes"] > 0
    python = toolchains.installed_python("fake")
    assert python == data / "toolchains" / "fake" / "venv" / "bin" / "python"  # the venv's, not resolved
    assert any("[2/3] pip install" in line for line in lines)
    assert json.loads((data / "toolchains" / "fake" / "installed.json").read_text())["name"] == "fake"
    lines.clear()
    assert toolchains.install(spec, Path(sys.executable), lines.append) == record
    assert lines == [f"fake is already installed at {data / 'toolchains' / 'fake'} (remove it or use --force "
                     "to reinstall)"]
    # an interrupted install: the marker is written last, so its absence means "start again"
    (data / "toolchains" / "fake" / "installed.json").unlink()
    assert toolchains.installed("fake") is None
    lines.clear()
    toolchains.install(spec, Path(sys.executable), lines.append)
    assert lines[0].startswith("removing an unfinished install") and toolchains.installed("fake") is not None


def test_a_failing_check_leaves_no_marker(spec):
    from dataclasses import replace

    bad = replace(spec, check=("python", "-c", "raise SystemExit('hb_mapper: broken')"))
    with pytest.raises(UsageError, match="hb_mapper: broken"):
        toolchains.install(bad, Path(sys.executable), lambda line: None)
    assert toolchains.installed("fake") is None


def test_find_python_order_and_refusals(monkeypatch, tmp_path):
    monkeypatch.setenv("ZB_TEST_PY", sys.executable)
    exe, looked = toolchains.find_python(PY, None, "ZB_TEST_PY")
    assert exe == Path(sys.executable) and looked == ["$ZB_TEST_PY"]
    with pytest.raises(UsageError, match="needs CPython 2.7"):
        toolchains.find_python("2.7", sys.executable)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "none"))
    monkeypatch.setenv("HOME", str(tmp_path))
    exe, looked = toolchains.find_python("2.7", None, "ZB_UNSET")
    assert exe is None
    assert looked == ["$ZB_UNSET", "pyenv versions", "uv python find 2.7", "python2.7 on PATH"]


def test_cli_without_python_310_says_where_it_looked(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "none"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("ZOO_BENCH_PYTHON310", raising=False)
    with pytest.raises(SystemExit) as exc:
        main(["toolchain", "install", "horizon"])
    assert exc.value.code == 2
    errors = [ln for ln in capsys.readouterr().err.splitlines() if not ln.startswith("zoo-bench: warning:")]
    assert len(errors) == 1
    err = errors[0]
    assert "no CPython 3.10 found (looked in: $ZOO_BENCH_PYTHON310, pyenv versions" in err
    assert "uv python install 3.10" in err


def test_cli_list_and_path(capsys):
    main(["toolchain", "list"])
    assert "horizon" in capsys.readouterr().out and "not installed"
    with pytest.raises(SystemExit) as exc:
        main(["toolchain", "path", "horizon"])
    assert exc.value.code == 2
    assert "zoo-bench toolchain install horizon" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["toolchain", "install", "nope"])
    assert exc.value.code == 2
    assert "no toolchain named 'nope' (known: horizon" in capsys.readouterr().err
