"""Latency statistics agree with numpy and keep the raw samples."""

from __future__ import annotations

import numpy as np
import pytest
from zoo_bench.timing import latency_figures, percentile


@pytest.mark.parametrize("q", [0, 50, 90, 99, 100])
def test_percentile_matches_numpy(q):
    values = list(np.random.default_rng(1).exponential(3.0, size=37))
    assert percentile(sorted(values), q) == pytest.approx(np.percentile(values, q))


def test_latency_figures_keep_samples_and_provenance():
    figs = {f.metric: f for f in latency_figures([2.0, 4.0, 6.0, 8.0], "measured-host", "litert", "2.3.0")}
    assert figs["latency_p50_ms"].value == 5.0 and figs["latency_p50_ms"].samples == [2.0, 4.0, 6.0, 8.0]
    assert figs["inferences_per_s"].value == pytest.approx(200.0)
    assert all(f.method == "measured-host" and f.tool_version == "2.3.0" for f in figs.values())


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="method"):
        latency_figures([1.0], "guessed", "x", "1")
