"""Extra fake targets and a trivial source for the scale benchmarks (never in the product).

- ``fake_c``, ``fake_d``: like the fake plugin's ``fake_a`` (build, quantize, two timings), so
  that with ``fake_a``/``fake_b`` a matrix has 4 targets;
- ``fake_conv``: build and quantize only (stages that may overlap);
- ``bench_trivial`` with the source ``bench_skip``: a stage decided in the controlling process
  (skipped) and one blocked by it, to time planning and scheduling without processes.
"""

from __future__ import annotations

import dataclasses

from zb_fake_plugin import FakeTarget
from zoo_bench import ModelSource, ModelSpec, Target, hookimpl


class BenchSkipSource(ModelSource):
    """A source whose stages are always skipped in the controlling process."""

    name = "bench_skip"

    def models(self):
        return []

    def unavailable_reason(self, target=None, options=None):
        return "benchmark: a trivial stage decided without a process"


class ConversionsOnly(Target):
    def plan(self, model, p):
        return [p.quantize(p.source(), "fake_int8")]


class TrivialTarget(Target):
    def plan(self, model, p):
        return [p.run(p.source(), "fake_numpy")]


@hookimpl
def zoo_bench_register_model_sources(register):
    register(BenchSkipSource())


@hookimpl
def zoo_bench_register_targets(register):
    register(FakeTarget(id="fake_c", vendor="fakes", device_class="CPU", defaults=(("runs", 20),)))
    register(FakeTarget(id="fake_d", vendor="fakes", device_class="CPU", defaults=(("runs", 20),)))
    register(ConversionsOnly(id="fake_conv", vendor="fakes", device_class="CPU"))
    register(TrivialTarget(id="bench_trivial", vendor="fakes", device_class="CPU"))


def registry():
    """The fake plugin and this one; stage processes load the same through $ZOO_BENCH_PLUGINS."""
    import sys

    import zb_fake_plugin
    from zoo_bench.plugins import load_registry

    return load_registry(extra_plugins=[("zb_fake_plugin", zb_fake_plugin), ("scale_plugin", sys.modules[__name__])],
                         entry_points=False)


def models(reg, n: int, source: str = "fake") -> list[ModelSpec]:
    """``n`` fake models (the fake source builds any name; only the weights' seed differs)."""
    base = next(iter(reg.sources["fake"].models()))
    return [dataclasses.replace(base, name=f"bench_m{i:05d}", source=source, default_in_family=False)
            for i in range(n)]
