"""The tutorial of docs/plugins.md, to the letter: its two files are taken from the page,
installed as a package, and its commands run; a target that feeds a non-timm torch model to the
built-in tflite_int8 quantizer and litert runner ends in measured rows."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import run_cli

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def tutorial_files() -> dict[str, str]:
    """``<!-- tutorial-file: NAME -->`` followed by a fenced block: NAME -> its text."""
    found = re.findall(r"<!-- tutorial-file: (\S+) -->\n```\w*\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    return dict(found)


def rows_of(out: Path) -> list[dict]:
    return [r for f in out.glob("runs/*/jobs/*.parquet") for r in pq.read_table(f).to_pylist()]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    files = tutorial_files()
    assert set(files) == {"zoo_bench_toy.py", "pyproject.toml"}
    root = tmp_path_factory.mktemp("tutorial")
    pkg = root / "zoo-bench-toy"
    pkg.mkdir()
    for name, text in files.items():
        (pkg / name).write_text(text)
    site = root / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(site), str(pkg)], check=True, capture_output=True, timeout=300)
    return site


@pytest.fixture
def env(installed, zb_env) -> dict[str, str]:
    return dict(zb_env, PYTHONPATH=str(installed), ZOO_BENCH_PLUGINS="")


def test_installed_plugin_is_listed_with_its_options(env):
    listed = run_cli(["list", "targets"], env=env)
    assert listed.returncode == 0, listed.stderr
    assert any(line.startswith("toy_cpu ") and "toyco" in line for line in listed.stdout.splitlines())
    assert any(line.startswith("toy_int8 ") for line in listed.stdout.splitlines())
    plugins = run_cli(["plugins", "-v"], env=env)
    assert any(line.startswith("toy ") and "zoo-bench-toy" in line and "0.3.0" in line
               and "source: toy, toy_torch" in line for line in plugins.stdout.splitlines())
    assert "  runs: int, default 10, >= 1: timed multiplications" in plugins.stdout.splitlines()


def test_installed_plugin_adds_a_target_that_produces_rows(env, tmp_path):
    out = tmp_path / "out"
    ran = run_cli(["run", "--model", "toy_mlp", "--target", "toy_cpu", "--output", str(out)], env=env)
    assert ran.returncode == 0, ran.stderr
    rows = rows_of(out)
    p50 = [r for r in rows if r["metric"] == "latency_p50_ms"]
    assert len(p50) == 1 and p50[0]["value"] > 0 and p50[0]["target"] == "toy_cpu" and p50[0]["vendor"] == "toyco"
    assert [r["value"] for r in rows if r["metric"] == "params"] == [480.0]


@pytest.mark.e2e
@pytest.mark.skipif(any(importlib.util.find_spec(m) is None for m in ("torch", "litert_torch", "tensorflow",
                                                                       "ai_edge_litert")),
                    reason="needs zoo-bench[host,torch]")
def test_a_non_timm_torch_model_goes_through_the_builtin_quantizer(env, tmp_path):
    """Before: ``KeyError: 'timm_name'`` in tflite_int8 for a torch model of another source."""
    out = tmp_path / "out"
    ran = run_cli(["run", "--model", "toy_cnn", "--target", "toy_int8", "--output", str(out)], env=env)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    rows = {(r["stage"], r["metric"]): r for r in rows_of(out) if r["status"] == "ok"}
    size = rows[("quantize:tflite_int8", "model_size_kib")]
    assert size["variant"] == "int8" and 0 < size["value"] < 64  # a 3x3x3x8 conv and an 8x10 head
    p50 = rows[("run:litert:int8", "latency_p50_ms")]
    assert p50["value"] > 0 and p50["method"] == "measured-host" and p50["tool"] == "litert"
    assert rows[("source", "params")]["value"] == 3 * 3 * 3 * 8 + 8 + 8 * 10 + 10
