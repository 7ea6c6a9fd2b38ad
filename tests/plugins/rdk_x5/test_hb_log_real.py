"""The hb_mapper log parser on REAL logs written here by hb_mapper 1.24.3 (data/real/README.md says
how each was made), beside the public D-Robotics logs of test_hb_log.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from zoo_bench_rdk_x5.hb_log import HbMapperLogError, error_line, parse_hb_mapper_log

REAL = Path(__file__).resolve().parent / "data" / "real"


def _log(name: str) -> str:
    return (REAL / name).read_text()


def test_real_makertbin_log_of_a_tiny_model():
    report = parse_hb_mapper_log(_log("makertbin_tiny_ok.log"), require_similarity=True)
    assert report.versions == {"hbdk": "3.49.15", "horizon_nn": "1.1.0", "hb_mapper": "1.24.3"}
    (perf,) = report.perf
    assert (perf.fps, perf.latency_us, perf.ddr_bytes, perf.subgraph) == (167728.95, 6.0, 2432, "tiny_subgraph_0")
    assert [n.name for n in report.nodes][:2] == ["HZ_PREPROCESS_FOR_input", "Conv_0"]
    assert [(n.name, n.type) for n in report.cpu_nodes] == [("Gemm_4_transpose_output_reshape", "Reshape")]
    assert report.nodes[1].cosine == pytest.approx(0.999955)
    (out,) = report.outputs
    assert (out.name, out.cosine) == ("logits", pytest.approx(0.999983))
    assert report.succeeded


def test_real_makertbin_log_of_mobileone_s0():
    report = parse_hb_mapper_log(_log("makertbin_mobileone_s0.log"), require_similarity=True)
    (perf,) = report.perf
    assert (perf.fps, perf.latency_us, perf.ddr_bytes) == (2390.7, 418.3, 2202432)
    assert [n.name for n in report.cpu_nodes] == ["/head/fc/Gemm_transpose_output_reshape"]
    assert report.outputs[0].cosine == pytest.approx(0.999617)
    assert len(report.nodes) == 47 and report.succeeded


def test_real_checker_log_has_the_placement_without_similarities():
    report = parse_hb_mapper_log(_log("checker_tiny_ok.log"))
    assert [n.on for n in report.nodes] == ["BPU", "BPU", "BPU", "CPU"]
    assert all(n.cosine is None for n in report.nodes)
    # the checker compiles too and prints hbdk-perf's line for its own trial build
    assert [(p.latency_us, p.subgraph) for p in report.perf] == [(18.7, "./.hb_check/tiny_subgraph_0")]


@pytest.mark.parametrize(("name", "expected"), [
    ("checker_opset17_rejected.log", "The opset version of the model is 17, the maximum supported version is 11."),
    ("makertbin_dynamic_shape_rejected.log", "The input_shape [0, 3, 32, 32] of the model is a dynamic shape."),
])
def test_the_toolchains_own_error_line_of_a_rejected_model(name, expected):
    text = _log(name)
    line = error_line(text)
    assert expected in line
    assert not line.startswith("2026-")  # the timestamp prefix is dropped
    with pytest.raises(HbMapperLogError):
        parse_hb_mapper_log(text)
