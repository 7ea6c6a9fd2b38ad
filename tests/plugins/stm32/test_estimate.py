"""The open estimate (compiler ``stm32_footprint``) on a tiny int8 model, with the real TFLM.

The tiny model (tests/plugins/nxp_imx/tiny_models.py) has 3x3x3x8 + 3x3x8 + 8x16 + 16x10 = 576
int8 weights. The converter writes int32 biases for the three convolutions (the dense layer's zero
bias is dropped) and stores the two identical 8-element zero biases once: 16x4 + 8x4 bytes, plus
the two int32 axes of the MEAN (global average pooling): 576 + 96 + 8 = 680 bytes in flash.
"""

from __future__ import annotations

import pytest
from zoo_bench_stm32 import footprint_model
from zoo_bench_stm32.estimate import Stm32FootprintEstimator, tflite_weight_bytes
from zoo_bench_stm32.tflm_arena import measure, parse_allocations

pytest.importorskip("tflite_micro")


def by_metric(figures):
    return {f.metric: f for f in figures}


def test_flatbuffer_weights(tiny_models):
    weights = tflite_weight_bytes(tiny_models["tiny_int8_float_out"])
    assert weights == 576 + 16 * 4 + 8 * 4 + 2 * 4  # a buffer shared by two tensors counts once


def test_tflm_arena_in_a_child_process(tiny_models):
    arena = measure(tiny_models["tiny_int8_float_out"])
    # at the 1x1 conv the 32x32x8 depthwise output and its 32x32x16 output are alive together
    assert 32 * 32 * (8 + 16) <= arena["head"] < 2 * 32 * 32 * (8 + 16)
    assert arena["total"] == arena["head"] + arena["tail"]


def test_allocation_lines_parse_and_missing_ones_fail():
    text = ("[RecordingMicroAllocator] Arena allocation total 10016 bytes\n"
            "[RecordingMicroAllocator] Arena allocation head 7744 bytes\n"
            "[RecordingMicroAllocator] Arena allocation tail 2272 bytes\n")  # tflite-micro README's example
    assert parse_allocations(text) == {"total": 10016, "head": 7744, "tail": 2272}
    with pytest.raises(ValueError, match="no 'Arena allocation"):
        parse_allocations("TFLM failed to allocate tensors")


def test_a_model_tflm_cannot_load_fails_with_tflms_words(tmp_path):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a flatbuffer" * 10)
    with pytest.raises(RuntimeError, match="TFLM arena measurement failed"):
        measure(bad)


def test_h7_rows(tiny_models, make_ctx, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no stedgeai
    monkeypatch.delenv("STEDGEAI", raising=False)
    est = Stm32FootprintEstimator()
    assert est.unavailable_reason(None, {}) is None
    out = est.compile(make_ctx(tiny_models["tiny_int8_float_out"]))
    figs = by_metric(out.figures)
    assert all(f.method == "model-estimate" for f in out.figures)
    assert figs["activation_ram_kib"].tool == "tflm-planner"
    assert figs["weights_flash_kib"].tool == "tflite-flatbuffer"
    # runtime RAM and code flash: the estimator fitted on ST's README points (LOMO-judged), not the 7-point fit
    runtime = {k: figs[k].value for k in ("runtime_ram_kib", "code_flash_kib")}
    assert figs["runtime_ram_kib"].tool == "zoo-bench-estimate:stm32_estimate"
    assert len(figs["code_flash_kib"].extra["fitted_on"]) >= 16 and figs["code_flash_kib"].extra["interval"]
    assert figs["total_ram_kib"].value == pytest.approx(figs["activation_ram_kib"].value + runtime["runtime_ram_kib"])
    assert figs["total_flash_kib"].value == pytest.approx(figs["weights_flash_kib"].value + runtime["code_flash_kib"])
    assert figs["fits_internal_ram"].value == 1.0 and figs["fits_internal_flash"].value == 1.0
    assert figs["fits_internal_ram"].extra["verdict"] == "fits internal"


def test_n6_rows_place_activations_in_the_pools(tiny_models, make_ctx):
    out = Stm32FootprintEstimator().compile(make_ctx(tiny_models["tiny_int8_float_out"], target="stm32n6"))
    figs = by_metric(out.figures)
    # whole buffers placed into the N6 pools (cpuRAM2 first): a tiny model stays in cpuRAM2
    assert figs["internal_ram_kib"].tool == "zoo-bench-buffer-placement"
    assert figs["internal_ram_kib"].extra["pools_kib"]["npuRAM3-npuRAM6"] == 0.0
    assert 0 < figs["internal_ram_kib"].value == figs["internal_ram_kib"].extra["pools_kib"]["cpuRAM2"]
    assert figs["external_ram_kib"].value == 0.0
    assert "runtime_ram_kib" not in figs  # ST publishes no N6 runtime footprint to estimate it from
    assert figs["fits_internal_flash"].value == 0.0 and figs["fits_with_external_flash"].value == 1.0


def test_footprint_model_rests_on_the_published_points():
    a, b = footprint_model.coefficients()["code_flash_kib"]
    assert b > 0  # more weights, more code
    # within the published points' range the fit stays within 30 % of each point
    import json
    for p in json.loads(footprint_model.DATA.read_text())["points"]:
        est = footprint_model.estimate(p["weights_flash_kib"])
        assert est["code_flash_kib"] == pytest.approx(p["code_flash_kib"], rel=0.3)
