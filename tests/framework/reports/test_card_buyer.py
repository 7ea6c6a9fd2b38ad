"""Cards a buyer can read (issue 21 item 6): each "not measured" reason once, one version per tool,
"Recommended" on the chip's own memory design, time and rate from the same statistic, and the vendor's
figure for the same class count (the 1000-class N6 figure the estimators' points hold)."""

from __future__ import annotations

import json
import re

from zoo_bench.reports.card_notes import tool_versions
from zoo_bench.reports.cards import render_card

from tests.framework.reports.test_cards import row

N6_128 = "mobilenet_v2_0.35_128"


def n6(metric, value, **kw):
    return row(metric, value, target="stm32n6", model=N6_128, classes=1000, resolution=128, **kw)


def test_a_chip_without_internal_flash_is_recommended_when_its_external_flash_holds_the_weights():
    fit = {"need_kib": 1643.66, "internal_kib": 0.0, "external_kib": 114688.0, "verdict": "needs external"}
    ram = {"need_kib": 240.0, "internal_kib": 2816.0, "external_kib": 32768.0, "verdict": "fits internal"}
    rows = [n6("fits_internal_flash", 0.0, unit="bool", extra=fit), n6("fits_with_external_flash", 1.0, unit="bool",
                                                                       extra=fit),
            n6("fits_internal_ram", 1.0, unit="bool", extra=ram), n6("fits_with_external_ram", 1.0, unit="bool",
                                                                     extra=ram)]
    text = render_card(N6_128, rows, "r1")
    assert re.search(r"\| stm32n6 \| \[x\] \| \[x\] \| flash: needs external; ram: fits internal \(the chip has no "
                     r"internal flash: external flash is its design\)", text)
    # a chip that has internal flash and does not fit it is still not recommended
    small = {**fit, "internal_kib": 1024.0}
    rows[0], rows[1] = n6("fits_internal_flash", 0.0, unit="bool", extra=small), \
        n6("fits_with_external_flash", 1.0, unit="bool", extra=small)
    assert "| stm32n6 | [x] | [] |" in render_card(N6_128, rows, "r1")


def test_the_vendors_1000_class_figure_stands_beside_an_estimate_fitted_on_it():
    est = n6("latency_mean_ms", 3.03, unit="ms", stage="run:stm32_estimate:estimate", stage_kind="run",
             tool="zoo-bench-estimate:stm32_estimate", tool_version="1.0",
             extra={"interval": [2.33, 6.67], "fitted_on": ["mobilenet_v2_0.35_128_imagenet"]})
    text = render_card(N6_128, [est], "r1")
    # ST's stm32ai-modelzoo MobileNet v2 README: 6.35 ms on the N6 for 1000 classes (published_points.json)
    assert "(published 6.35; estimator fitted on this network, no % shown)" in text
    assert "| stm32n6 | latency_mean_ms | 6.35 ms |" in text and "(1000 classes)" in text
    # the same estimate not fitted on that figure gets the difference
    other = {**est, "extra": json.dumps({"fitted_on": ["something_else"], "in_fit": False})}
    assert "(published 6.35, -52.3 %)" in render_card(N6_128, [other], "r1")


def test_one_version_per_tool_in_the_tool_column():
    rows = [row("a", 1.0, tool="st-footprint-fit", tool_version="1"),
            row("b", 1.0, tool="tflite-flatbuffer", tool_version="2.3.0"),
            row("c", 1.0, tool="tflm-planner+tflite-flatbuffer+st-footprint-fit", tool_version="0.dev1"),
            row("d", 1.0, tool="tflm-planner", tool_version="0.dev1")]
    assert tool_versions(rows) == "st-footprint-fit 1, tflite-flatbuffer 2.3.0, tflm-planner 0.dev1"
    assert tool_versions([row("a", 1.0, tool="x", tool_version="1"), row("b", 1.0, tool="x", tool_version="2")]) \
        == "x 1 / 2"  # two versions of one tool in one row are shown, not hidden


def test_each_not_measured_reason_is_one_footnote():
    why = "STEdgeAI (stedgeai) not found: install ST Edge AI Core"
    rows = [n6("activation_ram_kib", 240.0), n6("stage_seconds", 1.0, stage="compile:stedgeai",
                                                  status="skipped", reason=why, unit="s")]
    text = render_card(N6_128, rows, "r1")
    note = re.search(rf"\n\[\^(\d+)\]: skipped: {re.escape(why)}\n", text).group(1)
    assert text.count(why) == 1 and text.count(f"not measured[^{note}]") >= 3  # NPU memory cells, one note


def test_time_and_rate_come_from_the_same_statistic():
    common = dict(target="cpu", stage="run:litert:int8", stage_kind="run", method="measured-host", tool="litert",
                  tool_version="2.3.0", unit="ms")
    rows = [row("latency_mean_ms", 2.27, **common), row("latency_p50_ms", 1.36, **common),
            row("inferences_per_s", 440.19, **{**common, "unit": "1/s"})]
    text = render_card("m", [{**r, "model": "m"} for r in rows], "r1")
    assert "| 2.27 [H] (median 1.36) | 440.19 [H] |" in text  # 1000 / 2.27 = 440.5: the rate of the mean
