"""End to end with the REAL Horizon toolchain: `zoo-bench run -t rdk_x5` on a tiny model compiles it
with hb_mapper 1.24.3 and records hbdk-perf's figures and the estimate; a model hb_mapper rejects is a
failed compile with the toolchain's own error line and its log kept.

Runs where the toolchain is installed (`zoo-bench toolchain install horizon`, which CI does when a
CPython 3.10 exists) or named by $ZOO_BENCH_HORIZON_PYTHON; skipped otherwise, saying so.
About 30-60 s per compile on two cores.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
from zoo_bench import toolchains
from zoo_bench.testing import PluginTester

# Read at import, before the plugin tests' fixture points zoo-bench's data folder at an empty one.
HORIZON = os.environ.get("ZOO_BENCH_HORIZON_PYTHON") or (str(toolchains.installed_python("horizon") or "") or None)
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(HORIZON is None, reason="the Horizon toolchain is not installed: run `zoo-bench toolchain "
                                               "install horizon` (needs a CPython 3.10) or set "
                                               "$ZOO_BENCH_HORIZON_PYTHON"),
]
MAKE = Path(__file__).resolve().parent / "data" / "real" / "make_tiny_onnx.py"


def _tiny(tmp_path: Path, name: str, **kwargs) -> Path:
    import onnx

    spec = importlib.util.spec_from_file_location("make_tiny_onnx", MAKE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = tmp_path / f"{name}.onnx"
    onnx.save(module.tiny(**kwargs), str(path))
    return path


def _dataset(root: Path) -> Path:
    """Four classes of two real photos each (scikit-image's samples, one flipped)."""
    data = pytest.importorskip("skimage.data")
    from PIL import Image

    for i, name in enumerate(("chelsea", "coffee", "astronaut", "rocket")):
        folder = root / f"class{i}"
        folder.mkdir(parents=True)
        image = getattr(data, name)()
        Image.fromarray(image).save(folder / f"{name}.png")
        Image.fromarray(image[::-1]).save(folder / f"{name}_flipped.png")
    return root


def test_a_tiny_model_compiles_with_hb_mapper_and_gets_tool_and_model_estimates(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_BENCH_HORIZON_PYTHON", HORIZON)  # found by default, as after `toolchain install`
    model = _tiny(tmp_path, "tiny32", opset=17)  # opset 17 on purpose: the flow hands hb_mapper opset 11
    tester = PluginTester(tmp_path)
    result = tester.run(str(model), "rdk_x5", "--preprocess", "imagenet", "-s", "calibration_images=4",
                        "--dataset", str(_dataset(tmp_path / "images")), timeout=900)
    assert result.returncode == 0, result.stderr
    rows = [r for r in result.rows if r["status"] == "ok"]
    compile_rows = {r["metric"]: r for r in rows if r["stage"] == "compile:hb_mapper"}
    for metric in ("latency_mean_ms", "inferences_per_s", "bpu_ddr_bytes", "bpu_op_share", "cpu_ops",
                   "output_cosine_similarity", "node_cosine_similarity_min"):
        row = compile_rows[metric]
        assert (row["method"], row["tool"], row["tool_version"]) == ("tool-estimate", "hb_mapper", "1.24.3"), metric
    assert 0 < compile_rows["latency_mean_ms"]["value"] < 1.0  # a tiny model: microseconds on the BPU
    assert compile_rows["model_size_kib"]["method"] == "measured-host"
    (estimate,) = [r for r in rows if r["stage"] == "run:rdk_estimate:estimate" and r["metric"] == "latency_mean_ms"]
    assert estimate["method"] == "model-estimate"
    assert estimate["value"] > compile_rows["latency_mean_ms"]["value"]
    # int8 accuracy from the toolchain's quantized model under HB_ONNXRuntime (NV12 -> YUV444 input)
    accuracy = {r["metric"]: r for r in rows if r["stage"] == "evaluate:accuracy"}
    assert {"top1_float", "top1_int8", "int8_agreement"} <= set(accuracy)
    assert accuracy["top1_int8"]["tool"] == "rdk_hb_onnxruntime" and accuracy["top1_int8"]["tool_version"] == "1.24.3"
    assert "HB_ONNXRuntime" in str(accuracy["top1_int8"].get("extra"))


def test_a_model_hb_mapper_rejects_is_a_failed_compile_with_its_error_line(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_BENCH_HORIZON_PYTHON", HORIZON)
    model = _tiny(tmp_path, "tinydyn", opset=11, dynamic=True)
    tester = PluginTester(tmp_path)
    result = tester.run(str(model), "rdk_x5", "--preprocess", "imagenet", "-s", "calibration_images=4",
                        timeout=900)
    (row,) = [r for r in result.rows if r["stage"] == "compile:hb_mapper"]
    assert row["status"].startswith("failed")
    reason = row.get("reason") or row["status"]
    # the checker (run first) refuses it, in its own words
    assert "hb_mapper checker exited with status 255" in reason
    assert "is invalid as there exist missing or dynamic dimension" in reason, reason
    assert "\x1b[" not in reason
    # nothing of the failed compile reached the cache: a re-run compiles again (and fails the same way)
    assert not any(p.name.endswith(".bin") for p in (tmp_path / "cache").rglob("*.bin"))
