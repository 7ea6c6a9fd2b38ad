"""The metric registry: what each metric means and which values it can take.

A figure that cannot be true (a NaN latency, a negative size, an accuracy of 140 %) is refused
where it enters, never stored or served as ok: a stage's output (``stage_runner``), a cache
entry served as a hit and a row read from a store (``store.check_rows``) are each checked
against the metric's :attr:`Metric.domain`. ``compare`` reads :attr:`Metric.direction`,
:attr:`Metric.compared` and :attr:`Metric.noise` from here.

The core registers its own metrics (:data:`CORE_METRICS`); a plugin registers the metrics its
components emit with the ``zoo_bench_register_metrics(register)`` hook. A metric nobody
registered is checked only for being finite and is informational in ``compare``, except a
``*_kib`` name, a memory figure by convention (non-negative, lower is better).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

#: domain name -> (test of a finite float, phrase for messages)
DOMAINS: dict[str, tuple[Callable[[float], bool], str]] = {
    "finite": (lambda v: True, "a finite number"),
    "positive": (lambda v: v > 0, "a positive finite number"),
    "non-negative": (lambda v: v >= 0, "a non-negative finite number"),
    "count": (lambda v: v >= 0 and v == int(v), "a non-negative integer"),
    "percent": (lambda v: 0 <= v <= 100, "a percentage in [0, 100]"),
    "fraction": (lambda v: 0 <= v <= 1, "a fraction in [0, 1]"),
    "bool": (lambda v: v in (0, 1), "0 or 1"),
}
DIRECTIONS = ("lower", "higher", "none")
NOISE = ("sampled", "single-sample", "exact")


@dataclass(frozen=True)
class Metric:
    """One metric: ``direction`` says which way is better (``none``: neither), ``compared``
    whether ``compare`` judges a change of it (else it is shown as informational), ``noise``
    how a figure of it was obtained (``sampled``: a statistic of many runs; ``single-sample``:
    one measurement, too noisy for a fixed threshold; ``exact``: a count or a size)."""

    name: str
    unit: str
    direction: str
    domain: str
    compared: bool = False
    noise: str = "exact"
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise ValueError("a metric needs a name")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"metric {self.name}: direction {self.direction!r} not in {DIRECTIONS}")
        if self.domain not in DOMAINS:
            raise ValueError(f"metric {self.name}: domain {self.domain!r} not in {sorted(DOMAINS)}")
        if self.noise not in NOISE:
            raise ValueError(f"metric {self.name}: noise {self.noise!r} not in {NOISE}")

    def problem(self, value: Any) -> str | None:
        """Why ``value`` cannot be a figure of this metric (``None`` when it can; null is fine)."""
        return value_problem(self.name, value, self.domain)


def value_problem(name: str, value: Any, domain: str = "finite") -> str | None:
    """Why ``value`` is not in ``domain`` (``None`` for null or a value inside it)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"{name} = {value!r} is not a number"
    try:
        number = float(value)  # an integer past 1e308 overflows: not a figure either
    except OverflowError:
        return f"{name} is an integer too large to be a figure"
    if not math.isfinite(number):
        return f"{name} = {value} is not finite"
    test, phrase = DOMAINS[domain]
    if not test(number):
        return f"{name} = {number:g} cannot be true: it must be {phrase}"
    return None


def _latency(name: str, what: str, noise: str = "sampled", compared: bool = True) -> Metric:
    return Metric(name, "ms", "lower", "positive", compared, noise, what)


#: The metrics of the core and of the built-in host target (docs/metrics.md).
CORE_METRICS: tuple[Metric, ...] = (
    Metric("stage_seconds", "s", "none", "non-negative", False, "single-sample",
           "wall time of a stage (every stage has this row)"),
    _latency("latency_p50_ms", "median latency of one inference"),
    _latency("latency_p90_ms", "90th percentile latency"),
    _latency("latency_p99_ms", "99th percentile latency"),
    _latency("latency_mean_ms", "mean latency"),
    _latency("latency_min_ms", "fastest inference"),
    _latency("latency_max_ms", "slowest inference"),
    Metric("latency_std_ms", "ms", "none", "non-negative", False, "sampled", "standard deviation of the latency"),
    _latency("init_ms", "time to load the model and prepare the runtime", "single-sample", compared=False),
    _latency("first_inference_ms", "time of the first inference", "single-sample", compared=False),
    _latency("warmup_ms", "mean time of the warm-up inferences", "single-sample", compared=False),
    Metric("inferences_per_s", "1/s", "higher", "positive", True, "sampled", "throughput"),
    Metric("activation_ram_kib", "KiB", "lower", "non-negative", True, "exact", "RAM for activations"),
    Metric("weights_flash_kib", "KiB", "lower", "non-negative", True, "exact", "flash taken by the weights"),
    Metric("model_size_kib", "KiB", "lower", "positive", True, "exact", "size of the stage's artifact file"),
    Metric("params", "count", "none", "count", False, "exact", "parameters of the model"),
    Metric("macs", "count", "none", "count", False, "exact", "multiply-accumulates of one inference"),
    Metric("top1", "%", "higher", "percent", True, "exact", "top-1 accuracy of the row's variant"),
    Metric("top1_float", "%", "higher", "percent", True, "exact", "top-1 accuracy of the float model"),
    Metric("top1_int8", "%", "higher", "percent", True, "exact", "top-1 accuracy of the int8 model"),
    Metric("top5_float", "%", "higher", "percent", True, "exact", "top-5 accuracy of the float model"),
    Metric("top5_int8", "%", "higher", "percent", True, "exact", "top-5 accuracy of the int8 model"),
    Metric("int8_agreement", "%", "higher", "percent", True, "exact", "int8/float top-1 agreement"),
    Metric("npu_cycles", "count", "lower", "count", True, "exact", "NPU cycles per inference"),
    Metric("sram_used_kib", "KiB", "lower", "non-negative", True, "exact", "on-chip SRAM used"),
    Metric("dram_used_kib", "KiB", "lower", "non-negative", True, "exact", "off-chip memory used"),
    Metric("npu_op_share", "fraction", "higher", "fraction", True, "exact", "share of operators on the NPU"),
    Metric("cpu_ops", "count", "lower", "count", True, "exact", "operators left on the CPU"),
    Metric("cycles", "count", "lower", "count", True, "exact", "CPU cycles of one inference"),
)


class MetricRegistry:
    """Metrics by name; a second registration of a name must agree with the first."""

    def __init__(self, metrics: Iterable[Metric] = CORE_METRICS):
        self._metrics: dict[str, Metric] = {}
        for metric in metrics:
            self.register(metric)

    def register(self, metric: Metric) -> None:
        if not isinstance(metric, Metric):
            raise TypeError(f"register() takes a zoo_bench.metrics.Metric, not {metric!r}")
        known = self._metrics.get(metric.name)
        if known is not None and known != metric:
            raise ValueError(f"metric {metric.name} is registered twice with different meanings")
        self._metrics[metric.name] = metric

    def get(self, name: str) -> Metric | None:
        """The metric ``name``; an unregistered ``*_kib`` name is a memory figure by convention
        (KiB, lower is better, non-negative, judged), any other unregistered name ``None``."""
        known = self._metrics.get(name)
        if known is None and isinstance(name, str) and name.endswith("_kib") and len(name) > 4:
            return Metric(name, "KiB", "lower", "non-negative", True, "exact", "a memory figure (by its name)")
        return known

    def __contains__(self, name: object) -> bool:
        return name in self._metrics

    def __iter__(self):
        return iter(sorted(self._metrics.values(), key=lambda m: m.name))

    def problem(self, name: str, value: Any) -> str | None:
        """Why ``value`` cannot be a figure of ``name`` (an unregistered metric: any finite number)."""
        metric = self.get(name)
        return metric.problem(value) if metric else value_problem(name, value)


def collect_metrics(pm: Any, warn: Callable[[str], None] | None = None) -> MetricRegistry:
    """The core metrics plus those every plugin registers with ``zoo_bench_register_metrics``;
    a plugin whose registration is refused (a clash, not a Metric) is reported, not fatal."""
    registry = MetricRegistry()
    hook = getattr(pm.hook, "zoo_bench_register_metrics", None)
    if hook is None:
        return registry
    for impl in hook.get_hookimpls():
        def register(metric: Metric, _plugin: str = impl.plugin_name) -> None:
            try:
                registry.register(metric)
            except (TypeError, ValueError) as exc:
                if warn:
                    warn(f"plugin {_plugin}: {exc}")
        try:
            impl.function(register=register) if "register" in impl.argnames else impl.function()
        except Exception as exc:  # a broken plugin loses its metrics, not the run
            if warn:
                warn(f"plugin {impl.plugin_name}: zoo_bench_register_metrics failed: {type(exc).__name__}: {exc}")
    return registry


_BY_PM: dict[int, tuple[Any, MetricRegistry]] = {}


def metrics_for(pm: Any) -> MetricRegistry:
    """The metric registry of one plugin manager (collected once per manager)."""
    known = _BY_PM.get(id(pm))
    if known is None or known[0] is not pm:
        known = _BY_PM[id(pm)] = (pm, collect_metrics(pm))
    return known[1]


def get_metrics() -> MetricRegistry:
    """The metric registry of the installed plugins (the process-wide plugin registry's)."""
    try:
        from .plugins import get_registry

        return metrics_for(get_registry().pm)
    except Exception:  # plugins that cannot load: the core metrics still apply
        return MetricRegistry()
