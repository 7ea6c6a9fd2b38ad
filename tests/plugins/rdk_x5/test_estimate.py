"""The RDK X5 estimator on hbdk-perf's figure: fitted on the published points against the figures of
real compiles kept in plugins/rdk_x5/hbdk_perf.json; a fitted network is estimated without itself."""

from __future__ import annotations

import json

import pytest
from zoo_bench.estimate.data import load_points
from zoo_bench.estimate.estimators import fit_target
from zoo_bench_rdk_x5 import estimate
from zoo_bench_rdk_x5.hb_mapper import HbMapperCompiler  # noqa: F401  (the plugin imports cleanly)


def test_every_published_network_has_real_hbdk_perf_figures():
    figures = json.loads(estimate.FIGURES.read_text())
    points = load_points(estimate.POINTS)
    done = {n for n, e in figures["networks"].items() if "error" not in e and e.get("conv_nodes") is not None}
    assert len(done) >= 16
    for name in done:
        entry = figures["networks"][name]
        assert entry["versions"]["hb_mapper"] == "1.24.3" and entry["compile_s"] > 0
        assert entry["latency_ms"] > 0 and entry["ddr_bytes"] > 0 and name in points.models
    assert not any(p.get("holdout") for p in points.points)  # no MobileNet v2 alpha 1.0 among them


def test_the_fit_uses_the_tools_figure_with_leave_one_model_out_errors():
    tf = fit_target(load_points(estimate.POINTS), {}, "rdk_x5", "latency_mean_ms")
    assert tf.model.features == ("latency_ms", "conv_nodes", "const")
    assert len(tf.model.groups) >= 16
    errors = tf.model.lomo_abs_errors()
    assert len(errors) == len(tf.model.samples)
    assert sorted(errors)[len(errors) // 2] < 0.10  # median LOMO error under 10 % (measured: docs/rdk_x5.md)


def test_an_estimate_row_and_a_fitted_network_left_out():
    row = estimate.estimate("my_model", {"latency_ms": 1.0, "conv_nodes": 50, "nodes": 60, "const": 1.0})
    assert (row.metric, row.method, row.unit) == ("latency_mean_ms", "model-estimate", "ms")
    assert row.value > 1.0 and row.extra["left_out"] == []
    lo, hi = row.extra["interval"]
    assert lo <= row.value <= hi
    figures = json.loads(estimate.FIGURES.read_text())["networks"]["efficientnet_b2_224"]
    fitted = estimate.estimate("efficientnet_b2_224", {**figures, "const": 1.0})
    assert fitted.extra["left_out"] == ["efficientnet_b2_224"]  # catalog name -> its points-file network
    assert "efficientnet_b2_224" not in fitted.extra["fitted_on"]
    published = 3.31  # D-Robotics' EfficientNet-B2 single-thread figure (published_points.json)
    assert fitted.value == pytest.approx(published, rel=0.25)
