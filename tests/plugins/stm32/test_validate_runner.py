"""The ``stm32_validate`` runner's report parsing and its skips.

``validate_host_report.txt`` follows the public HOST-mode validate report of
MichelePoli/stm32-ai-workflow @ 4070b4070463d0e09d19d0c6856c6faf4e405bff
(``analisiAI/network_validate_report.txt/network_validate_report.txt``: its AI RUNNER line,
summary, "ST.AI Profiling results v2.0" block and "Complexity report"). No public report of a
``--mode target`` run exists (VENDOR_TOOLS.md section 8): ``validate_target_report.txt`` is that
same layout with ``mode=TARGET``, a serial protocol line and an STM32H7 ``device.desc``, and its
durations are test data.
"""

from __future__ import annotations

import pytest
from zoo_bench_stm32.stedgeai_report import ReportFormatError
from zoo_bench_stm32.validate_runner import Stm32ValidateRunner, parse_validate_report, validate_figures

from .conftest import REPORTS, TARGETS


def test_target_report_gives_board_rows():
    report = parse_validate_report(REPORTS / "validate_target_report.txt")
    assert (report.mode, report.samples) == ("TARGET", 10)
    assert (report.mean_ms, report.min_ms, report.max_ms, report.std_ms) == (0.955, 0.943, 0.986, 0.012)
    assert report.device.startswith("stm32 family - 0x450")
    assert [(layer["name"], layer["duration_percent"]) for layer in report.layers][:2] == [
        ("batch_normalization_1", 23.3), ("conv2d_1", 73.9)]
    figs = {f.metric: f for f in validate_figures(report, "2.2.0", {"link": "serial"})}
    assert figs["latency_mean_ms"].value == 0.955 and figs["latency_mean_ms"].method == "measured-board"
    assert figs["inferences_per_s"].value == pytest.approx(1000 / 0.955)
    assert figs["latency_mean_ms"].tool == "stedgeai validate" and len(figs["latency_mean_ms"].extra["per_layer"]) == 5


def test_a_host_run_is_never_a_board_measurement():
    report = parse_validate_report(REPORTS / "validate_host_report.txt")
    assert report.mode == "HOST" and report.device == "x86_64, x86_64, Linux"
    with pytest.raises(ValueError, match="HOST run, not a board run"):
        validate_figures(report, "2.2.0", {})


def test_not_a_validate_report(tmp_path):
    path = tmp_path / "network_validate_report.txt"
    path.write_text((REPORTS / "mcu_analyze_report.txt").read_text())
    with pytest.raises(ReportFormatError, match=rf"^{path}:\d+: no '\(AI RUNNER\)"):
        parse_validate_report(path)


def test_skipped_without_tool_or_board(fake_stedgeai, monkeypatch, tmp_path):
    runner = Stm32ValidateRunner()
    fake_stedgeai({})
    assert runner.unavailable_reason(TARGETS["stm32h7"], {}).startswith("no STM32 board: connect one over USB")
    assert runner.unavailable_reason(TARGETS["stm32h7"], {"device": "serial:921600"}) is None
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    reason = runner.unavailable_reason(TARGETS["stm32n6"], {"device": "serial"})
    assert reason.startswith("STEdgeAI (stedgeai) not found")
