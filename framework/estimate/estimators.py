"""From points files and cached workloads to fitted models, per target and metric.

:func:`fit_all` is what ``zoo-bench fidelity`` and the estimator component share: it pairs
every published point with the workload of its model (and the baseline tool's figure where the
target has one), fits on the points that may be fitted and keeps the holdout and check-only
points aside, to be predicted by the fitted model and reported separately.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .data import PointsFile, holdout_reason, is_fitted, is_holdout, load_points, load_workloads
from .fit import FittedModel, Sample, feature_set, features_of, fit_model, latency_candidates, physical_floor_ms

#: Definition keys that do not change the network's body (a different head is the same network
#: for leave-one-model-out: its figures leave together).
_HEAD_KEYS = {"classes", "defined_by", "catalog", "input_type", "output_type", "input_range"}


def network_key(definition: dict[str, Any]) -> str:
    """Identity of a network's body, so that the same body with another head counts once."""
    body = {k: v for k, v in definition.items() if k not in _HEAD_KEYS}
    return json.dumps(body, sort_keys=True)


def body_signature(workload: dict[str, Any]) -> tuple[float, float, float]:
    """MACs of the body's conv, depthwise and pointwise layers (the head is dense): the same
    network reads the same, whatever its head, its name or who built the int8 model."""
    macs = workload.get("macs", {})
    return (float(macs.get("conv", 0.0)), float(macs.get("depthwise", 0.0)), float(macs.get("pointwise", 0.0)))


def same_body(a: tuple[float, float, float], b: tuple[float, float, float], tolerance: float = 0.005) -> bool:
    return sum(a) > 0 and all(abs(x - y) <= tolerance * max(x, y, 1.0) for x, y in zip(a, b, strict=True))


def identity(pf: PointsFile, workloads: dict[str, Any], model: str) -> tuple[str, dict[str, Any]]:
    """(network key, definition) of a points-file model. A measured model (``zoo-bench fit``)
    takes the identity and definition of the published model of the same network: the one
    defined as the catalog model it ran, else the one whose body has the same MACs."""
    definition = pf.models.get(model, {})
    if definition.get("builder") != "measured":
        return network_key(definition), definition
    ran = definition.get("measured_model") or definition.get("model")
    for name, other in pf.models.items():
        if other.get("builder") != "measured" and ran in (name, other.get("catalog")):
            return network_key(other), other
    mine = body_signature((workloads.get(model) or {}).get("workload", {}))
    for name, other in pf.models.items():
        entry = workloads.get(name)
        if other.get("builder") != "measured" and entry and same_body(mine, body_signature(entry["workload"])):
            return network_key(other), other
    return network_key(definition), definition


def point_kind(pf: PointsFile, workloads: dict[str, Any], point: dict[str, Any]) -> str:
    """``holdout`` (never fitted: flagged, or MobileNet v2 width 1.0 by rule under any name, the
    published network a measured point shares included), ``check`` or ``fit``."""
    _, shared = identity(pf, workloads, point["model"])
    own = pf.models.get(point["model"], {})
    if point.get("holdout") or holdout_reason(point["model"], own) or holdout_reason(point["model"], shared):
        return "holdout"
    return "check" if point.get("check_only") else "fit"


@dataclass
class TargetFit:
    """One target and metric: the fitted model, and the points predicted but not fitted."""

    model: FittedModel
    holdout: list[Sample] = field(default_factory=list)
    check: list[Sample] = field(default_factory=list)
    #: points whose model has no cached workload (run build_workloads): model names
    missing: list[str] = field(default_factory=list)
    points_file: Path | None = None
    #: metric -> (|error| bound, share of networks within it): the goals the plugin declares
    goals: dict[str, Any] = field(default_factory=dict)


def merge_extra(pf: PointsFile, extra: Path | None, workloads: dict[str, Any]) -> PointsFile:
    """Add measured points from ``zoo-bench fit`` (a JSON file with ``points`` and their
    ``workloads``) to a points file and to the workload table, in memory."""
    if extra is None:
        return pf
    raw = json.loads(Path(extra).read_text())
    merged = PointsFile(pf.path, dict(pf.sources), dict(pf.targets), dict(pf.models), list(pf.points))
    merged.sources.update(raw.get("sources", {}))
    for name, entry in raw.get("workloads", {}).items():
        workloads[name] = entry
        merged.models.setdefault(name, entry.get("definition", {"builder": "measured", "name": name}))
    merged.points += [p for p in raw.get("points", []) if p.get("target") in merged.targets]
    return merged


def _usable(pf: PointsFile, workloads: dict[str, Any], target: str, point: dict[str, Any], baseline: bool) -> bool:
    entry = workloads.get(point["model"])
    if entry is None:
        return False
    return not baseline or (entry.get("baselines", {}).get(target) or {}).get("latency_mean_ms") is not None


def _finite(entry: dict[str, Any], target: str, names: tuple[str, ...], context: dict[str, Any] | None) -> bool:
    """All features computable (a workload cached without its graph has no planner features)."""
    base = (entry.get("baselines", {}).get(target) or {}).get("latency_mean_ms")
    return all(math.isfinite(f) for f in features_of(entry["workload"], names, base, context))


def samples_for(pf: PointsFile, workloads: dict[str, Any], target: str, metric: str
                ) -> tuple[list[Sample], list[Sample], list[Sample], list[str], tuple[str, ...]]:
    """(fit, holdout, check, missing, feature names) of one target and metric.

    The feature set depends on how many distinct networks have a usable point (a cached
    workload, and the baseline tool's figure where the target uses one).
    """
    baseline = bool(pf.targets.get(target, {}).get("baseline")) and metric == "latency_mean_ms"
    chosen = [p for p in pf.points if p["target"] == target and p["metric"] == metric]
    usable = [p for p in chosen if _usable(pf, workloads, target, p, baseline)]
    kinds = {id(p): point_kind(pf, workloads, p) for p in usable}
    names: tuple[str, ...] = ()
    for _ in range(3):  # the feature set depends on the usable networks, which depend on the features
        groups = {identity(pf, workloads, p["model"])[0] for p in usable if kinds[id(p)] == "fit"}
        names = feature_set(metric, len(groups), baseline)
        finite = [p for p in usable if _finite(workloads[p["model"]], target, names, pf.targets.get(target))]
        if len(finite) == len(usable):
            break
        usable = finite
    missing = [p["model"] for p in chosen if p not in usable]
    fit, hold, check = [], [], []
    bounds = target_bounds(pf, target, metric)
    for p in usable:
        entry = workloads[p["model"]]
        base = (entry.get("baselines", {}).get(target) or {}).get("latency_mean_ms")
        sample = Sample(p, identity(pf, workloads, p["model"])[0],
                        features_of(entry["workload"], names, base, pf.targets.get(target)),
                        physical_floor_ms(entry["workload"], bounds))
        {"holdout": hold, "fit": fit, "check": check}[kinds[id(p)]].append(sample)
    return fit, hold, check, missing, names


def target_bounds(pf: PointsFile, target: str, metric: str) -> dict[str, Any]:
    """The physical bounds the plugin declares for ``target`` (latency only)."""
    if metric != "latency_mean_ms":
        return {}
    return dict(pf.targets.get(target, {}).get("bounds") or {})


def fit_target(pf: PointsFile, workloads: dict[str, Any], target: str, metric: str) -> TargetFit | None:
    """The fitted model of one target and metric, or ``None`` without any usable point.

    Latency without a baseline tool: every feature set the target's network count allows
    (:func:`~zoo_bench.estimate.fit.latency_candidates`, each also with the activation bytes the
    whole-buffer placement spills to external RAM where the target declares its memory pools) is
    fitted and the one with the lowest median leave-one-model-out error is kept (that choice is
    made on the same points, so its LOMO error is slightly optimistic; docs/estimators.md says so).
    """
    own = figure_samples(pf, target, metric)
    if own is not None:  # the features the points file declares, fitted as they are
        fit, hold, check, missing, names = own
        return TargetFit(fit_model(target, metric, fit, names), hold, check, missing, pf.path) if fit else None
    fit, hold, check, missing, names = samples_for(pf, workloads, target, metric)
    if not fit or not names:  # no usable point, or a metric no model is fitted for
        return None
    best = fit_model(target, metric, fit, names, target_bounds(pf, target, metric))
    if metric == "latency_mean_ms" and "baseline_ms" not in names:
        groups = len({s.group for s in fit})
        cands = latency_candidates(groups)
        if (pf.targets.get(target) or {}).get("memory_pools"):  # the bytes that spill to external RAM
            cands += [(*c, "placed_external_kib") for c in cands if 2 * (len(c) + 1) <= groups]
        for cand in cands:
            if cand == names:
                continue
            model = _refit(pf, workloads, target, fit, cand)
            score, best_score = model.lomo_median_abs(), best.lomo_median_abs()
            if score is not None and (best_score is None or score < best_score):
                best = model
    best.context = dict(pf.targets.get(target) or {})
    hold = [_with_features(s, workloads, target, best.features, best.context) for s in hold]
    check = [_with_features(s, workloads, target, best.features, best.context) for s in check]
    goals = dict(pf.targets.get(target, {}).get("goals") or {})
    return TargetFit(best, hold, check, missing, pf.path, goals)


def _with_features(s: Sample, workloads: dict[str, Any], target: str, names: tuple[str, ...],
                   context: dict[str, Any] | None = None) -> Sample:
    entry = workloads[s.point["model"]]
    base = (entry.get("baselines", {}).get(target) or {}).get("latency_mean_ms")
    return Sample(s.point, s.group, features_of(entry["workload"], names, base, context), s.floor)


def _refit(pf: PointsFile, workloads: dict[str, Any], target: str, fit: list[Sample],
           names: tuple[str, ...]) -> FittedModel:
    return fit_model(target, "latency_mean_ms",
                     [_with_features(s, workloads, target, names, pf.targets.get(target)) for s in fit], names,
                     target_bounds(pf, target, "latency_mean_ms"))


def fit_all(files: list[Path], workloads_file: Path | None = None, extra: Path | None = None,
            target: str | None = None) -> list[TargetFit]:
    """Every (target, metric) with points in ``files``, fitted."""
    workloads = load_workloads(workloads_file) if workloads_file else load_workloads()
    fits = []
    for path in files:
        pf = merge_extra(load_points(path), extra, workloads)
        pairs = sorted({(p["target"], p["metric"]) for p in pf.points},
                       key=lambda tm: (tm[0], tm[1] != "latency_mean_ms", tm[1]))
        for t, metric in pairs:
            if target and t != target:
                continue
            tf = fit_target(pf, workloads, t, metric)
            if tf is not None:
                fits.append(tf)
    return fits


# --- Targets fitted on figures their plugin keeps (area: rdk) ------------------------------------
# A points file's target may declare ``"fit": {"figures_file": "hbdk_perf.json", "metric":
# "latency_mean_ms", "features": ["latency_ms", "nodes", "const"]}``: per-network numbers the
# plugin obtained with its vendor's tool (the file beside the points file, ``{"networks": {model:
# {feature: value, ...}}}``; ``const`` is 1). That metric of the target is then fitted on those
# numbers instead of the TFLite workload's features. Plain numbers from a JSON file: nothing runs.

def figure_features(spec: dict[str, Any], entry: dict[str, Any]) -> list[float] | None:
    """The declared features of one network's entry in the figures file (``None`` when one is missing)."""
    values = []
    for name in spec["features"]:
        value = 1.0 if name == "const" else entry.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return None
        values.append(float(value))
    return values


def figure_samples(pf: PointsFile, target: str, metric: str
                   ) -> tuple[list[Sample], list[Sample], list[Sample], list[str], tuple[str, ...]] | None:
    """(fit, holdout, check, missing, features) from the target's figures file, or ``None`` when the
    target declares none for ``metric``."""
    spec = pf.targets.get(target, {}).get("fit")
    if not isinstance(spec, dict) or spec.get("metric", "latency_mean_ms") != metric or pf.path is None:
        return None
    path = Path(pf.path).parent / str(spec["figures_file"])
    networks = json.loads(path.read_text()).get("networks", {}) if path.is_file() else {}
    fit, hold, check, missing = [], [], [], []
    for p in pf.points:
        if p["target"] != target or p["metric"] != metric:
            continue
        entry = networks.get(p["model"])
        values = figure_features(spec, entry) if isinstance(entry, dict) and not entry.get("error") else None
        if values is None:
            missing.append(p["model"])
            continue
        sample = Sample(p, network_key(pf.models[p["model"]]), values)
        definition = pf.models.get(p["model"])
        (hold if is_holdout(p, definition) else fit if is_fitted(p, definition) else check).append(sample)
    return fit, hold, check, missing, tuple(spec["features"])
