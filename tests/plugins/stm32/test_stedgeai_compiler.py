"""The ``stedgeai`` compiler against an executable ``stedgeai`` put on PATH by the test.

The fake tool prints the ``--version`` banner of ST's documentation
(https://stedgeai-dc.st.com/assets/embedded-docs/setting_env.html) and, for ``generate``,
replays public reports (see test_stedgeai_report.py for their sources): the rows must come out
``tool-estimate`` with that report's numbers.
"""

from __future__ import annotations

import json

import pytest
from zoo_bench_stm32.estimate import Stm32FootprintEstimator
from zoo_bench_stm32.stedgeai import (
    StedgeaiCompiler,
    find_stedgeai,
    generate_command,
    parse_version_banner,
)

from tests.conftest import run_cli

from .conftest import TARGETS


def by_metric(figures):
    return {f.metric: f for f in figures}


def test_both_banner_forms():
    assert parse_version_banner("ST Edge AI Core v2.0.0-A1\n    STM32CubeAI 10.0.0\n    STM32MP2 1.0\n") == \
        {"core": "2.0.0", "stm32cubeai": "10.0.0"}
    assert parse_version_banner("ST Edge AI Core v2.2.0-20266 2adc00962\n") == {"core": "2.2.0"}
    assert parse_version_banner("Neural Network Tools for STM32AI v1.7.0 (STM.ai v8.0.0-19389)") == \
        {"core": "1.7.0", "stm32cubeai": "8.0.0"}
    with pytest.raises(ValueError, match="unrecognised"):
        parse_version_banner("stedgeai: command not found")


def test_command_lines_are_the_model_zoos(tmp_path):
    exe, model, out = tmp_path / "stedgeai", tmp_path / "m.tflite", tmp_path / "out"
    assert generate_command(exe, model, out, "stm32", {"optimization": "ram"}) == [
        str(exe), "generate", "--target", "stm32", "-m", str(model), "-v", "0", "--allocate-inputs",
        "--allocate-outputs", "--output", str(out), "--workspace", str(out), "--optimization", "ram"]
    assert generate_command(exe, model, out, "stm32n6", {"st_neural_art": "default@user_neuralart.json"}) == [
        str(exe), "generate", "--target", "stm32n6", "-m", str(model), "--st-neural-art",
        "default@user_neuralart.json", "--output", str(out), "--workspace", str(out)]


def test_found_through_option_env_or_path(tmp_path, monkeypatch, fake_stedgeai):
    exe = fake_stedgeai({})
    assert find_stedgeai({}) == exe
    other = tmp_path / "elsewhere" / "stedgeai"
    other.parent.mkdir()
    other.write_text(exe.read_text())
    other.chmod(0o755)
    monkeypatch.setenv("STEDGEAI", str(other))
    assert find_stedgeai({}) == other
    assert find_stedgeai({"stedgeai": str(exe)}) == exe
    monkeypatch.setenv("STEDGEAI", str(tmp_path / "missing"))
    assert find_stedgeai({}) is None


def test_no_tool_skips_with_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("STEDGEAI", raising=False)
    reason = StedgeaiCompiler().unavailable_reason(TARGETS["stm32h7"], {})
    assert reason.startswith("STEdgeAI (stedgeai) not found") and "$STEDGEAI" in reason and "-s stedgeai=" in reason
    assert StedgeaiCompiler().tool_versions() == {"stedgeai": "not found"}


def test_mcu_generate_rows_are_tool_estimates(fake_stedgeai, make_ctx, tmp_path):
    fake_stedgeai({"network_generate_report.txt": "mcu_analyze_report.txt", "network_c_info.json": "mcu_c_info.json"})
    model = tmp_path / "m.tflite"
    model.write_bytes(b"TFL3")
    compiler = StedgeaiCompiler()
    assert compiler.tool_versions() == {"stedgeai": "2.0.0", "stm32cubeai": "10.0.0"}
    out = compiler.compile(make_ctx(model, options={"optimization": "time"}))
    figs = by_metric(out.figures)
    assert figs["activation_ram_kib"].value == pytest.approx(4_917_696 / 1024)
    assert figs["weights_flash_kib"].value == pytest.approx(13_951_264 / 1024)
    assert figs["runtime_ram_kib"].value == pytest.approx(16_824 / 1024)
    assert figs["code_flash_kib"].value == pytest.approx((71_700 + 624) / 1024)
    assert figs["total_ram_kib"].value == pytest.approx((4_917_696 + 16_824) / 1024)
    assert figs["macs"].value == 10_838_016 + 302_460_000
    for f in out.figures:
        assert (f.method, f.tool, f.tool_version) == ("tool-estimate", "stedgeai", "2.0.0")
        assert f.extra["stm32cubeai_version"] == "10.0.0"
    # 4.7 MiB of activations: over the H7's 992 KiB of RAM, within its 32 MiB SDRAM
    assert (figs["fits_internal_ram"].value, figs["fits_with_external_ram"].value) == (0.0, 1.0)
    assert figs["fits_internal_ram"].extra["verdict"] == "needs external"
    assert (figs["fits_internal_flash"].value, figs["fits_with_external_flash"].value) == (0.0, 1.0)
    calls = (tmp_path / "stedgeai_calls.log").read_text().splitlines()
    assert any(c.startswith("generate --target stm32 -m") and c.endswith("--optimization time") for c in calls)
    assert out.artifact.format == "stedgeai-output" and "network_generate_report.txt" in out.artifact.files


def test_n6_generate_rows_split_internal_and_external(fake_stedgeai, make_ctx, tmp_path):
    fake_stedgeai({"network_generate_report.txt": "n6_generate_report.txt"})
    model = tmp_path / "m.onnx"
    model.write_bytes(b"onnx")
    out = StedgeaiCompiler().compile(make_ctx(model, target="stm32n6", fmt="onnx"))
    figs = by_metric(out.figures)
    assert figs["internal_ram_kib"].value == pytest.approx(240.0)
    assert figs["external_ram_kib"].value == 0.0
    assert figs["weights_flash_kib"].value == pytest.approx(207.626, abs=1e-3)
    assert (figs["npu_epochs_hw"].value, figs["npu_epochs_sw"].value) == (55, 1)
    assert figs["fits_internal_ram"].value == 1.0
    assert figs["fits_internal_flash"].value == 0.0  # the N6 has no internal flash: weights in octoFlash
    assert figs["fits_with_external_flash"].extra["verdict"] == "needs external"
    assert all(f.method == "tool-estimate" for f in out.figures)


def test_open_estimate_steps_aside_when_the_tool_is_there(fake_stedgeai):
    exe = fake_stedgeai({})
    reason = Stm32FootprintEstimator().unavailable_reason(TARGETS["stm32h7"], {})
    assert reason.startswith(f"STEdgeAI found at {exe}")
    assert Stm32FootprintEstimator().unavailable_reason(TARGETS["stm32h7"], {"open_estimate": "always"}) is None


def test_cli_run_takes_the_tools_figures(fake_stedgeai, tiny_models, tmp_path):
    """zoo-bench run on a .tflite file with the fake tool on PATH: the footprint rows are the
    replayed report's, ``tool-estimate``; the open estimate is skipped with its reason."""
    fake_stedgeai({"network_generate_report.txt": "mcu_legacy_8x_report.txt"})
    import os

    env = dict(os.environ, ZOO_BENCH_CACHE=str(tmp_path / "cache"))
    proc = run_cli(["run", "-t", "stm32h7", "-m", str(tiny_models["tiny_int8_float_out"]), "-o",
                    str(tmp_path / "res"), "--json"], env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = json.loads(run_cli(["results", "-o", str(tmp_path / "res"), "--json", "--all-rows"], env=env).stdout)
    tool_rows = {r["metric"]: r for r in rows if r["stage"] == "compile:stedgeai" and r["metric"] != "stage_seconds"}
    assert tool_rows["weights_flash_kib"]["value"] == pytest.approx(138_136 / 1024)
    assert tool_rows["activation_ram_kib"]["value"] == pytest.approx(112_196 / 1024)
    assert {tool_rows[m]["method"] for m in ("weights_flash_kib", "activation_ram_kib", "macs")} == {"tool-estimate"}
    assert tool_rows["weights_flash_kib"]["tool_version"] == "2.0.0"
    skipped = [r for r in rows if r["stage"] == "compile:stm32_footprint"]
    assert [r["status"] for r in skipped] == ["skipped"] and "STEdgeAI found at" in skipped[0]["reason"]
