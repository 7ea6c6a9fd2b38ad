"""A card never prints a % difference of a fitted estimate against a figure it was fitted on (issue 20)."""

from __future__ import annotations

import json
import re

from zoo_bench.records import COLUMNS
from zoo_bench.reports.cards import render_card


def _row(value: float, extra: dict) -> dict:
    blank = dict.fromkeys(COLUMNS)
    return blank | {"model": "resnet50_v2_224", "target": "stm32h7", "vendor": "ST",
                    "stage": "run:stm32_estimate:estimate", "stage_kind": "run", "variant": "int8",
                    "component": "stm32_estimate", "cached": False, "reason": "", "metric": "latency_mean_ms",
                    "value": value, "unit": "ms", "method": "model-estimate", "tool": "zoo-bench-estimate:x",
                    "tool_version": "2.0", "status": "ok", "extra": json.dumps(extra), "resolution": 224,
                    "classes": 1000, "weights": "random", "n_images": None, "dataset": ""}


def _estimate_lines(card: str) -> list[str]:
    return [line for line in card.splitlines() if "9,876" in line or "9876" in line]


def test_in_fit_estimate_is_marked_and_never_compared_in_percent():
    extra = {"fitted_on": ["resnet50_v2_224_imagenet"], "in_fit": True, "full_fit_value": 11200.0,
             "interval": [8000.0, 12000.0]}
    card = render_card("resnet50_v2_224", [_row(9876.0, extra)], "run1")
    lines = _estimate_lines(card)
    assert lines, card
    assert not any(re.search(r"[+-]\d+(\.\d+)? %", line) for line in lines)  # no signed difference
    assert any("in fit: leave-one-network-out value" in line for line in lines)
    assert "estimator fitted on this network, no % shown" in card


def test_out_of_fit_estimate_is_compared():
    extra = {"fitted_on": ["other"], "in_fit": False, "interval": [8000.0, 12000.0]}
    card = render_card("resnet50_v2_224", [_row(9876.0, extra)], "run1")
    assert "(published 11,368.81, -13.1 %)" in card or "-13.1 %" in card, card


def test_a_calibrated_estimate_better_than_its_tool_comes_before_the_raw_tool_figure():
    """i.MX 93 without a board: the estimate correcting Vela (better on NXP's published points)
    is shown above Vela's raw figure, which stays beside it."""
    est = _row(1.9, {"fitted_on": ["a"], "in_fit": False, "baseline_ms": 2.5, "preferred_over_tool": True})
    tool = est | {"stage": "compile:vela", "stage_kind": "compile", "component": "vela", "method": "tool-estimate",
                  "value": 2.5, "extra": "{}"}
    card = render_card("resnet50_v2_224", [tool, est], "run1")
    assert 0 < card.index("| stm32_estimate |") < card.index("| vela |")
    est["extra"] = json.dumps({"fitted_on": ["a"], "in_fit": False, "preferred_over_tool": False})
    card = render_card("resnet50_v2_224", [tool, est], "run1")
    assert card.index("| vela |") < card.index("| stm32_estimate |")


def test_an_extrapolated_estimate_says_so():
    extra = {"fitted_on": ["other"], "in_fit": False, "extrapolation": ["conv_macs = 900 outside [1, 100]"]}
    card = render_card("resnet50_v2_224", [_row(9876.0, extra)], "run1")
    assert "extrapolated: the model lies outside the networks the estimator was fitted on" in card
