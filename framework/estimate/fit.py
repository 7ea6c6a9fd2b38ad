"""Small interpretable models fitted per target and metric, and their leave-one-model-out error.

Every model is linear with non-negative coefficients over a few workload features (e.g. time
per conv MAC, per depthwise MAC, per layer, fixed overhead), fitted by non-negative least squares
on *relative* errors (each row divided by its published figure, so a 3 ms and a 3 s model
weigh the same). How many features a target gets depends on how many distinct networks it has
points for (:func:`feature_set`): a target with few points gets fewer parameters, never more
parameters than half its networks.

Leave-one-model-out (LOMO): for each network (all points sharing an architecture, whatever the
classifier head), refit without it and predict it. Those errors give the fidelity table and the
interval every estimate carries.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: Bumped whenever features, fitting or intervals change (it names the estimates' tool_version).
ESTIMATOR_VERSION = "2.0"

#: Features counting multiply-accumulates (in millions): each MAC must go through the target's
#: MAC units, so their coefficient is at least 1e9 / peak MAC/s (ms per million MACs).
MAC_FEATURES = frozenset({"macs", "conv_macs", "dense_like_macs", "matmul_macs", "depthwise_macs"})


def total_macs(w: dict[str, Any]) -> float:
    return _macs(w, "conv", "depthwise", "pointwise", "dense")


def physical_floor_ms(w: dict[str, Any], bounds: dict[str, Any] | None) -> float:
    """The least time the target can take for this workload: every MAC at the peak rate and,
    where the plugin declares the bandwidth of the memory weights are read from, every weight
    byte read once. ``0`` where the target declares no bound."""
    if not bounds:
        return 0.0
    floor = 0.0
    if bounds.get("peak_macs_per_s"):
        floor = max(floor, 1e3 * total_macs(w) / float(bounds["peak_macs_per_s"]))
    if bounds.get("weights_bandwidth_bytes_per_s"):
        floor = max(floor, 1e3 * float(w["weights_bytes"]) / float(bounds["weights_bandwidth_bytes_per_s"]))
    return floor


def lower_bounds(features: tuple[str, ...], bounds: dict[str, Any] | None) -> list[float]:
    """Per feature, the least coefficient physics allows (MAC features: 1e9 / peak MAC/s)."""
    peak = float((bounds or {}).get("peak_macs_per_s") or 0.0)
    return [1e9 / peak if peak and n in MAC_FEATURES else 0.0 for n in features]

Features = dict[str, float]


def _macs(w: dict[str, Any], *classes: str) -> float:
    return sum(float(w["macs"].get(c, 0.0)) for c in classes)


#: Feature name -> (function of a workload dict and a baseline figure, unit shown in docs).
FEATURES: dict[str, Callable[[dict[str, Any], float | None], float]] = {
    "const": lambda w, b: 1.0,
    "macs": lambda w, b: _macs(w, "conv", "depthwise", "pointwise", "dense") / 1e6,
    "conv_macs": lambda w, b: _macs(w, "conv") / 1e6,
    "dense_like_macs": lambda w, b: _macs(w, "pointwise", "dense") / 1e6,
    "matmul_macs": lambda w, b: _macs(w, "conv", "pointwise", "dense") / 1e6,
    "depthwise_macs": lambda w, b: _macs(w, "depthwise") / 1e6,
    "other_elements": lambda w, b: _macs(w, "elementwise", "pooling", "other") / 1e6,
    "bytes": lambda w, b: sum(float(v) for v in w["bytes"].values()) / 1e6,
    "layers": lambda w, b: float(w["layers"]),
    "baseline_ms": lambda w, b: float(b) if b is not None else float("nan"),
    "peak_kib": lambda w, b: w["peak_bytes"] / 1024.0,
    "peak_inplace_kib": lambda w, b: w["peak_inplace_bytes"] / 1024.0,
    "largest_tensor_kib": lambda w, b: w["largest_tensor_bytes"] / 1024.0,
    "weights_kib": lambda w, b: w["weights_bytes"] / 1024.0,
    "greedy_arena_kib": lambda w, b: _planned(w, "greedy") / 1024.0,
    "live_peak_kib": lambda w, b: _planned(w, "live") / 1024.0,
    "live_peak_kept_input_kib": lambda w, b: _planned(w, "live", keep_inputs=True) / 1024.0,
    "overlap_peak_kib": lambda w, b: _planned(w, "overlap") / 1024.0,
    "op_kinds": lambda w, b: float(len({step[2] for step in w["graph"].get("steps", [])}))
    if w.get("graph") else float("nan"),
    "input_kib": lambda w, b: float(sum(w["graph"]["sizes"][str(t)] for t in w["graph"]["inputs"])) / 1024.0
    if w.get("graph") else float("nan"),
}


def _planned(w: dict[str, Any], planner: str, **aliasing: bool) -> float:
    """An activation planner's bytes on the workload's graph (NaN without a graph)."""
    from .workload import greedy_arena, live_peak, overlap_peak

    if not w.get("graph"):
        return float("nan")
    if planner == "overlap":
        return float(overlap_peak(w["graph"]))
    return float(greedy_arena(w["graph"], **aliasing) if planner == "greedy" else live_peak(w["graph"], **aliasing))


def feature_set(metric: str, groups: int, baseline: bool = False) -> tuple[str, ...]:
    """The features of a model for ``metric`` fitted on ``groups`` distinct networks."""
    if metric == "activation_ram_kib":  # overlapping-buffer peak, scaled to the vendor's planner
        return ("overlap_peak_kib",)
    if metric == "internal_ram_kib":  # activation buffers placed whole into the declared pools
        return ("placed_internal_kib",)
    if metric == "external_ram_kib":  # mostly 0 (nothing spilled): no relative error to fit on
        return ()
    if metric == "runtime_ram_kib":  # the runtime's per-layer structures, and a fixed part
        return ("layers", "const")
    if metric == "code_flash_kib":  # a kernel per operator kind, a descriptor per layer, per-channel
        # parameters growing with the weights, a fixed part (the set with the lowest LOMO error of
        # those tried on ST's points: docs/estimators.md)
        return ("op_kinds", "layers", "weights_kib", "const") if groups >= 8 else ("layers", "const")
    if metric == "weights_flash_kib":  # the constants, and per layer what the runtime or NPU stores
        return ("weights_kib", "layers") if groups >= 6 else ("weights_kib",)
    if baseline:  # a tool's own estimate, corrected by a factor (a fixed overhead term comes with 8 networks)
        return ("baseline_ms", "const") if groups >= 8 else ("baseline_ms",)
    if groups >= 16:
        return ("conv_macs", "dense_like_macs", "depthwise_macs", "other_elements", "layers", "const")
    if groups >= 10:
        return ("matmul_macs", "depthwise_macs", "bytes", "layers")
    if groups >= 6:
        return ("macs", "bytes", "layers")
    return ("macs", "const") if groups >= 4 else ("macs",)


#: Latency feature sets, richest first; a target may use those with at most half as many
#: parameters as it has networks (see :func:`latency_candidates`).
LATENCY_SETS: tuple[tuple[str, ...], ...] = (
    ("conv_macs", "dense_like_macs", "depthwise_macs", "other_elements", "layers", "const"),
    ("matmul_macs", "depthwise_macs", "bytes", "layers"),
    ("macs", "bytes", "layers"),
    ("macs", "const"),
    ("macs",),
)


def latency_candidates(groups: int) -> list[tuple[str, ...]]:
    """The latency feature sets a target with ``groups`` networks may use (never more
    parameters than half its networks; at least the one-parameter set)."""
    allowed = [s for s in LATENCY_SETS if 2 * len(s) <= groups]
    return allowed or [LATENCY_SETS[-1]]


def _placed(w: dict[str, Any], context: dict[str, Any] | None, part: str) -> float:
    """KiB of activations whole-buffer placement puts in the target's internal pools or spills
    (``part``), with the pools its plugin declares (``memory_pools`` of the target); NaN without."""
    from .placement import Pool, place_buffers

    pools = (context or {}).get("memory_pools")
    if not pools or not w.get("graph"):
        return float("nan")
    spec = tuple(Pool(p["name"], float(p["kib"]), int(p.get("banks", 1))) for p in pools)
    key = (id(w["graph"]), spec)
    if key not in _PLACED or _PLACED[key][0] is not w["graph"]:  # the graph object itself, not a reused id
        _PLACED[key] = (w["graph"], place_buffers(w["graph"], list(spec)))
    placed = _PLACED[key][1]
    return placed.internal_kib if part == "internal" else placed.external_kib


_PLACED: dict[tuple[int, tuple[Any, ...]], tuple[Any, Any]] = {}


#: Features that are physics, not fitted: their coefficient is fixed (a model made only of them
#: has no parameter, so its leave-one-model-out error is its error).
FIXED_COEFFICIENTS = {"placed_internal_kib": 1.0, "placed_external_kib": 1.0}

#: Features that need the target's declared facts (its ``targets.<id>`` entry in the points file).
CONTEXT_FEATURES: dict[str, Callable[[dict[str, Any], dict[str, Any] | None], float]] = {
    "placed_internal_kib": lambda w, c: _placed(w, c, "internal"),
    "placed_external_kib": lambda w, c: _placed(w, c, "external"),
}


def features_of(workload: dict[str, Any], names: tuple[str, ...], baseline: float | None = None,
                context: dict[str, Any] | None = None) -> list[float]:
    """Feature values of a workload; ``context``: the target's entry of the points file."""
    return [CONTEXT_FEATURES[n](workload, context) if n in CONTEXT_FEATURES else FEATURES[n](workload, baseline)
            for n in names]


def nnls(a: list[list[float]], b: list[float]) -> list[float]:
    """Non-negative least squares (scipy's, imported here: never at CLI start-up)."""
    import numpy as np
    from scipy.optimize import nnls as scipy_nnls

    coef, _ = scipy_nnls(np.asarray(a, dtype=float), np.asarray(b, dtype=float), maxiter=1000)
    return [float(c) for c in coef]


def fit_relative(rows: list[list[float]], values: list[float], lower: list[float] | None = None) -> list[float]:
    """Coefficients minimising the sum of squared relative errors, each >= its ``lower`` bound (0).

    Columns are scaled to unit norm first so that features in very different units (MACs in
    millions vs a constant) are treated alike by the solver, then scaled back.
    """
    import numpy as np

    a = np.asarray(rows, dtype=float) / np.asarray(values, dtype=float)[:, None]
    scale = np.linalg.norm(a, axis=0)
    scale[scale == 0] = 1.0
    if lower is None or not any(lower):
        coef = np.asarray(nnls((a / scale).tolist(), [1.0] * len(values))) / scale
        return [float(c) for c in coef]
    from scipy.optimize import lsq_linear

    lb = np.asarray(lower, dtype=float) * scale
    result = lsq_linear(a / scale, np.ones(len(values)), bounds=(lb, np.full(len(lb), np.inf)))
    return [float(max(c, lo)) for c, lo in zip(result.x / scale, lower, strict=True)]


@dataclass
class Sample:
    """One fitted or checked figure: its point, the network it belongs to, its features."""

    point: dict[str, Any]
    group: str
    features: list[float]
    #: the least time physics allows for this workload on the target (0: no bound declared)
    floor: float = 0.0


@dataclass
class FittedModel:
    """A model for one target and metric, with its leave-one-model-out errors."""

    target: str
    metric: str
    features: tuple[str, ...]
    coefficients: list[float]
    samples: list[Sample] = field(default_factory=list)
    #: point index in ``samples`` -> relative LOMO error (None when the fit had too few groups)
    lomo: list[float | None] = field(default_factory=list)
    fitted: list[float] = field(default_factory=list)
    #: the target's declared physical bounds (peak MAC/s, bandwidth), applied to latency
    bounds: dict[str, Any] = field(default_factory=dict)
    #: network -> coefficients fitted without it (leave-one-model-out)
    lomo_coefficients: dict[str, list[float]] = field(default_factory=dict)
    #: the target's entry of the points file (features such as placement read its memory pools)
    context: dict[str, Any] = field(default_factory=dict)

    def predict(self, features: list[float], floor: float = 0.0, coefficients: list[float] | None = None) -> float:
        """The linear estimate, never below the physical ``floor``."""
        coef = self.coefficients if coefficients is None else coefficients
        return max(sum(c * f for c, f in zip(coef, features, strict=True)), floor)

    def predict_without(self, group: str, features: list[float], floor: float = 0.0) -> float | None:
        """The estimate of the model fitted without network ``group`` (``None``: no such fit)."""
        coef = self.lomo_coefficients.get(group)
        return None if coef is None else self.predict(features, floor, coef)

    def lomo_errors_without(self, group: str) -> list[float]:
        """LOMO relative errors of every network but ``group`` (for an interval that never saw it)."""
        return sorted(e for s, e in zip(self.samples, self.lomo, strict=True) if e is not None and s.group != group)

    def interval_from(self, estimate: float, errors: list[float], widen: float = 1.0) -> tuple[float, float] | None:
        """``estimate`` corrected by the 10th/90th-percentile ranks of ``errors`` taken as split
        conformal prediction takes them, each side ``widen`` times as wide on a log scale (an
        extrapolation)."""
        errors = sorted(errors)
        if not errors:
            return None
        # split-conformal ranks: the floor((n+1)*0.1)-th and ceil((n+1)*0.9)-th smallest of n
        # errors bound a new network's error with probability >= 80 % (min and max under 19)
        n = len(errors)
        lo = errors[max(math.floor((n + 1) * 0.1), 1) - 1]
        hi = errors[min(math.ceil((n + 1) * 0.9), n) - 1]
        # error = (estimate - published) / published  =>  published = estimate / (1 + error);
        # widening multiplies the log-ratio log(1 + error), so both sides stay positive
        return estimate / (1.0 + hi) ** widen, estimate / (1.0 + lo) ** widen

    @property
    def groups(self) -> list[str]:
        return sorted({s.group for s in self.samples})

    def lomo_abs_errors(self) -> list[float]:
        return [abs(e) for e in self.lomo if e is not None]

    def lomo_median_abs(self) -> float | None:
        errors = self.lomo_abs_errors()
        return statistics.median(errors) if errors else None

    def interval(self, estimate: float, widen: float = 1.0) -> tuple[float, float] | None:
        """``estimate`` corrected by the 10th/90th percentile of the LOMO relative errors
        (min/max with fewer than 10 networks): the range the published figure fell in.
        error = (estimate - published) / published, so published = estimate / (1 + error)."""
        return self.interval_from(estimate, [e for e in self.lomo if e is not None], widen)

    def extrapolation(self, features: list[float], without: str | None = None) -> list[str]:
        """Why ``features`` lie outside the fitted population (empty: inside it); ``without``:
        a network left out (a job that is that network is judged against the others).

        Per feature with a non-zero coefficient: more than 25 % beyond the fitted range. As a
        whole: the distance (log-scaled features) to the nearest fitted network is larger than
        the largest such distance among the fitted networks themselves.
        """
        notes: list[str] = []
        samples = [s for s in self.samples if s.group != without]
        groups = {s.group for s in samples}
        if not samples:
            return ["no other fitted network to compare with"]
        cols = [i for i, (n, c) in enumerate(zip(self.features, self.coefficients, strict=True)) if n != "const"]
        for i in cols:
            if self.coefficients[i] == 0.0:
                continue
            values = [s.features[i] for s in samples]
            lo, hi = min(values), max(values)
            if features[i] > hi * 1.25 or features[i] < lo / 1.25:
                notes.append(f"{self.features[i]} = {features[i]:.4g} outside the fitted range "
                             f"[{lo:.4g}, {hi:.4g}]")
        if cols and len(groups) >= 3:
            def vec(f: list[float]) -> list[float]:
                return [math.log1p(max(f[i], 0.0) / (scale[i] or 1.0)) for i in cols]

            scale = {i: statistics.median([s.features[i] for s in samples]) for i in cols}
            by_group: dict[str, list[float]] = {}
            for s in samples:
                by_group.setdefault(s.group, vec(s.features))

            def nearest(v: list[float], skip: str | None = None) -> float:
                return min(math.dist(v, w) for g, w in by_group.items() if g != skip)

            spread = max(nearest(v, g) for g, v in by_group.items())
            d = nearest(vec(features))
            if d > spread:
                notes.append(f"distance to the nearest fitted network {d:.2f} exceeds the fitted networks' "
                             f"largest ({spread:.2f})")
        return notes

    def describe(self) -> dict[str, Any]:
        return {"target": self.target, "metric": self.metric, "features": list(self.features),
                "coefficients": dict(zip(self.features, self.coefficients, strict=True)),
                "networks": len(self.groups), "points": len(self.samples),
                "lomo_median_abs_error_pct": _pct(self.lomo_median_abs())}


def _pct(x: float | None) -> float | None:
    return None if x is None else round(100.0 * x, 1)


def fit_model(target: str, metric: str, samples: list[Sample], features: tuple[str, ...],
              bounds: dict[str, Any] | None = None) -> FittedModel:
    """Fit on ``samples`` and compute each one's LOMO error (refit without its network).

    ``bounds`` (latency only): the target's peak MAC/s gives the MAC features a least
    coefficient, and every prediction is at least the sample's physical floor."""
    lower = lower_bounds(features, bounds) if metric == "latency_mean_ms" else None
    fixed = all(n in FIXED_COEFFICIENTS for n in features)
    if fixed:
        coef = [FIXED_COEFFICIENTS[n] for n in features]
    else:
        coef = fit_relative([s.features for s in samples], [float(s.point["value"]) for s in samples], lower)
    model = FittedModel(target, metric, features, coef, samples, bounds=dict(bounds or {}))
    model.fitted = [model.predict(s.features, s.floor) for s in samples]
    groups = model.groups
    for s in samples:
        if len(groups) < 2 or len(groups) - 1 < len(features):
            model.lomo.append(None)
            continue
        if s.group not in model.lomo_coefficients:
            rest = [r for r in samples if r.group != s.group]
            model.lomo_coefficients[s.group] = list(coef) if fixed else fit_relative(
                [r.features for r in rest], [float(r.point["value"]) for r in rest], lower)
        est = model.predict(s.features, s.floor, model.lomo_coefficients[s.group])
        model.lomo.append((est - float(s.point["value"])) / float(s.point["value"]))
    return model
