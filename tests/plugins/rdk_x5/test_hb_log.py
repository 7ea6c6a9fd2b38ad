"""hb_mapper log parsing (plugins/rdk_x5/hb_log.py) and the rows made from it.

Fixtures (data/): ``hb_mapper_makertbin_yolo11n_cls.log`` is an excerpt, lines verbatim, of D-Robotics'
public reference log rdk_model_zoo samples/vision/ultralytics_yolo/source/reference_logs/
hb_mapper_log_yolo11n_cls.txt (commit 5a919059); ``hb_mapper_checker_repvgg.log`` holds the checker table
rows printed in the zoo's guide samples/vision/classification/Model quantization deployment.md. The real
hb_mapper cannot run here (CPython 3.10 only, see docs/rdk_x5.md)."""

from __future__ import annotations

import pytest
from zoo_bench_rdk_x5 import hb_config
from zoo_bench_rdk_x5.hb_log import HbMapperLogError, parse_hb_mapper_log
from zoo_bench_rdk_x5.hb_mapper import makertbin_figures

from .conftest import DATA, TINY_SPEC

MAKERTBIN = (DATA / "hb_mapper_makertbin_yolo11n_cls.log").read_text()
CHECKER = (DATA / "hb_mapper_checker_repvgg.log").read_text()


def test_makertbin_log_versions_perf_nodes_and_outputs():
    report = parse_hb_mapper_log(MAKERTBIN, require_similarity=True)
    assert report.versions == {"hbdk": "3.49.15", "horizon_nn": "1.1.0", "hb_mapper": "1.24.3"}
    assert report.succeeded
    (perf,) = report.perf
    assert (perf.fps, perf.latency_us, perf.ddr_bytes, perf.subgraph) == (1223.18, 817.5, 2857024,
                                                                          "main_graph_subgraph_0")
    assert len(report.nodes) == 12
    first = report.nodes[0]
    assert (first.name, first.on, first.subgraph, first.type, first.cosine, first.data_type) == \
        ("HZ_PREPROCESS_FOR_images", "BPU", "id(0)", "HzSQuantizedPreprocess", 0.999957, "int8")
    requantize = report.nodes[5]
    assert requantize.type == "HzRequantize" and requantize.cosine is None  # "--" in the log
    assert [n.name for n in report.cpu_nodes] == ["/model.10/linear/Gemm_transpose_output_reshape"]
    assert report.bpu_op_share == pytest.approx(11 / 12)
    assert report.worst_nodes(1)[0].name == "/model.9/m/m.0/ffn/ffn.1/conv/Conv"
    (out,) = report.outputs
    assert (out.name, out.cosine, out.l1, out.l2, out.chebyshev) == ("output0", 0.952623, 0.723058, 0.029104,
                                                                     3.705106)


def test_checker_table_of_the_older_layout():
    report = parse_hb_mapper_log(CHECKER)
    assert [(n.name, n.on, n.type, n.data_type, n.cosine) for n in report.nodes] == [
        ("/stage0/rbr_reparam/Conv", "BPU", "HzSQuantizedConv", "int8/int8", None),
        ("/linear/Gemm_reshape_output", "CPU", "Reshape", "float/float", None),
    ]
    assert report.bpu_op_share == 0.5 and report.versions["hb_mapper"] == "1.24.3"


def test_figures_are_the_tools_own_numbers_as_tool_estimates():
    report = parse_hb_mapper_log(MAKERTBIN, require_similarity=True)
    settings = hb_config.settings_for(TINY_SPEC, "./tiny.onnx")
    figs = {f.metric: f for f in makertbin_figures(report, None, report.versions, settings)}
    assert set(figs) == {"latency_mean_ms", "inferences_per_s", "bpu_ddr_bytes", "bpu_op_share", "cpu_ops",
                         "output_cosine_similarity", "node_cosine_similarity_min"}
    assert all(f.method == "tool-estimate" and f.tool == "hb_mapper" and f.tool_version == "1.24.3"
               for f in figs.values())
    assert figs["latency_mean_ms"].value == pytest.approx(0.8175)
    assert figs["latency_mean_ms"].extra["excludes"] == "nodes on the CPU"
    assert figs["inferences_per_s"].value == 1223.18
    assert figs["bpu_ddr_bytes"].value == 2857024
    assert figs["cpu_ops"].value == 1
    assert figs["cpu_ops"].extra["ops"] == [{"op": "/model.10/linear/Gemm_transpose_output_reshape",
                                             "type": "Reshape"}]
    assert figs["output_cosine_similarity"].value == 0.952623
    assert figs["node_cosine_similarity_min"].value == 0.823209
    assert figs["bpu_op_share"].extra["hbdk"] == "3.49.15"


@pytest.mark.parametrize("text, message", [
    ("", "no node placement table"),
    ("2025-07-24 00:25:24,580 file: hb_mapper.py hb_mapper version 1.24.3\nall fine\n", "in this hb_mapper log"),
    ("Node   ON   Subgraph  Type\n/conv  GPU  id(0)  Conv\n", "ON must be BPU or CPU"),
])
def test_logs_it_does_not_understand_are_rejected(text, message):
    with pytest.raises(HbMapperLogError, match=message):
        parse_hb_mapper_log(text)


def test_makertbin_log_without_similarity_table_is_rejected():
    with pytest.raises(HbMapperLogError, match="output similarity"):
        parse_hb_mapper_log(CHECKER, require_similarity=True)
