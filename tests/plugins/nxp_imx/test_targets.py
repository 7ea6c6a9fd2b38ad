"""The i.MX targets' stage graphs, registration, import cost and docs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import zoo_bench_nxp_imx
from zoo_bench import ModelSpec
from zoo_bench.plan import Planner
from zoo_bench.plugins import load_registry
from zoo_bench_nxp_imx.targets import imx_targets

ROOT = Path(__file__).resolve().parents[3]
TARGETS = {t.id: t for t in imx_targets()}


def spec(fmt: str) -> ModelSpec:
    return ModelSpec(name="m", source="src", family="m", resolution=224, native_format=fmt)


def stages(target: str, fmt: str) -> dict[str, dict]:
    p = Planner(spec(fmt), TARGETS[target])
    TARGETS[target].plan(spec(fmt), p)
    return {s.id: {"component": s.component, "inputs": s.inputs, **s.options_dict()} for s in p.ordered()}


def test_imx93_keras_chain_follows_nxps_recipe():
    s = stages("imx93", "keras")
    assert s["quantize:tflite_int8"]["input_type"] == "int8" and s["quantize:tflite_int8"]["output_type"] == "int8"
    assert s["compile:vela"]["inputs"] == ("quantize:tflite_int8",)
    assert s["run:imx_board:npu"]["inputs"] == ("compile:vela",) and s["run:imx_board:npu"]["delegate"] == "ethosu"
    cpu = {k: v["threads"] for k, v in s.items() if k.startswith("run:imx_board:cpu")}
    assert cpu == {"run:imx_board:cpu-1t": 1, "run:imx_board:cpu-2t": 2}
    assert all(s[k]["inputs"] == ("quantize:tflite_int8",) and s[k]["delegate"] == "none" for k in cpu)
    assert s["evaluate:accuracy"]["inputs"] == ("export:tflite", "quantize:tflite_int8")
    assert s["evaluate:accuracy"]["runner"] == "litert"


def test_imx8mp_has_no_compiler_and_uses_the_vx_delegate():
    s = stages("imx8mp", "torch")
    assert not any(k.startswith("compile") for k in s)
    assert s["run:imx_board:npu"]["inputs"] == ("quantize:tflite_int8",) and s["run:imx_board:npu"]["delegate"] == "vx"
    assert sorted(v["threads"] for k, v in s.items() if k.startswith("run:imx_board:cpu")) == [1, 2, 4]
    assert s["evaluate:accuracy"]["inputs"] == ("quantize:tflite_int8",)  # torch: no float .tflite


def test_tflite_file_skips_quantization_and_onnx_is_quantized_to_tflite():
    s = stages("imx93", "tflite")
    assert not any(k.startswith(("quantize", "evaluate")) for k in s)
    assert s["compile:vela"]["inputs"] == ("source",)
    assert TARGETS["imx93"].supports(spec("onnx")) is None  # ONNX -> TFLite (onnx2torch + litert-torch)
    assert "not caffe" in TARGETS["imx93"].supports(spec("caffe"))


def test_plugin_registers_its_components():
    reg = load_registry(extra_plugins=[("nxp_test", zoo_bench_nxp_imx)], entry_points=False)
    assert not reg.errors
    assert {"imx93", "imx8mp"} <= set(reg.targets)
    assert reg.component("compile", "vela").accepts == ("tflite",)
    assert "vela-tflite" in reg.component("run", "imx_board").accepts
    imx93 = dict(reg.targets["imx93"].defaults)
    assert imx93["system_config"] == "iMX93" and Path(imx93["boards"]).is_absolute()


def test_importing_the_plugin_loads_no_heavy_framework():
    code = ("import sys, zoo_bench_nxp_imx; "
            "print(sorted(m for m in ('tensorflow', 'torch', 'ethosu', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stderr


@pytest.mark.parametrize("doc", ["nxp_imx.md"])
def test_every_metric_the_plugin_emits_is_in_its_doc(doc):
    pattern = re.compile(r"""\b(?:Figure|fig)\(\s*["']([a-z0-9_]+)["']""")
    emitted = {m for p in (ROOT / "plugins" / "nxp_imx").glob("*.py") for m in pattern.findall(p.read_text())}
    emitted |= {"latency_p50_ms", "latency_p90_ms", "latency_p99_ms", "init_ms"}  # latency_figures() and a loop
    text = (ROOT / "docs" / doc).read_text()
    assert emitted and not [m for m in emitted if f"`{m}`" not in text]
