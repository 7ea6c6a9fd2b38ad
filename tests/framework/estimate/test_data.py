"""The shipped points files: well formed, every figure cited, MobileNet v2 alpha 1.0 held out."""

from __future__ import annotations

import json

import pytest
from zoo_bench.errors import UsageError
from zoo_bench.estimate.data import is_fitted, load_points, points_files


def _is_mobilenet_v2_alpha_1(definition: dict) -> bool:
    args = definition.get("args", {})
    return args.get("application") == "MobileNetV2" and float(args.get("alpha", 1.0)) == 1.0


def test_every_plugin_ships_points_and_they_load():
    files = points_files()
    assert {f.resolve().parent.name for f in files} >= {"stm32", "nxp_imx", "rdk_x5"}
    for f in files:
        pf = load_points(f)
        assert pf.points and all(p.get("path") for p in pf.points), f
        assert all({"repo", "commit"} <= set(src) for src in pf.sources.values()), f


def test_mobilenet_v2_alpha_1_is_never_fitted_on():
    held = 0
    for f in points_files():
        pf = load_points(f)
        for p in pf.points:
            if _is_mobilenet_v2_alpha_1(pf.models[p["model"]]) or "mobilenet_v2_1.0" in p["model"]:
                assert p.get("holdout") is True and not is_fitted(p), (f.name, p)
                held += 1
    assert held >= 4  # the outside check exists (H7, N6, MP2 figures of the ST zoo)


def test_a_point_citing_an_unknown_source_is_a_usage_error(tmp_path):
    bad = tmp_path / "published_points.json"
    bad.write_text(json.dumps({"sources": {}, "targets": {"t": {}}, "models": {"m": {"builder": "x"}},
                               "points": [{"model": "m", "target": "t", "metric": "latency_mean_ms", "value": 1,
                                           "unit": "ms", "source": "nowhere"}]}))
    with pytest.raises(UsageError, match="unknown source 'nowhere'"):
        load_points(bad)
