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
from .data import holdout_reason, load_points, load_workloads, workloads_files
from .estimators import TargetFit, body_signature, identity, merge_extra, network_key, same_body
from .fit import ESTIMATOR_VERSION, features_of, physical_floor_ms
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

    def __init__(self, name: str, points: Path, description: str = "", workloads: Path | None = None):
        self.name = name  # type: ignore[misc]  # one registered instance per vendor plugin
        self.points = Path(points)
        #: ``None``: the workloads every plugin registers (hook ``zoo_bench_register_estimator_data``)
        self.workloads = Path(workloads) if workloads is not None else None
        self._description = description

    def workload_paths(self) -> list[Path]:
        return [self.workloads] if self.workloads is not None else workloads_files()

    def describe(self) -> str:
        return self._description or f"model estimates fitted on {self.points.parent.name}/{self.points.name}"

    def tool_versions(self) -> dict[str, str]:
        digest = hashlib.sha256(self.points.read_bytes()).hexdigest()[:10] if self.points.exists() else "missing"
        return {TOOL: ESTIMATOR_VERSION, "points": digest}

    def input_files(self, options: dict[str, Any]) -> list[Path]:
        files = [self.points, *self.workload_paths()]
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
        return self.fits_with_data(target, measured)[0]

    def run(self, ctx: StageContext) -> StageOutput:
        if ctx.input.format != "tflite" or ctx.input.precision != "int8":
            raise ToolUnavailable(f"the estimator reads int8 .tflite models, not {ctx.input.precision} "
                                  f"{ctx.input.format}")
        target = ctx.options.get("estimate_target") or ctx.target.id
        fits, pf, workloads = self.fits_with_data(target, ctx.options.get("measured_points"))
        if not fits:
            raise ToolUnavailable(f"{self.points.name} has no usable points for target {target} "
                                  "(run python -m zoo_bench.estimate.build_workloads)")
        workload = workload_of_tflite(ctx.input.path).as_dict()
        figures = self.estimate(fits, pf, workloads, ctx.model.name, workload,
                                lambda: self._baseline(ctx, target), ctx.log, target)
        return StageOutput(figures=figures)

    def estimate(self, fits: list[TargetFit], pf: Any, workloads: dict[str, Any], model_name: str,
                 workload: dict[str, Any], baseline_of: Any = lambda: None, log: Any = lambda _m: None,
                 target: str = "") -> list[Figure]:
        """The estimate rows of one model (its name and workload) from the fitted models."""
        baseline = None
        figures = []
        for tf in fits:
            m = tf.model
            if "baseline_ms" in m.features:
                baseline = baseline if baseline is not None else baseline_of()
                if baseline is None:
                    log(f"no baseline estimate for {m.metric}: skipped")
                    continue
            feats = features_of(workload, m.features, baseline, m.context)
            if not all(math.isfinite(f) for f in feats):
                log(f"{m.metric}: the model lacks what its features need: skipped")
                continue
            floor = physical_floor_ms(workload, m.bounds)
            fig = self._figure(tf, feats, floor, workload, baseline, target or m.target,
                               self._fitted_network(m, pf, workloads, model_name, workload), model_name)
            figures.append(fig)
            note = ", in the fit: leave-one-network-out value" if fig.extra["in_fit"] else ""
            log(f"{m.metric} = {fig.value:.4g} {fig.unit} (fitted on {len(m.samples)} points, LOMO median "
                f"|err| {m.lomo_median_abs() or 0:.1%}{note})")
        return figures

    def fits_with_data(self, target: str, measured: str | None) -> tuple[list[TargetFit], Any, dict[str, Any]]:
        from .estimators import fit_target

        workloads = load_workloads(self.workload_paths())
        pf = merge_extra(load_points(self.points), Path(measured) if measured else None, workloads)
        metrics = sorted({p["metric"] for p in pf.points if p["target"] == target})
        return [f for m in metrics if (f := fit_target(pf, workloads, target, m)) is not None], pf, workloads

    @staticmethod
    def _fitted_network(m: Any, pf: Any, workloads: dict[str, Any], model: str,
                        workload: dict[str, Any]) -> str | None:
        """The fitted network this job's model is (``None``: not among the fitted points): the
        points-file model defined as this catalog model, or one with the same body MACs."""
        groups = set(m.groups)
        for name, definition in pf.models.items():
            if model in (name, definition.get("catalog")) and network_key(definition) in groups:
                return network_key(definition)
        mine = body_signature(workload)
        for s in m.samples:
            entry = workloads.get(s.point["model"])
            if entry and same_body(mine, body_signature(entry["workload"])):
                return identity(pf, workloads, s.point["model"])[0]
        return None

    @staticmethod
    def _tool_error(m: Any) -> float | None:
        """Median |error| of the raw baseline tool figure against the published figures fitted on."""
        import statistics

        i = m.features.index("baseline_ms")
        errors = [abs(s.features[i] - float(s.point["value"])) / float(s.point["value"]) for s in m.samples]
        return statistics.median(errors) if errors else None

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

    def _figure(self, tf: TargetFit, feats: list[float], floor: float, workload: dict[str, Any],
                baseline: float | None, target: str, in_fit: str | None, model_name: str = "") -> Figure:
        """The estimate row. A model among the fitted networks gets the prediction of the model
        fitted without it (leave-one-network-out) and the interval of the other networks' LOMO
        errors, never its in-sample value (kept as ``extra.full_fit_value``). A model outside the
        fitted population gets an interval twice as wide and ``extra.extrapolation``."""
        m = tf.model
        full = m.predict(feats, floor)
        loo = m.predict_without(in_fit, feats, floor) if in_fit is not None else None
        value = loo if loo is not None else full
        errors = m.lomo_errors_without(in_fit) if in_fit is not None else [e for e in m.lomo if e is not None]
        warnings = m.extrapolation(feats, in_fit)
        interval = m.interval_from(value, errors, widen=2.0 if warnings else 1.0)
        points = sorted({s.point["model"] for s in m.samples})
        summary = {k: workload[k] for k in ("macs", "bytes", "ops", "layers", "weights_bytes", "peak_bytes",
                                            "peak_inplace_bytes", "largest_tensor_bytes", "io_bytes")}
        extra = {
            "estimator": self.name, "target_points": target, "points_file": self.points.name,
            "fitted_on": points, "networks": len(m.groups),
            "interval": None if interval is None else [interval[0], interval[1]],
            "interval_basis": "split-conformal 10-90 % ranks (min-max under 19 networks) of leave-one-model-out errors"
                              + (" of the other networks" if in_fit is not None else "")
                              + (", each side twice as wide (extrapolation)" if warnings else ""),
            "in_fit": in_fit is not None,
            "left_out": sorted(s.point["model"] for s in m.samples if s.group == in_fit) if in_fit else None,
            "full_fit_value": full if in_fit is not None else None,
            "leave_one_out": loo is not None,
            "extrapolation": warnings or None,
            "physical_floor": floor or None,
            "held_out_network": holdout_reason(model_name) is not None,
            "lomo_median_abs_error_pct": None if m.lomo_median_abs() is None else round(100 * m.lomo_median_abs(), 1),
            "features": {n: round(f, 6) for n, f in zip(m.features, feats, strict=True)},
            "coefficients": dict(zip(m.features, m.coefficients, strict=True)),
            "workload": summary,
        }
        if baseline is not None:
            extra["baseline_ms"] = baseline
            tool = self._tool_error(m)
            lomo = m.lomo_median_abs()
            extra["baseline_median_abs_error_pct"] = None if tool is None else round(100 * tool, 1)
            # the figure to show first for a board the user lacks: the better predictor on the same points
            extra["preferred_over_tool"] = tool is not None and lomo is not None and lomo < tool
        unit = m.samples[0].point["unit"]
        return Figure(m.metric, float(value), unit, "model-estimate", f"{TOOL}:{self.name}", ESTIMATOR_VERSION,
                      extra=extra)


#: The name the issue uses for it.
LatencyEstimator = ModelEstimator

