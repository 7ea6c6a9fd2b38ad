"""hb_mapper's node table as per-layer rows (zoo_bench.layers): placement and cosine similarity per node.

Driven through the same stand-in hb_mapper as test_hb_mapper.py (it prints D-Robotics' public reference
log, see test_hb_log.py): the real hb_mapper cannot run here (CPython 3.10 only, docs/rdk_x5.md)."""

from __future__ import annotations

import sys

from zoo_bench.layers import clean_layers
from zoo_bench_rdk_x5 import toolchain
from zoo_bench_rdk_x5.hb_mapper import HbMapperCompiler

from .test_hb_mapper import FAKE, project  # noqa: F401 (fixture)


def test_makertbin_nodes_become_layer_rows(project, make_ctx, monkeypatch, tmp_path):  # noqa: F811
    bin_dir = tmp_path / "toolchain-bin"
    bin_dir.mkdir()
    exe = bin_dir / "hb_mapper"
    exe.write_text(f"#!{sys.executable}\n" + FAKE.read_text().replace(
        "Path(__file__).resolve().parent / \"data\"", f"Path({str(FAKE.parent / 'data')!r})"))
    exe.chmod(0o755)
    monkeypatch.delenv(toolchain.HORIZON_PYTHON_ENV, raising=False)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    out = HbMapperCompiler().compile(make_ctx(project, stage_id="compile:hb_mapper"))
    layers = clean_layers(out.layers)
    assert len(layers) == 12  # the reference log's node table
    assert layers[0]["name"] == "HZ_PREPROCESS_FOR_images" and layers[0]["placement"] == "BPU"
    assert layers[0]["cosine"] == 0.999957 and layers[0]["op"] == "HzSQuantizedPreprocess"
    assert [r["name"] for r in layers if r["placement"] == "CPU"] == ["/model.10/linear/Gemm_transpose_output_reshape"]
    assert layers[5]["cosine"] is None  # "--" in the log: no figure, not zero
