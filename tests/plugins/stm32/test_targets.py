"""The STM32 targets: their plans, memory maps and fit verdicts."""

from __future__ import annotations

import json
import os

import pytest
from zoo_bench import ModelSpec
from zoo_bench.plan import Planner
from zoo_bench_stm32.memory import H7_REGIONS, N6_REGIONS, fit, place_in_pools

from tests.conftest import run_cli

from .conftest import TARGETS


def stages(target: str, native_format: str, **run_options) -> dict:
    model = ModelSpec(name="m", source="src", family="m", resolution=32, native_format=native_format)
    p = Planner(model, TARGETS[target], run_options)
    TARGETS[target].plan(model, p)
    return {s.id: s for s in p.ordered()}


def test_mcu_plan_quantizes_like_st_cards():
    s = stages("stm32h7", "keras")
    q = s["quantize:tflite_int8"].options_dict()
    assert (q["input_type"], q["output_type"]) == ("uint8", "float32")
    for compiled in ("compile:stedgeai", "compile:stm32_footprint"):
        assert s[compiled].inputs == ("quantize:tflite_int8",)
    assert s["run:stm32_validate:board"].inputs == ("quantize:tflite_int8",)
    ev = stages("stm32h7", "keras", dataset="/data")["evaluate:accuracy"]
    assert ev.inputs == ("export:tflite", "quantize:tflite_int8") and ev.options_dict()["runner"] == "litert_ref"


@pytest.mark.parametrize("target", ["stm32h7", "stm32n6", "stm32mp1"])
def test_float_tflite_is_exported_only_when_a_dataset_will_use_it(target):
    """Without --dataset the float .tflite (only the accuracy stage reads it) is not planned."""
    s = stages(target, "keras")
    assert "export:tflite" not in s
    assert s["evaluate:accuracy"].inputs == ("quantize:tflite_int8",)
    assert "export:tflite" in stages(target, "keras", dataset="/data")


def test_dry_run_without_dataset_plans_no_float_export(tmp_path):
    env = dict(os.environ)
    env.pop("ZOO_BENCH_PLUGINS", None)
    args = ["run", "-m", "mobilenet_v2_0.35_128", "-t", "stm32h7", "-o", str(tmp_path / "o"), "--dry-run", "--json"]
    without = run_cli(args, env=env)
    with_data = run_cli([*args, "--dataset", str(tmp_path)], env=env)
    assert without.returncode == 0 and with_data.returncode == 0, without.stderr + with_data.stderr
    ids = [[s["id"] for s in json.loads(proc.stdout)[0]["stages"]] for proc in (without, with_data)]
    assert "export:tflite" not in ids[0] and "evaluate:accuracy" in ids[0]
    assert "export:tflite" in ids[1]


def test_n6_takes_qdq_onnx_where_the_source_exports_onnx():
    s = stages("stm32n6", "torch")
    assert s["quantize:onnx_qdq"].inputs == ("export:onnx",)
    assert s["quantize:onnx_qdq"].options_dict()["activation_type"] == "int8"
    assert s["compile:stedgeai"].inputs == ("quantize:onnx_qdq",)
    assert s["evaluate:accuracy"].options_dict()["runner"] == "onnxruntime"
    assert "quantize:tflite_int8" in stages("stm32n6", "keras")  # the Keras source exports no ONNX
    assert "quantize:tflite_int8" in stages("stm32n6_tflite", "torch")


def test_mpu_plans_time_cpu_and_npu_on_the_board():
    mp2 = stages("stm32mp2", "keras")
    assert mp2["run:stm32mp_board:npu"].options_dict()["delegate"] == "vx"
    assert mp2["run:stm32mp_board:cpu-2t"].options_dict() == {"delegate": "none", "label": "cpu-2t", "threads": 2}
    assert not any(k.startswith("compile:") for k in mp2)
    assert "run:stm32mp_board:npu" not in stages("stm32mp1", "keras")


def test_targets_refuse_what_they_cannot_take():
    model = ModelSpec(name="m", source="s", family="m", resolution=32, native_format="onnx")
    assert TARGETS["stm32h7"].supports(model) is None  # ONNX -> TFLite (onnx2torch + litert-torch)
    assert TARGETS["stm32n6"].supports(model) is None
    other = ModelSpec(name="m", source="s", family="m", resolution=32, native_format="caffe")
    assert TARGETS["stm32h7"].supports(other).startswith("target stm32h7 takes Keras, PyTorch or ONNX")


@pytest.mark.parametrize(("kind", "need", "verdict"), [
    ("ram", 686.5, "fits internal"), ("ram", 2142.07, "needs external"), ("ram", 40000, "does not fit"),
    ("flash", 1700, "fits internal"), ("flash", 25042.47, "needs external")])
def test_h7_verdicts(kind, need, verdict):
    assert fit(H7_REGIONS, kind, need).verdict == verdict


def test_n6_pools_placement():
    assert place_in_pools(N6_REGIONS, 1834.44) == (1834.44, 0.0)
    internal, external = place_in_pools(N6_REGIONS, 9612.0)
    assert internal == 1024 + 4 * 448 and external == pytest.approx(9612.0 - 2816)
    assert fit(N6_REGIONS, "flash", 100).verdict == "needs external"  # no internal flash on the N6


def test_list_targets_json_shows_the_memory_maps():
    env = dict(os.environ)
    env.pop("ZOO_BENCH_PLUGINS", None)
    proc = run_cli(["list", "targets", "--json"], env=env)
    assert proc.returncode == 0, proc.stderr
    targets = {t["id"]: t for t in json.loads(proc.stdout)}
    assert targets["stm32n6"]["memory_kib"]["npuRAM5"] == 448
    assert targets["stm32n6"]["memory_kib"]["internal_ram_total"] == 2816
    assert targets["stm32h7"]["memory_kib"] == {"internal_flash": 2048, "internal_ram": 992, "sdram": 32768,
                                                "qspi_flash": 131072}
    assert targets["stm32mp1"]["clock_mhz"] == 800.0 and targets["stm32h7"]["device_class"] == "MCU"
