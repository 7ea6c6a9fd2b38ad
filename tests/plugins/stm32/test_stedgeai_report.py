"""Parsing stedgeai's text reports and network_c_info.json.

The files in ``reports/`` follow public reports (their lines and numbers are copied from them,
the long layer tables shortened):

- ``mcu_analyze_report.txt``: MichelePoli/stm32-ai-workflow @ 4070b4070463d0e09d19d0c6856c6faf4e405bff,
  ``analisiAI/report_resnet/network_analyze_report.txt`` (ST Edge AI Core 2.2.0, MobileNetV2 224 float);
- ``mcu_legacy_8x_report.txt``: the X-CUBE-AI 8.0 header and summary of
  STMicroelectronics/stm32ai-modelzoo-services @ 46924c0,
  ``application_code/sensing_free_rtos/STM32U5/Projects/Common/X-CUBE-AI/App/network_generate_report.txt``
  (its key lines as VENDOR_TOOLS.md section 2a quotes them; the other lines follow fixture A's layout);
- ``n6_generate_report.txt``: AlexGraefe/STM32N6Example @ 8becbb20eb0643f4fff7197f44ec6bf554ae4e9b,
  ``st_ai_output/network_generate_report.txt`` (ST Edge AI Core 3.0.0, STM32N6);
- ``mcu_c_info.json``: the schema 2.0 layout of fixture A's ``network_c_info.json`` with its
  memory_footprint numbers; ``kernel_*``/``toolchain_*`` are test data (fixture A has null there:
  they are filled when STEdgeAI sizes the runtime library).
"""

from __future__ import annotations

import pytest
from zoo_bench_stm32.stedgeai_report import ReportFormatError, parse_c_info, parse_text_report, read_reports

from .conftest import REPORTS


def test_mcu_report_summary():
    r = parse_text_report(REPORTS / "mcu_analyze_report.txt")
    assert r.core_version == "2.2.0" and r.cube_ai_version is None
    assert (r.macc, r.weights, r.activations, r.ram_total) == (313_298_016, 13_951_264, 4_917_696, 4_917_696)
    assert r.settings == {"optimization": "balanced", "series": "stm32f4", "compression": "lossless"}
    assert r.pools == [] and r.epochs == {}


def test_legacy_8x_header():
    r = parse_text_report(REPORTS / "mcu_legacy_8x_report.txt")
    assert (r.core_version, r.cube_ai_version) == ("1.7.0", "8.0.0")
    assert (r.macc, r.weights, r.activations, r.ram_total) == (23_927_852, 138_136, 112_196, 112_196)


def test_n6_report_pools_and_epochs():
    r = parse_text_report(REPORTS / "n6_generate_report.txt")
    assert r.core_version == "3.0.0" and r.macc == 22_464_344
    pools = {p.name: p for p in r.pools}
    assert len(pools) == 9
    assert pools["npuRAM5"].activations == 240 * 1024 and pools["npuRAM5"].size == 0x70000
    assert pools["npuRAM5"].address == 0x342E0000
    assert pools["octoFlash"].weights == pytest.approx(212_609, abs=1)  # 207.626 kB, binary kB
    assert pools["octoFlash"].size == 112 * 1024 * 1024 and pools["cpuRAM2"].size == 1024 * 1024
    assert r.activations == 240 * 1024 and r.weights == pools["octoFlash"].weights
    assert r.epochs == {"total": 56, "sw": 1, "hybrid": 0, "hw": 55}


def test_c_info_schema_2():
    r = parse_c_info(REPORTS / "mcu_c_info.json")
    assert r.core_version == "2.2.0"
    assert (r.activations, r.weights, r.io) == (4_917_696, 13_951_264, 0)
    assert r.macc == 10_838_016 + 302_460_000
    assert (r.runtime_ram, r.runtime_flash) == (16_824, 71_700 + 624)
    assert [(p.name, p.activations, p.weights) for p in r.pools] == [
        ("heap_overlay_pool", 4_917_696, 0), ("weights_array", 0, 13_951_264)]


def test_text_report_completed_by_c_info(tmp_path):
    (tmp_path / "network_generate_report.txt").write_text((REPORTS / "mcu_analyze_report.txt").read_text())
    (tmp_path / "network_c_info.json").write_text((REPORTS / "mcu_c_info.json").read_text())
    r = read_reports(tmp_path)
    assert r.weights == 13_951_264 and r.runtime_ram == 16_824 and r.settings["optimization"] == "balanced"
    with pytest.raises(FileNotFoundError, match="no network_"):
        read_reports(tmp_path / "empty")


def test_unknown_header_is_rejected_with_file_and_line(tmp_path):
    path = tmp_path / "network_generate_report.txt"
    path.write_text("\nSome Other Tool v1.0\nmacc : 1,000\n")
    with pytest.raises(ReportFormatError, match=rf"^{path}:2: not a STEdgeAI / X-CUBE-AI report header"):
        parse_text_report(path)


def test_unreadable_summary_value_names_its_line(tmp_path):
    path = tmp_path / "r.txt"
    lines = (REPORTS / "mcu_analyze_report.txt").read_text().splitlines()
    number = next(i for i, ln in enumerate(lines, 1) if ln.startswith("weights (ro)"))
    lines[number - 1] = "weights (ro)       :   n/a"
    path.write_text("\n".join(lines))
    with pytest.raises(ReportFormatError, match=rf"^{path}:{number}: 'weights \(ro\)' has no byte count"):
        parse_text_report(path)


def test_report_without_summary_is_rejected(tmp_path):
    path = tmp_path / "r.txt"
    path.write_text("ST Edge AI Core v2.2.0-20266 2adc00962\nCreated date : today\n")
    with pytest.raises(ReportFormatError, match=rf"^{path}:2: no summary found"):
        parse_text_report(path)


def test_c_info_of_another_schema_is_rejected_naming_the_line():
    path = REPORTS / "c_info_schema_1_2.json"
    line = next(i for i, ln in enumerate(path.read_text().splitlines(), 1) if "json_schema_version" in ln)
    with pytest.raises(ReportFormatError, match=rf"{path}:{line}: json_schema_version '1.2' is not supported"):
        parse_c_info(path)
