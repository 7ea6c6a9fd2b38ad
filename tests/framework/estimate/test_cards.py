"""Model cards show the estimate with its interval, after the board measurement of the same job."""

from __future__ import annotations

import json

from zoo_bench.reports.cards import render_card


def _row(method: str, value: float, stage: str, extra: dict) -> dict:
    return {"model": "m", "target": "imx93", "vendor": "NXP", "stage": stage, "variant": "int8",
            "metric": "latency_mean_ms", "value": value, "unit": "ms", "method": method, "tool": "t",
            "tool_version": "1", "status": "ok", "extra": json.dumps(extra), "resolution": 224, "classes": 1000,
            "weights": "random", "n_images": None, "dataset": ""}


def test_board_figure_first_estimate_beside_it_with_interval():
    rows = [_row("model-estimate", 1.9, "run:imx_estimate:estimate", {"interval": [1.5, 2.4]}),
            _row("measured-board", 2.1, "run:imx_board:npu", {})]
    card = render_card("m", rows, "run1")
    board, estimate = card.index("run:imx_board:npu"), card.index("run:imx_estimate:estimate")
    assert board < estimate
    assert "interval 1.5-2.4 (leave-one-model-out)" in card
