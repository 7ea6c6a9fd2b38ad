"""Model cards: the vendor cards' sections and column headers, a method marker on every figure, the vendor's
published figure beside ours, "not measured: <reason>" for what is missing, plugin sections, byte-identical
regeneration. Rows come from real runs of the fake plugin where the harness is what matters, and are made by hand
in the shapes other plugins write (STM32 footprint and fit verdict rows, multi-thread rows, accuracy rows) where a
table's content is what is tested."""

from __future__ import annotations

import random
from dataclasses import asdict
from pathlib import Path

import pytest
from zoo_bench import hookimpl
from zoo_bench.plugins import load_registry
from zoo_bench.records import Record
from zoo_bench.reports.cards import TargetFacts, render_card
from zoo_bench.reports.inputs import plugin_sections

from tests.conftest import run_cli

# Headers of ST's MobileNet v2 card (the seed card 002_8a0e983dbe89c9cb.txt): MCU memory footprint and inference
# time tables; the last, vendor-named version column is ours "Tool version" (see docs/reports.md).
ST_MCU_MEMORY = ("| Model | Format | Resolution | Series | Activation RAM | Runtime RAM | Weights Flash | Code Flash "
                 "| Total RAM | Total Flash | Tool version |")
ST_INFERENCE = ("| Model | Format | Resolution | Board | Execution Engine | Frequency | Inference time (ms) "
                "| Inf / sec |")
ST_NPU_MEMORY = "| Model | Dataset | Format | Resolution | Series | Internal RAM (KiB) | External RAM (KiB) | " \
                "Weights Flash (KiB) |"
MODEL = "mobilenet_v2_0.35_224"


def row(metric: str, value: float | None, target: str = "stm32h7", status: str = "ok", **kw) -> dict:
    base = dict(run_id="r1", model=MODEL, target=target, vendor="v", stage="compile:footprint",
                stage_kind="compile", component="footprint", variant="int8", metric=metric, value=value,
                unit="KiB", status=status, method="model-estimate", tool="tflm-planner", tool_version="0.1",
                resolution=224, classes=5, weights="random")  # ST's card: 5 classes (flowers)
    base.update(kw)
    return asdict(Record(**base))


def stm32_rows() -> list[dict]:
    fit = dict(unit="bool", extra={"verdict": "fits internal", "need_kib": 800.0, "internal_kib": 1024})
    return [
        row("params", 1677128.0, unit="count", stage="source", stage_kind="source", component="keras_applications",
            method="measured-host", tool="keras", tool_version="3.15.1", variant="float32"),
        row("activation_ram_kib", 707.3),
        row("weights_flash_kib", 420.0, method="tool-estimate", tool="stedgeai", tool_version="10.0.0"),
        row("fits_internal_ram", 1.0, **fit),
        row("fits_internal_flash", 1.0, **{**fit, "extra": {**fit["extra"], "verdict": "fits internal"}}),
        row("fits_with_external_ram", 1.0, **fit),
        row("latency_mean_ms", 380.0, unit="ms", stage="run:validate", stage_kind="run", method="measured-board",
            tool="stedgeai", tool_version="10.0.0"),
        row("stage_seconds", None, status="skipped", unit="s", stage="run:mp1_board", stage_kind="run",
            target="stm32mp1", reason="no board for target stm32mp1 in boards.toml"),
        row("stage_seconds", 1.0, unit="s", target="stm32mp1"),
        row("stage_seconds", 2.0, unit="s"),
        row("stage_seconds", 9.0, unit="s", stage="run:validate", stage_kind="run"),
    ]


FACTS = {"stm32h7": TargetFacts("stm32h7", "MCU", 400.0, "STM32H747I-DISCO: Cortex-M7"),
         "stm32mp1": TargetFacts("stm32mp1", "MPU", 800.0, "STM32MP157F-DK2: 2x Cortex-A7")}


def test_stm32_shaped_rows_fill_the_vendor_tables_with_published_figures_beside_ours():
    text = render_card(MODEL, stm32_rows(), "r1", FACTS)
    assert ST_MCU_MEMORY in text and ST_INFERENCE in text
    for heading in ("## Network information", "## Network inputs / outputs", "## Recommended platforms",
                    "# Performances", "### Reference MCU memory footprint", "### Reference inference time"):
        assert f"\n{heading}\n" in text
    # ST publishes 686.5 KiB activation RAM and 363.82 ms for this model on the STM32H7 (seed card 002)
    assert "| 707.3 KiB [E] (published 686.5, +3.0 %) |" in text
    assert "| 420 KiB [T] (published 406.86, +3.2 %) |" in text
    assert "| 380 [B] (published 363.82, +4.4 %) |" in text
    assert "| STM32H747I-DISCO | footprint | 400 MHz |" in text
    assert "stedgeai 10.0.0, tflm-planner 0.1" in text  # tools and versions of the row
    assert "| Runtime RAM |" in text and "not measured[^1]" in text
    assert "\n[^1]: `compile:footprint` ran and did not report it\n" in text  # each reason once, as a note
    assert "[^2]: skipped: no board for target stm32mp1 in boards.toml\n" in text
    assert "| stm32h7 | [x] | [x] | flash: fits internal; ram: fits internal [E] (tflm-planner 0.1) |" in text
    assert "| MParams | 1.68 M [H] (keras 3.15.1) |" in text


def test_a_card_of_another_class_count_stands_beside_ours_without_a_difference():
    rows = [{**r, "classes": 10} for r in stm32_rows()]  # no vendor figure for 10 classes
    text = render_card(MODEL, rows, "r1", FACTS)
    assert "| 707.3 KiB [E] (published 686.5 for 5 classes; run with --classes 5 to compare) |" in text
    assert "+3.0 %" not in text


def test_npu_table_and_multi_thread_table_when_rows_have_them():
    rows = [row("internal_ram_kib", 1900.0, target="stm32n6"), row("external_ram_kib", 0.0, target="stm32n6")]
    rows += [row("latency_mean_ms", v, target="rdk_x5", unit="ms", stage="run:bpu", stage_kind="run",
                 method="measured-board", tool="hrt_model_exec", tool_version="1.2", extra={"threads": t})
             for t, v in ((1, 3.5), (4, 10.9))]
    rows += [row("inferences_per_s", 367.0, target="rdk_x5", unit="1/s", stage="run:bpu", stage_kind="run",
                 method="measured-board", tool="hrt_model_exec", tool_version="1.2", extra={"threads": 4})]
    text = render_card(MODEL, rows, "r1", {"stm32n6": TargetFacts("stm32n6", "NPU")})
    assert ST_NPU_MEMORY in text and "| 1,900 [E] | 0 [E] |" in text
    assert "### Multi-thread latency and throughput on rdk_x5 (`run:bpu`)" in text
    assert "| mobilenet_v2_0.35_224 | 4 | 10.9 [B] | 367 [B] | hrt_model_exec 1.2 |" in text


def test_accuracy_float_and_int8_per_data_set():
    acc = dict(stage="evaluate:accuracy", stage_kind="evaluate", unit="%", method="measured-host", tool="accuracy",
               tool_version="1", dataset="flowers", n_images=300, target="cpu")
    rows = [row("top1_float", 88.5, **acc), row("top1_int8", 88.1, **acc), row("top5_int8", 99.0, **acc)]
    text = render_card(MODEL, rows, "r1")
    assert "### Accuracy with flowers dataset" in text
    assert "| mobilenet_v2_0.35_224 | Float | 224x224x3 | 88.5 % [H] | - | cpu | 300 | accuracy 1 |" in text
    assert "| mobilenet_v2_0.35_224 | Int8 | 224x224x3 | 88.1 % [H] | 99 % [H] | cpu | 300 | accuracy 1 |" in text


def test_the_same_rows_in_any_order_give_the_same_bytes():
    rows = stm32_rows()
    first = render_card(MODEL, rows, "r1", FACTS)
    random.Random(3).shuffle(rows)
    assert render_card(MODEL, rows, "r1", FACTS) == first


class SectionPlugin:
    @hookimpl
    def zoo_bench_card_sections(self, model, rows):
        cycles = [r for r in rows if r["metric"] == "activation_ram_kib"]
        return [("Arena detail", f"{model}: {len(cycles)} arena figure(s)")]


class BrokenSectionPlugin:
    @hookimpl
    def zoo_bench_card_sections(self, model, rows):
        raise RuntimeError("section bug")


def test_a_plugin_adds_a_section_and_a_broken_one_costs_only_its_section(capsys):
    registry = load_registry(extra_plugins=[("sections", SectionPlugin()), ("broken", BrokenSectionPlugin())],
                             entry_points=False)
    sections = plugin_sections(registry)(MODEL, stm32_rows())
    assert "plugin 'broken' card section failed" in capsys.readouterr().err
    text = render_card(MODEL, stm32_rows(), "r1", FACTS, sections)
    assert "\n## Arena detail\n\nmobilenet_v2_0.35_224: 1 arena figure(s)\n\n## Notes\n" in text


def test_card_cli_from_a_fake_run_says_what_was_not_measured_and_regenerates_identically(tmp_path, zb_env):
    out, cards = tmp_path / "out", tmp_path / "cards"
    assert run_cli(["run", "-m", "fake_tiny", "-t", "fake_a,fake_b", "-o", str(out), "-q"], env=zb_env).returncode == 0
    proc = run_cli(["card", "fake_tiny", "-o", str(out), "--output-dir", str(cards)], env=zb_env)
    assert proc.returncode == 0, proc.stderr
    path = cards / "fake_tiny.md"
    text = path.read_bytes()
    assert b"| fake_tiny | Int8 | 8x8x3 | fake_b | fake_numpy (int8) | - | not measured[^2] | - | - |" in text
    assert b"\n[^2]: `compile:fake_missing_tool` skipped: fakec not found on PATH\n" in text
    assert b" [H] (median " in text and b"numpy " in text  # the mean beside its rate, the median noted
    assert run_cli(["card", "fake_tiny", "-o", str(out), "--output-dir", str(cards)], env=zb_env).returncode == 0
    assert path.read_bytes() == text


def test_run_with_cards_writes_them_into_model_cards(tmp_path, zb_env):
    proc = run_cli(["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(tmp_path / "out"), "-q", "--cards"],
                   env=zb_env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "model_cards" / "fake_tiny.md").read_text().startswith("# fake_tiny\n")


def test_card_of_a_model_the_run_does_not_have_is_a_usage_error(tmp_path, zb_env):
    out = tmp_path / "out"
    assert run_cli(["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(out), "-q"], env=zb_env).returncode == 0
    proc = run_cli(["card", "nope", "-o", str(out), "--output-dir", str(tmp_path / "c")], env=zb_env)
    assert proc.returncode == 2 and "has no rows for nope" in proc.stderr


@pytest.mark.parametrize("metric", ["latency_mean_ms", "weights_flash_kib"])
def test_no_published_figure_means_no_published_text(metric):
    text = render_card("fake_tiny", [row(metric, 1.0, model="fake_tiny")], "r1")
    assert "(published" not in text


def test_cards_dir_that_is_a_file_is_a_usage_error(tmp_path, zb_env):
    """Issue 7 item 9: one line and exit 2, no traceback."""
    target = tmp_path / "a_file"
    target.write_text("")
    repo_rows = Path(__file__).resolve().parents[3] / "model_cards" / "results.jsonl"
    proc = run_cli(["card", "--rows", str(repo_rows), "--output-dir", str(target)], env=zb_env)
    assert proc.returncode == 2 and "cannot write" in proc.stderr and "a_file" in proc.stderr
    assert "Traceback" not in proc.stderr
