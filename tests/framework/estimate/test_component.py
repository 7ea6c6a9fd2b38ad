"""The estimator component on a real int8 model: model-estimate rows with interval and provenance."""

from __future__ import annotations

import pytest
from zoo_bench import Artifact, ModelSpec, StageContext, Target
from zoo_bench.errors import ToolUnavailable
from zoo_bench.estimate.component import ModelEstimator
from zoo_bench.estimate.workload import workload_of_tflite

from .conftest import synthetic_points

pytest.importorskip("scipy")
pytest.importorskip("ai_edge_litert")


def _ctx(tmp_path, model_path, target="board1", fmt="tflite", precision="int8"):
    spec = ModelSpec(name="tiny", source="test", family="tiny", resolution=32, native_format="keras", classes=10)
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return StageContext(spec, Target(id=target, vendor="Test", device_class="MCU"), "run:est:estimate", {},
                        {"q": Artifact(model_path, fmt, precision=precision)}, work)


def test_estimate_row_follows_the_fitted_law(tmp_path, tiny_int8):
    pfile, wfile = synthetic_points(tmp_path, n=12)
    est = ModelEstimator("test_estimate", pfile, workloads=wfile)
    assert est.unavailable_reason() is None
    (fig,) = est.run(_ctx(tmp_path, tiny_int8)).figures
    w = workload_of_tflite(tiny_int8)
    law = 2.0 * (w.macs["conv"] + w.macs["depthwise"] + w.macs["pointwise"] + w.macs["dense"]) / 1e6 + 0.1 * w.layers
    assert fig.metric == "latency_mean_ms" and fig.method == "model-estimate" and fig.unit == "ms"
    assert fig.value == pytest.approx(law, rel=0.02)  # the synthetic points follow that law exactly
    assert fig.tool == "zoo-bench-estimate:test_estimate" and fig.tool_version
    assert "holdout_net" not in fig.extra["fitted_on"] and len(fig.extra["fitted_on"]) == 12
    lo, hi = fig.extra["interval"]
    assert lo <= fig.value <= hi
    assert fig.extra["workload"]["layers"] == w.layers


def test_input_files_cover_points_and_workloads(tmp_path):
    pfile, wfile = synthetic_points(tmp_path)
    est = ModelEstimator("test_estimate", pfile, workloads=wfile)
    assert set(est.input_files({})) == {pfile, wfile}
    assert "test_estimate" != ModelEstimator.name  # each plugin registers its own instance name


def test_no_points_for_target_is_a_skip(tmp_path, tiny_int8):
    pfile, wfile = synthetic_points(tmp_path)
    est = ModelEstimator("test_estimate", pfile, workloads=wfile)
    with pytest.raises(ToolUnavailable, match="no usable points for target other"):
        est.run(_ctx(tmp_path, tiny_int8, target="other"))
    with pytest.raises(ToolUnavailable, match="int8 .tflite"):
        est.run(_ctx(tmp_path, tiny_int8, precision="float32"))
