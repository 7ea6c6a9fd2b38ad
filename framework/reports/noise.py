"""Is a latency change beyond the noise? A bootstrap interval of a statistic's ratio.

Two runs of the same build on a busy machine differ by a few percent; a fixed threshold on
single figures then flags regressions that are not there. When both runs kept their raw
samples (the ``samples`` column of the ``latency_p50_ms`` row), the ratio new/base of the
statistic behind a metric (median, mean, a percentile) is resampled: a change counts only
when the whole confidence interval lies on one side of 1. The seed is fixed so the same two
runs always get the same verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

#: metric -> statistic of the per-inference samples (ms) that the metric reports.
Statistic = Callable[[np.ndarray], np.ndarray]


def _pct(q: float) -> Statistic:
    return lambda a: np.percentile(a, q, axis=-1)


STATISTICS: dict[str, Statistic] = {
    "latency_p50_ms": lambda a: np.median(a, axis=-1),
    "latency_p90_ms": _pct(90),
    "latency_p99_ms": _pct(99),
    "latency_mean_ms": lambda a: np.mean(a, axis=-1),
    "inferences_per_s": lambda a: 1000.0 / np.mean(a, axis=-1),
}

#: fewer samples than this cannot say much about noise; such figures are judged on the threshold only.
MIN_SAMPLES = 5


@dataclass(frozen=True)
class RatioInterval:
    """new/base ratio of a statistic and its bootstrap confidence interval."""

    ratio: float
    low: float
    high: float
    confidence: float

    def excludes_one(self) -> bool:
        """True when the interval lies wholly above or wholly below 1 (the change is not noise)."""
        return self.low > 1.0 or self.high < 1.0


def ratio_interval(metric: str, base: Sequence[float], new: Sequence[float], resamples: int = 2000,
                   confidence: float = 0.95, seed: int = 0) -> RatioInterval | None:
    """Bootstrap interval of stat(new) / stat(base) for ``metric``; ``None`` when it cannot be judged."""
    stat = STATISTICS.get(metric)
    if stat is None or len(base) < MIN_SAMPLES or len(new) < MIN_SAMPLES:
        return None
    b = np.asarray(base, dtype=np.float64)
    n = np.asarray(new, dtype=np.float64)
    if not (np.all(np.isfinite(b)) and np.all(np.isfinite(n))) or stat(b) <= 0:
        return None
    rng = np.random.default_rng(seed)
    b_boot = stat(b[rng.integers(0, len(b), size=(resamples, len(b)))])
    n_boot = stat(n[rng.integers(0, len(n), size=(resamples, len(n)))])
    ratios = n_boot / np.where(b_boot > 0, b_boot, np.nan)
    ratios = ratios[np.isfinite(ratios)]
    if ratios.size == 0:
        return None
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(ratios, [tail, 100.0 - tail])
    return RatioInterval(float(stat(n) / stat(b)), float(low), float(high), confidence)
