"""The estimator component: an int8 .tflite in, ``model-estimate`` rows out.

A vendor plugin instantiates it with its points file and registers it as a runner::

    ModelEstimator(name="imx_estimate", points=Path(__file__).parent / "published_points.json")

and plans it on the int8 model: ``p.run(q8, "imx_estimate", label="estimate")``. The stage reads
the model's workload, fits the target's models on the published points (milliseconds, from the
cached workloads) and writes one row per metric the target has points for (latency, and for an
MCU activation RAM and weights flash), each with its interval from leave-one-model-out error and
the points it was fitted on in ``extra``. Where the target's points name a baseline compiler
(Vela for the i.MX 93), the stage runs it on the model and corrects its estimate.

The estimate never replaces a measurement: measured-board and tool-estimate rows of the same job
come first in summaries and cards, and the estimate stays beside them, so its error is visible.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
from pathlib import Path
from typing import Any

from ..components import Estimator, Figure, StageContext, StageOutput, Target
from ..errors import ToolUnavailable
from ..options import Option
from .data import WORKLOADS_FILE, load_points, load_workloads
from .estimators import TargetFit, merge_extra
from .fit import ESTIMATOR_VERSION, FEATURES, features_of
from .workload import workload_of_tflite

TOOL = "zoo-bench-estimate"


class ModelEstimator(Estimator):
    """Estimates latency (and MCU memory) from published board measurements of other models."""

    name = "estimate"
    accepts = ("tflite",)
    options = {
        "measured_points": Option("path", default=None,
                                  help="points file written by `zoo-bench fit` (your own board measurements)"),
        "estimate_target": Option("str", default=None,
                                  help="fit on the points of this target id instead of the job's target"),
    }

    def __init__(self, name: str, points: Path, description: str = "", workloads: Path = WORKLOADS_FILE):
        self.name = name  # type: ignore[misc]  # one registered instance per vendor plugin
        self.points = Path(points)
        self.workloads = Path(workloads)
        self._description = description

    def describe(self) -> str:
        return self._description or f"model estimates fitted on {self.points.parent.name}/{self.points.name}"

    def tool_versions(self) -> dict[str, str]:
        digest = hashlib.sha256(self.points.read_bytes()).hexdigest()[:10] if self.points.exists() else "missing"
        return {TOOL: ESTIMATOR_VERSION, "points": digest}

    def input_files(self, options: dict[str, Any]) -> list[Path]:
        files = [self.points, self.workloads]
        if options.get("measured_points"):
            files.append(Path(options["measured_points"]))
        return [f for f in files if f.exists()]

    def unavailable_reason(self, target: Target | None = None, options: dict[str, Any] | None = None) -> str | None:
        for module, package in (("ai_edge_litert", "ai-edge-litert"), ("scipy", "scipy")):
            if importlib.util.find_spec(module) is None:
                return f"the estimator reads models with LiteRT and fits with scipy: pip install {package}"
        if not self.points.exists():
            return f"points file {self.points} is missing"
        return None

    def fits(self, target: str, measured: str | None = None) -> list[TargetFit]:
        """Every metric of ``target`` with points, fitted (fast: cached workloads only)."""
        from .estimators import fit_target

        workloads = load_workloads(self.workloads)
        pf = merge_extra(load_points(self.points), Path(measured) if measured else None, workloads)
        metrics = sorted({p["metric"] for p in pf.points if p["target"] == target})
        return [f for m in metrics if (f := fit_target(pf, workloads, target, m)) is not None]

    def run(self, ctx: StageContext) -> StageOutput:
        if ctx.input.format != "tflite" or ctx.input.precision != "int8":
            raise ToolUnavailable(f"the estimator reads int8 .tflite models, not {ctx.input.precision} "
                                  f"{ctx.input.format}")
        target = ctx.options.get("estimate_target") or ctx.target.id
        fits = self.fits(target, ctx.options.get("measured_points"))
        if not fits:
            raise ToolUnavailable(f"{self.points.name} has no usable points for target {target} "
                                  "(run python -m zoo_bench.estimate.build_workloads)")
        workload = workload_of_tflite(ctx.input.path).as_dict()
        baseline = None
        figures = []
        for tf in fits:
            m = tf.model
            if "baseline_ms" in m.features:
                baseline = baseline if baseline is not None else self._baseline(ctx, target)
                if baseline is None:
                    ctx.log(f"no baseline estimate for {m.metric}: skipped")
                    continue
            feats = features_of(workload, m.features, baseline)
            if not all(math.isfinite(f) for f in feats):
                ctx.log(f"{m.metric}: the model lacks what its features need: skipped")
                continue
            value = m.predict(feats)
            figures.append(self._figure(tf, value, workload, baseline, target))
            ctx.log(f"{m.metric} = {value:.4g} {tf.model.samples[0].point['unit']} "
                    f"(fitted on {len(m.samples)} points, LOMO median |err| {m.lomo_median_abs() or 0:.1%})")
        return StageOutput(figures=figures)

    def _baseline(self, ctx: StageContext, target: str) -> float | None:
        """The baseline compiler's latency estimate of this model (e.g. Vela for an Ethos-U)."""
        spec = load_points(self.points).targets.get(target, {}).get("baseline") or {}
        if not spec or ctx.registry is None:
            return None
        compiler = ctx.registry.component("compile", spec["compiler"])
        reason = compiler.unavailable_reason(ctx.target, ctx.options)
        if reason:
            raise ToolUnavailable(f"the {target} estimate corrects {spec['compiler']}'s figure: {reason}")
        workdir = ctx.workdir / f"baseline_{spec['compiler']}"
        workdir.mkdir(parents=True, exist_ok=True)
        sub = StageContext(ctx.model, ctx.target, f"compile:{spec['compiler']}",
                           {**ctx.options, **spec.get("options", {})}, ctx.inputs, workdir, ctx.registry)
        out = compiler.compile(sub)  # type: ignore[attr-defined]
        for fig in out.figures:
            if fig.metric == spec.get("figure", "latency_mean_ms") and fig.value is not None:
                return float(fig.value)
        return None

    def _figure(self, tf: TargetFit, value: float, workload: dict[str, Any], baseline: float | None,
                target: str) -> Figure:
        m = tf.model
        interval = m.interval(value)
        points = sorted({s.point["model"] for s in m.samples})
        summary = {k: workload[k] for k in ("macs", "bytes", "ops", "layers", "weights_bytes", "peak_bytes",
                                            "peak_inplace_bytes", "largest_tensor_bytes", "io_bytes")}
        extra = {
            "estimator": self.name, "target_points": target, "points_file": self.points.name,
            "fitted_on": points, "networks": len(m.groups),
            "interval": None if interval is None else [interval[0], interval[1]],
            "interval_basis": "10th-90th percentile (min-max under 10 networks) of leave-one-model-out errors",
            "lomo_median_abs_error_pct": None if m.lomo_median_abs() is None else round(100 * m.lomo_median_abs(), 1),
            "features": {n: round(FEATURES[n](workload, baseline), 6) for n in m.features},
            "coefficients": dict(zip(m.features, m.coefficients, strict=True)),
            "workload": summary,
        }
        if baseline is not None:
            extra["baseline_ms"] = baseline
        unit = m.samples[0].point["unit"]
        return Figure(m.metric, float(value), unit, "model-estimate", f"{TOOL}:{self.name}", ESTIMATOR_VERSION,
                      extra=extra)


#: The name the issue uses for it.
LatencyEstimator = ModelEstimator

