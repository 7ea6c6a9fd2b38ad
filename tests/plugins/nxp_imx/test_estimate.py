"""The i.MX estimate stage: planned on the int8 model, registered with the plugin's points file,
fitted on the eIQ figures (the i.MX 93 as a correction of Vela's estimate)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from zoo_bench import ModelSpec
from zoo_bench.plan import Planner
from zoo_bench.plugins import load_registry
from zoo_bench_nxp_imx.targets import ESTIMATOR, imx_targets

POINTS = Path(__file__).resolve().parents[3] / "plugins" / "nxp_imx" / "published_points.json"


@pytest.mark.parametrize("target", ["imx93", "imx8mp"])
def test_estimate_stage_reads_the_int8_model(target):
    t = {t.id: t for t in imx_targets()}[target]
    model = ModelSpec(name="m", source="src", family="m", resolution=224, native_format="keras")
    p = Planner(model, t)
    t.plan(model, p)
    stage = {s.id: s for s in p.ordered()}["run:imx_estimate:estimate"]
    assert stage.component == ESTIMATOR and stage.inputs == ("quantize:tflite_int8",)


def test_estimator_registered_with_the_plugins_points():
    est = load_registry().component("run", ESTIMATOR)
    assert est.points == POINTS and POINTS in est.input_files({})


def test_points_cite_sources_and_imx93_corrects_vela():
    data = json.loads(POINTS.read_text())
    assert data["targets"]["imx93"]["baseline"]["compiler"] == "vela"
    assert all(p["source"] in data["sources"] and p.get("path") for p in data["points"])
    pytest.importorskip("scipy")
    est = load_registry().component("run", ESTIMATOR)
    (fit93,) = est.fits("imx93")
    assert fit93.model.features[0] == "baseline_ms"  # a factor on Vela's estimate
    assert all(c >= 0 for c in fit93.model.coefficients)
