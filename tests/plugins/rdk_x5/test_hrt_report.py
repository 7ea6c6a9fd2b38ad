"""hrt_model_exec perf parsing (plugins/rdk_x5/hrt_report.py) on D-Robotics' public notebook output:
data/hrt_model_exec_perf_mobilenetv1_4t.txt is cell 9 of rdk_model_zoo (be4f89bd)
samples/vision/classification/MobileNetV1/test_MobileNetV1.ipynb, verbatim."""

from __future__ import annotations

import pytest
from zoo_bench_rdk_x5.board_runner import perf_figures
from zoo_bench_rdk_x5.hrt_report import HrtReportError, parse_hrt_perf

from .conftest import DATA

NOTEBOOK = (DATA / "hrt_model_exec_perf_mobilenetv1_4t.txt").read_text()


def test_notebook_output():
    r = parse_hrt_perf(NOTEBOOK)
    # the zoo's README row for MobileNetV1: 4-thread 2.90 ms, 1356.25 FPS
    assert (r.average_ms, r.fps, r.threads, r.frames) == (2.902294, 1356.254026, 4, 200)
    assert (r.max_ms, r.min_ms, r.load_ms) == (3.393, 2.187, 123.008)
    assert r.runtime_version == "1.23.5_(3.15.47 HBRT)" and r.builder_version == "1.23.5"


def test_rows_are_measured_board_with_the_runtime_version():
    figs = {f.metric: f for f in perf_figures(parse_hrt_perf(NOTEBOOK), {"threads": 4, "board": "x5"})}
    assert set(figs) == {"latency_mean_ms", "inferences_per_s", "latency_min_ms", "latency_max_ms", "init_ms"}
    assert all(f.method == "measured-board" and f.tool == "hrt_model_exec" for f in figs.values())
    assert figs["latency_mean_ms"].tool_version == "1.23.5_(3.15.47 HBRT)"
    assert figs["inferences_per_s"].value == 1356.254026 and figs["latency_mean_ms"].extra["threads"] == 4


def test_output_without_perf_result_is_rejected():
    head = NOTEBOOK.split("Perf result:")[0]
    with pytest.raises(HrtReportError, match="'Average latency is' and 'Frame rate is'"):
        parse_hrt_perf(head)
    with pytest.raises(HrtReportError, match="'Frame rate is'"):
        parse_hrt_perf(NOTEBOOK.replace("Frame      rate", "Frames"))
