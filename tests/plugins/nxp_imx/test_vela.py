"""The vela compiler: a real Vela compile of small int8 models with the i.MX 93 configuration."""

from __future__ import annotations

import configparser
import csv
import importlib.metadata

import pytest
from zoo_bench import UsageError
from zoo_bench_nxp_imx.vela import DEFAULTS, IMX93_VELA_INI, VelaCompiler

pytest.importorskip("ethosu.vela", reason="Vela is not installed (zoo-bench[nxp])")
VELA_VERSION = importlib.metadata.version("ethos-u-vela")


def by_metric(figures):
    return {f.metric: f for f in figures}


def test_int8_model_compiles_fully_onto_the_npu(tiny_models, make_ctx):
    out = VelaCompiler().compile(make_ctx(tiny_models["tiny_int8"]))
    art = out.artifact
    assert art.format == "vela-tflite" and art.path.name == "model_vela.tflite" and art.path.stat().st_size > 0
    assert art.meta["system_config"] == "iMX93" and art.meta["cpu_ops"] == 0
    assert {"vela_summary_csv", "vela_per_layer_csv", "vela_log"} <= set(art.files)
    with open(art.files["vela_per_layer_csv"]) as fh:
        layers = list(csv.DictReader(fh))
    assert layers and all(row["Target"] == "NPU" for row in layers)

    figs = by_metric(out.figures)
    assert {"latency_mean_ms", "inferences_per_s", "npu_cycles", "sram_used_kib", "dram_used_kib",
            "npu_op_share", "cpu_ops"} == set(figs)
    assert all(f.method == "tool-estimate" and f.tool == "vela" and f.tool_version == VELA_VERSION
               for f in out.figures)
    summary = next(csv.DictReader(open(art.files["vela_summary_csv"])))
    # The figures are Vela's own numbers, unit-converted only.
    assert figs["latency_mean_ms"].value == pytest.approx(float(summary["inference_time"]) * 1000)
    assert figs["npu_cycles"].value == int(summary["cycles_total"])
    assert figs["latency_mean_ms"].value == pytest.approx(figs["npu_cycles"].value / 1e9 * 1000)
    assert 0 < figs["sram_used_kib"].value <= 384
    assert figs["npu_op_share"].value == 1.0 and figs["cpu_ops"].value == 0
    assert figs["latency_mean_ms"].extra["memory_mode"] == "iMX93_Dedicated_Sram_384KB"
    assert figs["latency_mean_ms"].extra["npu_clock_mhz"] == 1000
    top = figs["npu_cycles"].extra["top_layers"]
    assert top and top[0]["cycles"] >= top[-1]["cycles"] > 0


def test_cpu_fallback_is_reported_by_name(tiny_models, make_ctx):
    out = VelaCompiler().compile(make_ctx(tiny_models["tiny_int8_float_out"]))
    figs = by_metric(out.figures)
    assert figs["cpu_ops"].value == 1
    (op,) = figs["cpu_ops"].extra["ops"]
    assert op["op"] == "DEQUANTIZE" and op["reason"]
    assert 0 < figs["npu_op_share"].value < 1
    assert figs["latency_mean_ms"].extra["excludes"] == "operators on the CPU"
    assert out.artifact.meta["cpu_op_names"] == ["DEQUANTIZE"]


def test_imx93_config_equals_nxps_figures(tiny_models, make_ctx):
    """The ini claims NXP's i.MX 93 figures equal Arm's Ethos_U65_High_End + Dedicated_Sram_384KB."""
    ours = by_metric(VelaCompiler().compile(make_ctx(tiny_models["tiny_int8"], stage_id="a")).figures)
    arm = by_metric(VelaCompiler().compile(make_ctx(
        tiny_models["tiny_int8"], stage_id="b",
        options={"system_config": "Ethos_U65_High_End", "memory_mode": "Dedicated_Sram_384KB"})).figures)
    assert ours["npu_cycles"].value == arm["npu_cycles"].value
    assert arm["npu_cycles"].extra["system_config"] == "Ethos_U65_High_End"


def test_other_config_and_memory_mode_change_the_estimate(tiny_models, make_ctx):
    fast = by_metric(VelaCompiler().compile(make_ctx(tiny_models["tiny_int8"], stage_id="a")).figures)
    slow = by_metric(VelaCompiler().compile(make_ctx(
        tiny_models["tiny_int8"], stage_id="b",
        options={"system_config": "iMX93_Mainline_800MHz", "memory_mode": "iMX93_Dedicated_Sram_96KB"})).figures)
    assert slow["latency_mean_ms"].extra["npu_clock_mhz"] == 800
    assert slow["latency_mean_ms"].value > fast["latency_mean_ms"].value


def test_unknown_system_config_is_a_usage_error(tiny_models, make_ctx):
    with pytest.raises(UsageError, match="Vela rejected its options.*NoSuchConfig"):
        VelaCompiler().compile(make_ctx(tiny_models["tiny_int8"], options={"system_config": "NoSuchConfig"}))


def test_ini_holds_the_default_sections():
    ini = configparser.ConfigParser()
    ini.read(IMX93_VELA_INI)
    assert f"System_Config.{DEFAULTS['system_config']}" in ini
    assert f"Memory_Mode.{DEFAULTS['memory_mode']}" in ini
    assert float(ini[f"System_Config.{DEFAULTS['system_config']}"]["core_clock"]) == 1e9
    assert int(ini[f"Memory_Mode.{DEFAULTS['memory_mode']}"]["arena_cache_size"]) == 384 * 1024
