"""Never in-sample (issue 20): a job whose network was fitted on gets its leave-one-network-out
value; MobileNet v2 width 1.0 is held out by rule, published or measured; physics bounds."""

from __future__ import annotations

import json

import pytest
from zoo_bench.estimate.cli import measured_points
from zoo_bench.estimate.component import ModelEstimator
from zoo_bench.estimate.data import holdout_reason
from zoo_bench.estimate.estimators import fit_all
from zoo_bench.estimate.fidelity import point_rows, spearman, summary
from zoo_bench.estimate.fit import Sample, fit_model

from .conftest import synthetic_points, workload

pytest.importorskip("scipy")


def _with_catalog_name(pfile, model: str, catalog: str) -> None:
    data = json.loads(pfile.read_text())
    data["models"][model]["catalog"] = catalog
    pfile.write_text(json.dumps(data))


def test_a_network_in_the_fit_gets_its_leave_one_out_value(tmp_path):
    pfile, wfile = synthetic_points(tmp_path, n=12, noise=0.08)
    _with_catalog_name(pfile, "net3", "net3_224")
    est = ModelEstimator("test_estimate", pfile, workloads=wfile)
    fits, pf, workloads = est.fits_with_data("board1", None)
    lomo = {r["model"]: r for r in point_rows(fits[0])}["net3"]
    w = json.loads(wfile.read_text())["models"]["net3"]["workload"]
    for name in ("net3_224", "someone_elses_name"):  # by the catalog name, or by the same body
        (fig,) = est.estimate(fits, pf, workloads, name, w)
        assert fig.extra["in_fit"] is True and fig.extra["left_out"] == ["net3"]
        assert fig.value == pytest.approx(lomo["lomo_estimate"], rel=1e-3)  # what fidelity reports as LOMO
        assert fig.extra["full_fit_value"] == pytest.approx(lomo["estimate"], rel=1e-3)
        assert abs(fig.value - fig.extra["full_fit_value"]) > 1e-3 * fig.value  # noise: the two differ
    (other,) = est.estimate(fits, pf, workloads, "new_net", workload(7.5e6, 1.5e6, 31))
    assert other.extra["in_fit"] is False and other.extra["full_fit_value"] is None


def test_mobilenet_v2_width_1_is_held_out_by_rule_whatever_its_name():
    held = ["mobilenet_v2_1.0_224", "mobilenetv2_100", "MobileNetV2-1.0", "mobilenet_v2_224",
            "measured:mobilenet_v2_1.0_224@stm32h7:run:stm32_validate"]
    for name in held:
        assert holdout_reason(name) is not None, name
    for name in ("mobilenet_v2_0.35_224", "mobilenetv2_035", "mobilenet_v2_1.4_224", "mobilenetv3_large_100"):
        assert holdout_reason(name) is None, name
    assert holdout_reason("x", {"builder": "keras_application", "args": {"application": "MobileNetV2"}})
    assert holdout_reason("x", {"builder": "timm", "args": {"timm_name": "mobilenetv2_100"}})


def _measured_file(tmp_path, rows, wfile):
    found, used, _ = measured_points(rows, {"board1"}, None, json.loads(wfile.read_text())["models"])
    out = tmp_path / "measured.json"
    out.write_text(json.dumps({"sources": {"measured": {"repo": "local", "commit": "x"}}, "points": found,
                               "workloads": used}))
    return out


def _row(model, value, extra=None, method="measured-board"):
    return {"method": method, "metric": "latency_mean_ms", "status": "ok", "target": "board1", "model": model,
            "stage": "run:board:npu", "value": value, "run_id": "r1", "tool": "t", "tool_version": "1",
            "extra": json.dumps(extra or {})}


def test_a_measured_mobilenet_v2_1_point_is_never_fitted_on(tmp_path):
    """`zoo-bench fit` on a store holding a board measurement of mobilenet_v2_1.0_224: the point
    goes to the held-out figures, and a measured point of a published network joins its group."""
    pfile, wfile = synthetic_points(tmp_path, n=10, noise=0.03)
    _with_catalog_name(pfile, "net4", "net4_224")
    w_mnv2 = json.loads(wfile.read_text())["models"]["holdout_net"]["workload"]
    rows = [_row("mobilenet_v2_1.0_224", 9.0), _row("mobilenet_v2_1.0_224", 8.0, {"workload": w_mnv2},
                                                    "model-estimate"),
            _row("net4_224", 5.0), _row("net4_224", 4.0, {"workload": workload(5e6, 2e5 * 1, 22)}, "model-estimate")]
    measured = _measured_file(tmp_path, rows, wfile)
    (tf,) = fit_all([pfile], workloads_file=wfile, extra=measured)
    fitted = {s.point["model"] for s in tf.model.samples}
    assert not any("mobilenet_v2_1.0" in m for m in fitted)
    assert any("mobilenet_v2_1.0" in s.point["model"] for s in tf.holdout)
    groups = {s.point["model"]: s.group for s in tf.model.samples}
    measured_net4 = next(m for m in fitted if m.startswith("measured:net4_224"))
    assert groups[measured_net4] == groups["net4"]  # left out together in LOMO


def test_a_measured_point_without_a_name_match_shares_the_network_by_its_body(tmp_path):
    pfile, wfile = synthetic_points(tmp_path, n=10)
    w_net2 = json.loads(wfile.read_text())["models"]["net2"]["workload"]
    rows = [_row("renamed_net", 7.0), _row("renamed_net", 6.0, {"workload": w_net2}, "model-estimate")]
    (tf,) = fit_all([pfile], workloads_file=wfile, extra=_measured_file(tmp_path, rows, wfile))
    groups = {s.point["model"]: s.group for s in tf.model.samples}
    assert groups[next(m for m in groups if m.startswith("measured:renamed_net"))] == groups["net2"]


def test_an_estimate_never_beats_the_declared_peak():
    """A MAC feature's coefficient is at least 1e9 / peak MAC/s, even where the points alone
    would make it free (every network here has the same conv MACs: conv would fit to 0)."""
    samples = []
    for i in range(8):
        feats = [100.0, 1.0 + i]  # conv MMACs, layers
        samples.append(Sample({"model": f"n{i}", "value": 0.5 * (1.0 + i)}, f"n{i}", feats))
    free = fit_model("t", "latency_mean_ms", samples, ("conv_macs", "layers"))
    assert free.coefficients[0] == pytest.approx(0.0, abs=1e-9)
    bounded = fit_model("t", "latency_mean_ms", samples, ("conv_macs", "layers"), {"peak_macs_per_s": 1e12})
    assert bounded.coefficients[0] >= 1e9 / 1e12
    assert bounded.predict([384.0, 0.0]) >= 384e6 / 1e12 * 1e3  # 384 MMACs at 1 TMAC/s: >= 0.384 ms


def test_extrapolation_is_flagged_and_widens_the_interval(tmp_path):
    pfile, wfile = synthetic_points(tmp_path, n=12, noise=0.05)
    est = ModelEstimator("test_estimate", pfile, workloads=wfile)
    fits, pf, workloads = est.fits_with_data("board1", None)
    (inside,) = est.estimate(fits, pf, workloads, "a", workload(6.5e6, 4e5, 28))
    (outside,) = est.estimate(fits, pf, workloads, "b", workload(400e6, 4e5, 28))
    assert inside.extra["extrapolation"] is None
    assert outside.extra["extrapolation"] and "outside the fitted range" in outside.extra["extrapolation"][0]
    rel = [(f.extra["interval"][1] - f.extra["interval"][0]) / f.value for f in (inside, outside)]
    assert rel[1] > 1.5 * rel[0]


def test_fidelity_summary_has_shares_spearman_and_coverage(tmp_path):
    pfile, wfile = synthetic_points(tmp_path, n=12, noise=0.03)
    (tf,) = fit_all([pfile], workloads_file=wfile)
    s = summary(tf)
    assert s["within_10_pct"] == 100.0 and s["within_20_pct"] == 100.0  # 3 % noise around the law
    assert s["spearman"] > 0.95 and 0 <= s["interval_coverage_pct"] <= 100
    assert [h["model"] for h in s["holdout"]] == ["holdout_net"]
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == 1.0 and spearman([1, 2, 3], [3, 2, 1]) == -1.0


def test_zoo_bench_fit_never_fits_a_measured_mobilenet_v2_1(tmp_path):
    """The same through the command: `zoo-bench fit` on a store with a board measurement of
    mobilenet_v2_1.0_224 reports it as held out, not fitted."""
    from zoo_bench.records import Record
    from zoo_bench.store import ResultsStore

    from ...conftest import run_cli

    pfile, wfile = synthetic_points(tmp_path, n=8)
    store = ResultsStore(tmp_path / "results")
    run_id = store.new_run({"models": ["mobilenet_v2_1.0_224"], "targets": ["board1"]})
    w = json.loads(wfile.read_text())["models"]["holdout_net"]["workload"]
    job = "mobilenet_v2_1.0_224@board1"
    common = {"run_id": run_id, "job_id": job, "model": "mobilenet_v2_1.0_224", "target": "board1",
              "stage_kind": "run", "metric": "latency_mean_ms", "unit": "ms", "tool_version": "1"}
    store.write_job(run_id, job, [
        Record(**common, stage="run:board:npu", value=9.0, method="measured-board", tool="board_runner"),
        Record(**common, stage="run:est:estimate", value=8.0, method="model-estimate", tool="zoo-bench-estimate:est",
               extra={"workload": w})])
    proc = run_cli(["fit", "--target", "board1", "-o", str(tmp_path / "results"), "--points", str(pfile),
                    "--workloads", str(wfile), "--points-out", str(tmp_path / "m.json"), "--json"])
    assert proc.returncode == 0, proc.stderr
    (entry,) = json.loads(proc.stdout)["targets"]
    kinds = {p["model"]: p["kind"] for p in entry["points"]}
    measured = next(m for m in kinds if m.startswith("measured:mobilenet_v2_1.0_224"))
    assert kinds[measured] == "holdout" and entry["summary"]["points"] == 8
