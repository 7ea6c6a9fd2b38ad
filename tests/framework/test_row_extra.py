"""A plugin's figure ``extra`` cannot overwrite the framework's own facts (device, exclusive)."""

from __future__ import annotations

import json

from zoo_bench.plan import Job, StageSpec
from zoo_bench.plugin import Figure
from zoo_bench.rows import build_records, figure_extra
from zoo_bench.stage_runner import StageResult


def test_framework_keys_win_and_the_plugins_value_is_namespaced():
    how = {"device": "board-imx93", "exclusive": True, "threads": 2}
    merged = figure_extra({"device": "/dev/ttyACM0", "threads": 4, "config": "x"}, how, "my_runner")
    assert merged == {"device": "board-imx93", "exclusive": True, "threads": 4, "config": "x",
                      "my_runner:device": "/dev/ttyACM0"}


def test_the_same_fact_twice_is_said_once_and_a_reserved_key_without_a_framework_value_is_namespaced():
    assert figure_extra({"device": "host"}, {"device": "host"}, "r") == {"device": "host"}
    assert figure_extra({"log": "mine"}, {}, "r") == {"r:log": "mine"}


def test_rows_of_a_stage_keep_the_schedulers_device(fake_registry):
    from zoo_bench.plan import resolve_models, resolve_targets

    model = resolve_models(["fake_tiny"], fake_registry)[0]
    target = resolve_targets(["fake_a"], fake_registry)[0]
    spec = StageSpec("run:fake_runner", "run", "fake_runner")
    fig = Figure("latency_p50_ms", 1.0, "ms", "measured-host", "fake", "1", extra={"device": "npu0"})
    res = StageResult(spec, "ok", figures=[fig], device="host", exclusive=True, threads=1)
    stage_row, figure_row = build_records("r1", Job(model, target, [spec]), [res], {"host": "h"})
    assert json.loads(figure_row.extra) == {"device": "host", "exclusive": True, "threads": 1,
                                            "fake_runner:device": "npu0"}
    assert json.loads(stage_row.extra)["device"] == "host"
