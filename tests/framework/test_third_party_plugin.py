"""A third-party plugin, installed from its own pyproject.toml, adds a target that produces rows."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pyarrow.parquet as pq

from tests.conftest import run_cli

PLUGIN = '''
"""zoo-bench-toy: a target that times a small numpy network on this host."""
import numpy as np
from zoo_bench import Artifact, Figure, ModelSource, ModelSpec, Runner, StageOutput, Target, hookimpl
from zoo_bench.timing import latency_figures, time_calls


class ToySource(ModelSource):
    name = "toy"

    def models(self):
        yield ModelSpec(name="toy_mlp", source="toy", family="toy", resolution=4, native_format="npy")

    def build(self, model, ctx):
        w = np.random.default_rng(0).normal(size=(48, 10)).astype(np.float32)
        path = ctx.workdir / "w.npy"
        np.save(path, w)
        params = Figure("params", w.size, "count", "measured-host", "numpy", np.__version__)
        return StageOutput(Artifact(path, "npy"), [params])


class ToyRunner(Runner):
    name = "toy_numpy"
    accepts = ("npy",)

    def run(self, ctx):
        w = np.load(ctx.input.path)
        x = np.ones((1, 48), np.float32)
        samples = time_calls(lambda: x @ w, 2, 10)
        return StageOutput(figures=latency_figures(samples, "measured-host", "numpy", np.__version__))


class ToyTarget(Target):
    def plan(self, model, p):
        return [p.run(p.source(), "toy_numpy")]


@hookimpl
def zoo_bench_register_model_sources(register):
    register(ToySource())


@hookimpl
def zoo_bench_register_runners(register):
    register(ToyRunner())


@hookimpl
def zoo_bench_register_targets(register):
    register(ToyTarget(id="toy_cpu", vendor="toyco", device_class="CPU", description="toy target"))
'''

PYPROJECT = '''
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "zoo-bench-toy"
version = "0.3.0"

[project.entry-points.zoo_bench]
toy = "zoo_bench_toy"
'''


def test_installed_plugin_adds_a_target_that_produces_rows(tmp_path, zb_env):
    pkg = tmp_path / "zoo-bench-toy"
    pkg.mkdir()
    (pkg / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    (pkg / "zoo_bench_toy.py").write_text(textwrap.dedent(PLUGIN))
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(site), str(pkg)], check=True, capture_output=True, timeout=300)
    env = dict(zb_env, PYTHONPATH=str(site), ZOO_BENCH_PLUGINS="")

    listed = run_cli(["list", "targets"], env=env)
    assert listed.returncode == 0, listed.stderr
    assert any(line.startswith("toy_cpu ") and "toyco" in line for line in listed.stdout.splitlines())
    plugins = run_cli(["plugins"], env=env)
    assert any(line.startswith("toy ") and "zoo-bench-toy" in line and "0.3.0" in line
               for line in plugins.stdout.splitlines())

    out = tmp_path / "out"
    ran = run_cli(["run", "--model", "toy_mlp", "--target", "toy_cpu", "--output", str(out)], env=env)
    assert ran.returncode == 0, ran.stderr
    rows = [r for f in out.glob("runs/*/jobs/*.parquet") for r in pq.read_table(f).to_pylist()]
    p50 = [r for r in rows if r["metric"] == "latency_p50_ms"]
    assert len(p50) == 1 and p50[0]["value"] > 0 and p50[0]["target"] == "toy_cpu" and p50[0]["vendor"] == "toyco"
    assert [r["value"] for r in rows if r["metric"] == "params"] == [480.0]
