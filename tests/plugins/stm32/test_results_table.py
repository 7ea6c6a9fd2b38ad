"""The STM32 results table: summary from a results store, Markdown beside ST's card figures,
and docs/stm32.md kept equal to what the committed summary renders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from zoo_bench.records import Record
from zoo_bench.store import ResultsStore
from zoo_bench_stm32 import results_table
from zoo_bench_stm32.estimate import estimate_figures

from .conftest import TARGETS

ROOT = Path(__file__).resolve().parents[3]
KIB = 1024


def _rows(model: str, target: str, weights_kib: float, act_kib: float, classes: int = 1000) -> list[Record]:
    figs = estimate_figures(TARGETS[target], int(weights_kib * KIB), int(act_kib * KIB), ("tflite-flatbuffer", "2"),
                            ("tflm-planner", "1"))
    common = dict(model=model, target=target, classes=classes, job_id=f"{model}@{target}",
                  stage="compile:stm32_footprint", stage_kind="compile", status="ok")
    return [Record(metric=f.metric, value=f.value, unit=f.unit, method=f.method, tool=f.tool,
                   tool_version=f.tool_version, extra=f.extra, **common) for f in figs]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    store = ResultsStore(tmp_path / "results")
    run = store.new_run({"models": ["resnet50_v2_224", "mobilenet_v2_0.35_224", "broken"]})
    store.write_job(run, "resnet50_v2_224@stm32h7", _rows("resnet50_v2_224", "stm32h7", 25000.0, 2400.0))
    store.write_job(run, "mobilenet_v2_0.35_224@stm32h7", _rows("mobilenet_v2_0.35_224", "stm32h7", 1600.0, 735.0))
    store.write_job(run, "broken@stm32n6", [
        Record(model="broken", target="stm32n6", classes=1000, stage="quantize:onnx_qdq", stage_kind="quantize",
               metric="stage_seconds", value=3.0, status="failed", reason="onnxruntime: | bad graph")])
    return store.root


def test_summary_keeps_footprints_verdicts_and_failures(store: Path):
    summary = results_table.summarize(store)
    by = {(r["model"], r["metric"]): r for r in summary}
    assert by[("resnet50_v2_224", "activation_ram_kib")]["value"] == pytest.approx(2400.0)
    assert by[("resnet50_v2_224", "fits_internal_ram")]["verdict"] == "needs external"
    assert by[("broken", "failed")]["reason"] == "onnxruntime: | bad graph"
    assert {r["target"] for r in summary} == {"stm32h7", "stm32n6"}


def test_table_sets_st_figures_beside_ours_with_the_error(store: Path):
    tables = results_table.render(results_table.summarize(store), results_table.card_figures())
    resnet = next(line for line in tables.splitlines() if line.startswith("| resnet50_v2_224 |"))
    # ResNet50 v2 card, ImageNet (1000 classes): 2142.07 KiB activations, 25042.47 KiB weights
    assert f"2,400.0 (ST 2,142.1, {100 * (2400 / 2142.07 - 1):+.1f} %)" in resnet
    assert f"25,000.0 (ST 25,042.5, {100 * (25000 / 25042.47 - 1):+.1f} %)" in resnet
    assert "needs external" in resnet
    mbv2 = next(line for line in tables.splitlines() if line.startswith("| mobilenet_v2_0.35_224 |"))
    # the MobileNet v2 0.35 card is for 5 classes: weights shown, not compared; activations compared
    assert "1,600.0 (ST 406.9 at 5 cl.)" in mbv2
    assert f"735.0 (ST 686.5 at 5 cl., {100 * (735 / 686.5 - 1):+.1f} %)" in mbv2
    assert "the card's model has N classes" in tables
    broken = next(line for line in tables.splitlines() if line.startswith("| broken |"))
    assert "quantize:onnx_qdq failed: onnxruntime: / bad graph" in broken  # a pipe would break the table


def test_update_doc_replaces_the_marked_block(tmp_path: Path):
    doc = tmp_path / "doc.md"
    doc.write_text(f"intro\n{results_table.BEGIN}\nold\n{results_table.END}\nafter\n")
    results_table.update_doc(doc, "| new |\n")
    assert doc.read_text() == f"intro\n{results_table.BEGIN}\n| new |\n{results_table.END}\nafter\n"
    doc.write_text("no markers")
    with pytest.raises(SystemExit, match="markers"):
        results_table.update_doc(doc, "x")



def test_docs_table_is_what_the_committed_summary_renders():
    summary = json.loads((ROOT / "docs" / "stm32_results.json").read_text())
    text = (ROOT / "docs" / "stm32.md").read_text()
    block = text[text.index(results_table.BEGIN) + len(results_table.BEGIN):text.index(results_table.END)]
    assert block.strip() == results_table.render(summary, results_table.card_figures()).strip()
