"""zoo_bench.testing, used the way a plugin author does: from a plugin's own test folder,
outside this repository, with none of this repository's conftest helpers."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from zoo_bench import Figure, StageOutput
from zoo_bench.testing import check_output

PLUGIN = '''
import numpy as np
from zoo_bench import Artifact, Figure, ModelSource, ModelSpec, Runner, StageOutput, Target, hookimpl
from zoo_bench.options import Option
from zoo_bench.timing import latency_figures, time_calls


class DotSource(ModelSource):
    name = "dot"

    def models(self):
        yield ModelSpec(name="dot_mlp", source="dot", family="dot", resolution=4, native_format="npy")

    def build(self, model, ctx):
        w = np.random.default_rng(0).normal(size=(48, 10)).astype(np.float32)
        np.save(ctx.workdir / "w.npy", w)
        return StageOutput(Artifact(ctx.workdir / "w.npy", "npy"),
                           [Figure("params", w.size, "count", "measured-host", "numpy", np.__version__)])


class DotRunner(Runner):
    name = "dot_numpy"
    accepts = ("npy",)
    options = {"runs": Option("int", default=7, min=1, help="timed runs")}

    def run(self, ctx):
        w = np.load(ctx.input.path)
        x = np.ones((1, 48), np.float32)
        samples = time_calls(lambda: x @ w, 1, ctx.options["runs"])
        return StageOutput(figures=latency_figures(samples, "measured-host", "numpy", np.__version__,
                                                   {"runs": ctx.options["runs"]}))


class DotTarget(Target):
    def plan(self, model, p):
        return [p.run(p.source(), "dot_numpy")]


@hookimpl
def zoo_bench_register_model_sources(register):
    register(DotSource())


@hookimpl
def zoo_bench_register_runners(register):
    register(DotRunner())


@hookimpl
def zoo_bench_register_targets(register):
    register(DotTarget(id="dot_cpu", vendor="dotco", device_class="CPU"))
'''

PLUGIN_TESTS = '''
import pytest
from zoo_bench.errors import UsageError

import zb_dot_plugin as plugin


def test_stages_in_process(zoo_bench_tester):
    tester = zoo_bench_tester.load("zb_dot_plugin")
    model = next(plugin.DotSource().models())
    built = tester.run_stage(plugin.DotSource(), model)
    assert built.artifact.format == "npy" and built.figures[0].value == 480
    ran = tester.run_stage(plugin.DotRunner(), model, inputs=[built.artifact])
    p50 = [f for f in ran.figures if f.metric == "latency_p50_ms"]
    assert p50[0].value > 0 and p50[0].extra["runs"] == 7 and len(p50[0].samples) == 7
    ran = tester.run_stage(plugin.DotRunner(), model, inputs=[built.artifact], options={"runs": "3"})
    assert len(ran.figures[0].samples) == 3
    with pytest.raises(UsageError, match="does not declare"):
        tester.run_stage(plugin.DotRunner(), model, inputs=[built.artifact], options={"rusn": 3})


def test_through_the_cli(zoo_bench_tester):
    tester = zoo_bench_tester.load("zb_dot_plugin")
    result = tester.run("dot_mlp", "dot_cpu", "--runs", "4")
    assert result.returncode == 0, result.stderr
    assert result.values("params") == [480.0]
    (p50,) = [r for r in result.rows if r["metric"] == "latency_p50_ms"]
    assert p50["value"] > 0 and p50["target"] == "dot_cpu" and p50["vendor"] == "dotco"
    assert (tester.root / "cache").is_dir()  # the temp cache, not the user's
    bad = tester.run("dot_mlp", "dot_cpu", "-s", "runs=0")
    assert bad.returncode == 2 and bad.rows == []
'''


def test_a_plugin_tests_itself_with_zoo_bench_testing(tmp_path):
    project = tmp_path / "zb-dot"
    (project / "tests").mkdir(parents=True)
    (project / "zb_dot_plugin.py").write_text(textwrap.dedent(PLUGIN))
    (project / "tests" / "conftest.py").write_text('pytest_plugins = ["zoo_bench.testing"]\n')
    (project / "tests" / "test_dot.py").write_text(textwrap.dedent(PLUGIN_TESTS))
    (project / "pytest.ini").write_text("[pytest]\npythonpath = .\n")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
                          cwd=project, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout


def test_check_output_rejects_a_figure_without_provenance(tmp_path):
    bad = StageOutput(figures=[Figure("latency_p50_ms", 1.0, "ms", "measured-host", "numpy", "")])
    with pytest.raises(AssertionError, match="tool and tool_version are required"):
        check_output(bad, tmp_path)
    with pytest.raises(AssertionError, match="not finite"):
        check_output(StageOutput(figures=[Figure("x", float("nan"), "ms", "measured-host", "t", "1")]), tmp_path)
