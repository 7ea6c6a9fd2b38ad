"""Fitting: NNLS on relative errors, leave-one-model-out errors, intervals, feature sets."""

from __future__ import annotations

import pytest
from zoo_bench.estimate.estimators import fit_all, network_key
from zoo_bench.estimate.fit import Sample, feature_set, fit_model, fit_relative

from .conftest import synthetic_points

pytest.importorskip("scipy")


def test_recovers_a_linear_law_exactly():
    rows = [[x, 1.0] for x in (1.0, 2.0, 5.0, 10.0)]
    values = [3 * x + 0.5 for x, _ in rows]
    a, b = fit_relative(rows, values)
    assert a == pytest.approx(3.0, rel=1e-6) and b == pytest.approx(0.5, rel=1e-6)


def test_coefficients_are_never_negative():
    rows = [[x, 1.0] for x in (1.0, 2.0, 3.0)]
    coef = fit_relative(rows, [10.0 - x for x, _ in rows])  # a negative slope would fit best
    assert all(c >= 0 for c in coef)


def test_fewer_networks_give_fewer_parameters():
    many = feature_set("latency_mean_ms", 20)
    few = feature_set("latency_mean_ms", 3)
    assert len(few) < len(many) and len(few) <= 3 // 2 + 1
    assert feature_set("latency_mean_ms", 4, baseline=True) == ("baseline_ms",)


def test_lomo_leaves_out_whole_networks_and_gives_an_interval():
    samples = [Sample({"model": f"m{i}", "value": 2.0 * i + 1}, f"g{i}", [float(i), 1.0]) for i in range(1, 9)]
    samples.append(Sample({"model": "m1_other_head", "value": 3.3}, "g1", [1.0, 1.0]))  # same body as m1
    model = fit_model("t", "latency_mean_ms", samples, ("macs", "const"))
    assert len(model.lomo) == len(samples) and all(e is not None for e in model.lomo)
    assert model.lomo[-1] == pytest.approx((3.0 - 3.3) / 3.3, abs=0.05)  # predicted without g1 at all
    lo, hi = model.interval(10.0)
    assert lo <= 10.0 <= hi


def test_same_body_other_head_is_one_network():
    a = {"builder": "x", "args": {"alpha": 0.25}, "resolution": 224, "classes": 5, "defined_by": "a"}
    b = {**a, "classes": 1000, "defined_by": "b"}
    assert network_key(a) == network_key(b)
    assert network_key(a) != network_key({**a, "resolution": 128})


def test_fit_all_keeps_holdouts_out_of_the_fit(tmp_path):
    pfile, wfile = synthetic_points(tmp_path, n=12, noise=0.05)
    (fitted,) = fit_all([pfile], workloads_file=wfile)
    assert "holdout_net" not in {s.point["model"] for s in fitted.model.samples}
    assert [s.point["model"] for s in fitted.holdout] == ["holdout_net"]
    median = fitted.model.lomo_median_abs()
    assert median is not None and median < 0.15  # 5 % noise around a linear law
