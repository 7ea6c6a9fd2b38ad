"""The RDK X5 latency estimate on the toolchain's own figure (runner ``rdk_estimate``).

Board latency (hrt_model_exec, 1 thread) = a x hbdk-perf's static latency + b x convolutions in
hb_mapper's quantized node table + c, fitted on D-Robotics' published board figures
(``published_points.json``) against figures of real ``hb_mapper makertbin`` runs of the same
networks kept in ``hbdk_perf.json`` (made by :mod:`.build_hbdk_perf`). The fit is the core's
(:func:`zoo_bench.estimate.estimators.fit_target`, the target's ``fit`` entry of the points file):
relative least squares, leave-one-model-out (LOMO) errors, the interval from them; ``zoo-bench
fidelity --target rdk_x5`` reports it. The stage reads the compiled model's figures from the
``compile:hb_mapper`` artifact, so it runs wherever the toolchain does. A network among the fitted
ones is estimated by the fit without it (its LOMO estimate), never beside a figure it was fitted on.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from zoo_bench.plugin import Figure, Runner, StageContext, StageOutput, Target, ToolUnavailable

HERE = Path(__file__).parent
POINTS = HERE / "published_points.json"
FIGURES = HERE / "hbdk_perf.json"
TARGET = "rdk_x5"
METRIC = "latency_mean_ms"
TOOL = "zoo-bench-estimate"


class RdkHbdkEstimator(Runner):
    """1-thread BPU latency of the RDK X5: hbdk-perf's figure and the convolution count, fitted."""

    name = "rdk_estimate"
    accepts = ("hbm-bin",)
    host_dependent = False  # a computation on the compile's figures, the same on every machine

    def describe(self) -> str:
        return "RDK X5 latency from hbdk-perf's estimate and the convolution count, fitted on published figures"

    def tool_versions(self) -> dict[str, str]:
        from zoo_bench.estimate.fit import ESTIMATOR_VERSION

        digest = hashlib.sha256(POINTS.read_bytes() + (FIGURES.read_bytes() if FIGURES.is_file() else b"")).hexdigest()
        return {TOOL: ESTIMATOR_VERSION, "points": digest[:10]}

    def input_files(self, options: dict[str, Any]) -> list[Path]:
        return [f for f in (POINTS, FIGURES) if f.is_file()]

    def unavailable_reason(self, target: Target | None = None, options: dict[str, Any] | None = None) -> str | None:
        if not FIGURES.is_file():
            return f"{FIGURES.name} is missing (python -m zoo_bench_rdk_x5.build_hbdk_perf)"
        return None

    def run(self, ctx: StageContext) -> StageOutput:
        perf = ctx.input.meta.get("hbdk_perf") or {}
        features = {"latency_ms": perf.get("latency_ms"), "nodes": perf.get("nodes"),
                    "conv_nodes": perf.get("conv_nodes"), "const": 1.0}
        if features["latency_ms"] is None or features["conv_nodes"] is None:
            raise ToolUnavailable("the compiled model carries no hbdk-perf figure (hb_mapper printed no "
                                  "'FPS=..., latency = ...' line), so there is nothing to correct")
        figure = estimate(ctx.model.name, features)
        ctx.log(f"{METRIC} = {figure.value:.4g} ms (hbdk-perf {features['latency_ms']:.4g} ms, "
                f"{features['conv_nodes']} convolutions; {figure.extra['networks']} networks)")
        return StageOutput(figures=[figure])


def _fitted_names(pf: Any, model: str) -> set[str]:
    """Points-file networks that are ``model`` (by name or by their ``catalog`` key)."""
    return {name for name, d in pf.models.items() if name == model or d.get("catalog") == model}


def estimate(model: str, features: dict[str, Any]) -> Figure:
    """The model-estimate row of ``model`` with these figures (features by the points file's names)."""
    from zoo_bench.estimate.data import load_points
    from zoo_bench.estimate.estimators import fit_target
    from zoo_bench.estimate.fit import ESTIMATOR_VERSION, fit_model

    pf = load_points(POINTS)
    tf = fit_target(pf, {}, TARGET, METRIC)
    if tf is None:
        raise ToolUnavailable(f"{FIGURES.name} has no usable network (python -m zoo_bench_rdk_x5.build_hbdk_perf)")
    m = tf.model
    same = _fitted_names(pf, model)
    left_out = sorted(s.point["model"] for s in m.samples if s.point["model"] in same)
    if left_out:  # never estimate a network beside a figure it was fitted on: its LOMO fit
        m = fit_model(TARGET, METRIC, [s for s in m.samples if s.point["model"] not in same], m.features)
    values = [float(features[n]) for n in m.features]
    value = m.predict(values)
    interval = tf.model.interval(value)
    lomo = tf.model.lomo_median_abs()
    extra = {
        "estimator": "rdk_estimate", "target_points": TARGET, "points_file": POINTS.name, "figures_file": FIGURES.name,
        "fitted_on": sorted({s.point["model"] for s in m.samples}), "networks": len(m.groups),
        "left_out": left_out, "features": dict(zip(m.features, values, strict=True)),
        "coefficients": dict(zip(m.features, m.coefficients, strict=True)),
        "interval": None if interval is None else [interval[0], interval[1]],
        "interval_basis": "10th-90th percentile of the leave-one-model-out errors",
        "lomo_median_abs_error_pct": None if lomo is None else round(100 * lomo, 1),
        "basis": "hbdk-perf static latency (tool-estimate of this compile) and its convolution count",
    }
    return Figure(METRIC, float(value), "ms", "model-estimate", f"{TOOL}:rdk_estimate", ESTIMATOR_VERSION,
                  extra=extra)
