"""Vela's per-layer CSV as per-layer rows (zoo_bench.layers): a real Vela compile of the tiny models."""

from __future__ import annotations

import csv

import pytest
from zoo_bench.layers import clean_layers
from zoo_bench_nxp_imx.vela import VelaCompiler

pytest.importorskip("ethosu.vela", reason="Vela is not installed (zoo-bench[nxp])")


def test_every_row_of_velas_per_layer_csv_becomes_a_layer_row(tiny_models, make_ctx):
    out = VelaCompiler().compile(make_ctx(tiny_models["tiny_int8"]))
    with open(out.artifact.files["vela_per_layer_csv"]) as fh:
        csv_rows = list(csv.DictReader(fh))
    layers = clean_layers(out.layers)
    assert len(layers) == len(csv_rows) > 0
    assert {r["placement"] for r in layers} == {"NPU"}
    cycles = sum(r["cycles"] for r in layers)
    npu = next(f for f in out.figures if f.metric == "npu_cycles")
    # Vela's own numbers: per-layer op cycles add up to at most the network's total (it adds memory stalls)
    assert 0 < cycles <= npu.value
    timed = [r for r in layers if r["cycles"]]
    assert all(r["time_ms"] == pytest.approx(r["cycles"] / 1e9 * 1000) for r in timed)  # 1 GHz core clock
    assert all(0 <= r["time_share"] <= 1 for r in layers if r["time_share"] is not None)
    assert any(r["memory_bytes"] for r in layers) and layers[0]["memory_kind"] == "staging SRAM (Vela)"


def test_an_operator_left_on_the_cpu_is_a_cpu_layer(tiny_models, make_ctx):
    out = VelaCompiler().compile(make_ctx(tiny_models["tiny_int8_float_out"]))
    cpu = [r for r in clean_layers(out.layers) if r["placement"] == "CPU"]
    assert [r["op"] for r in cpu] == ["Dequantize"] or [r["op"].upper() for r in cpu] == ["DEQUANTIZE"]
