"""A small in-tree plugin for harness tests, loaded with ZOO_BENCH_PLUGINS=zb_fake_plugin.

Its model is a real (tiny, numpy) two-layer network, its runner really times it on this host,
and a few models misbehave on purpose (abort, hang, raise) so tests can watch the harness
contain them. Every call appends a line to $ZB_FAKE_LOG so tests can count executions.
"""

from __future__ import annotations

import os
import time

import numpy as np
from zoo_bench import (
    Artifact,
    Compiler,
    Figure,
    ModelSource,
    ModelSpec,
    Quantizer,
    Runner,
    StageOutput,
    Target,
    hookimpl,
)
from zoo_bench.timing import latency_figures, time_calls


def broken(part: str) -> bool:
    """Tests set ZB_FAKE_BREAK=plan,unavailable,hook to make parts of the plugin misbehave."""
    return part in os.environ.get("ZB_FAKE_BREAK", "").split(",")


def note(text: str) -> None:
    log = os.environ.get("ZB_FAKE_LOG")
    if log:
        with open(log, "a") as fh:
            fh.write(text + "\n")


class FakeSource(ModelSource):
    """Tiny numpy MLPs; some misbehave on purpose."""

    name = "fake"
    export_formats = ("npz",)

    def models(self):
        for name in ("fake_tiny", "fake_other", "fake_crash", "fake_hang", "fake_fail"):
            yield ModelSpec(name=name, source="fake", family="fake", resolution=8, native_format="npz",
                            classes=10, params=8 * 8 * 3 * 16 + 16 * 10, default_in_family=name == "fake_tiny")

    def build(self, model, ctx):
        note(f"build {model.name}")
        if model.name == "fake_crash":
            os.abort()
        if model.name == "fake_hang":
            time.sleep(3600)
        if model.name == "fake_fail":
            raise RuntimeError("the fake model refuses to build")
        # executor tests make builds last a while to see what overlaps
        time.sleep(float(os.environ.get("ZB_FAKE_BUILD_SLEEP", "0")))
        rng = np.random.default_rng(0 if model.name == "fake_tiny" else 1)
        w1 = rng.normal(size=(8 * 8 * 3, 16)).astype(np.float32)
        w2 = rng.normal(size=(16, model.classes)).astype(np.float32)
        path = ctx.workdir / f"{model.name}.npz"
        np.savez(path, w1=w1, w2=w2)
        params = int(w1.size + w2.size)
        return StageOutput(Artifact(path, "npz", meta={"weights": "random"}),
                           [Figure("params", params, "count", "measured-host", "numpy", np.__version__)])


class FakeQuantizer(Quantizer):
    """Symmetric per-tensor int8 of the numpy weights (test fake only)."""

    name = "fake_int8"
    accepts = ("npz",)
    produces = "npz"

    def quantize(self, ctx):
        note(f"quantize {ctx.model.name}")
        data = np.load(ctx.input.path)
        out = {}
        for k in data.files:
            scale = float(np.abs(data[k]).max() / 127.0)
            out[k] = np.round(data[k] / scale).astype(np.int8)
            out[k + "_scale"] = np.float32(scale)
        path = ctx.workdir / "int8.npz"
        np.savez(path, **out)
        size = path.stat().st_size / 1024
        return StageOutput(Artifact(path, "npz", "int8"),
                           [Figure("model_size_kib", size, "KiB", "measured-host", "zoo-bench", "test")])


class FakeMissingCompiler(Compiler):
    """A compiler whose tool is never installed."""

    name = "fake_missing_tool"
    accepts = ("npz",)

    def unavailable_reason(self, target=None, options=None):
        if broken("unavailable"):
            raise ValueError("the availability check itself crashed")
        return "fakec not found on PATH"


class FakeRunner(Runner):
    """Times the numpy forward pass on this host."""

    name = "fake_numpy"
    accepts = ("npz",)
    options = {"runs": "timed runs", "warmup": "untimed runs", "sleep_s": "extra sleep per run (tests)"}

    def run(self, ctx):
        note(f"run {ctx.model.name} {ctx.stage_id}")
        data = np.load(ctx.input.path)
        w1 = data["w1"].astype(np.float32)
        w2 = data["w2"].astype(np.float32)
        x = np.ones((1, w1.shape[0]), np.float32)
        sleep_s = float(ctx.options.get("sleep_s", 0))

        def forward():
            np.maximum(x @ w1, 0) @ w2
            if sleep_s:
                time.sleep(sleep_s)

        samples = time_calls(forward, int(ctx.options.get("warmup", 2)), int(ctx.options.get("runs", 20)))
        figures = latency_figures(samples, "measured-host", "numpy", np.__version__)
        for bad, value in (("figure_nan", float("nan")), ("figure_negative", -3.0), ("figure_zero", 0.0)):
            if broken(bad):  # a board tool's impossible output (hardening tests)
                figures[0].value = value
        if broken("memory_hog"):  # a stage that grows past its memory bound (hardening tests)
            hog = np.ones(int(os.environ.get("ZB_FAKE_HOG_MB", "600")) * 131072)
            time.sleep(5 + 0 * hog[0])
        if broken("score_over_100"):  # a plugin-registered metric outside its own domain
            figures.append(Figure("fake_score", 140.0, "%", "measured-host", "numpy", np.__version__))
        return StageOutput(figures=figures)


class FakeTarget(Target):
    def plan(self, model, p):
        if broken("plan") and self.id == "fake_b":
            raise RuntimeError("fake_b cannot plan today")
        src = p.source()
        q = p.quantize(src, "fake_int8")
        if self.id == "fake_b":
            c = p.compile(q, "fake_missing_tool")
            return [p.run(src, "fake_numpy"), p.run(c, "fake_numpy")]
        return [p.run(src, "fake_numpy"), p.run(q, "fake_numpy")]


@hookimpl
def zoo_bench_register_model_sources(register):
    register(FakeSource())


@hookimpl
def zoo_bench_register_quantizers(register):
    register(FakeQuantizer())


@hookimpl
def zoo_bench_register_compilers(register):
    register(FakeMissingCompiler())


@hookimpl
def zoo_bench_register_runners(register):
    register(FakeRunner())


@hookimpl
def zoo_bench_register_targets(register):
    register(FakeTarget(id="fake_a", vendor="fakes", device_class="CPU", defaults=(("runs", 20),)))
    register(FakeTarget(id="fake_b", vendor="fakes", device_class="NPU", clock_mhz=1000.0,
                        memory_kib=(("sram", 512),)))


@hookimpl
def zoo_bench_job_started(job, run_id):
    note(f"job_started {job.id} {run_id}")


@hookimpl
def zoo_bench_job_finished(job, result):
    note(f"job_finished {job.id} {result.status} {len(result.records)}")
    if broken("hook"):
        raise KeyError("observer bug")


@hookimpl
def zoo_bench_register_metrics(register):
    from zoo_bench.plugin import Metric

    register(Metric("fake_score", "%", "higher", "percent", True, "exact", "a score of the fake plugin"))
