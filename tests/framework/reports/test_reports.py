"""Run comparison and model cards, from rows the harness really wrote (fake plugin) and from
hand-made rows where a specific situation (a regression) must be set up."""

from __future__ import annotations

import json
from dataclasses import asdict

from zoo_bench.records import Record
from zoo_bench.reports.cards import render_card
from zoo_bench.reports.compare import compare_rows

from tests.conftest import run_cli


def row(metric: str, value: float | None, status: str = "ok", **kw) -> dict:
    base = dict(model="m", target="t", stage="run:x:int8", variant="int8", metric=metric, value=value,
                status=status, method="measured-host", tool="x", tool_version="1", vendor="v",
                resolution=8, classes=10, weights="random")
    base.update(kw)
    return asdict(Record(**base))


def test_latency_up_is_a_regression_and_accuracy_up_an_improvement():
    base = [row("latency_p50_ms", 10.0), row("top1_int8", 0.70, stage="evaluate:accuracy")]
    new = [row("latency_p50_ms", 12.0), row("top1_int8", 0.80, stage="evaluate:accuracy")]
    verdicts = {c.key[3]: (c.verdict, round(c.delta_pct, 1)) for c in compare_rows(base, new, threshold_pct=10)}
    assert verdicts == {"latency_p50_ms": ("regression", 20.0), "top1_int8": ("improvement", 14.3)}
    assert compare_rows(base, new, threshold_pct=25)[1].verdict == "same"


def test_a_stage_that_stopped_working_is_broken():
    base = [row("stage_seconds", 1.0, stage="compile:vela")]
    new = [row("stage_seconds", None, status="failed", stage="compile:vela", reason="boom")]
    (change,) = compare_rows(base, new)
    assert change.verdict == "broken" and change.new_status == "failed"


def test_compare_cli_exits_1_on_regression_for_ci(tmp_path, zb_env):
    out = tmp_path / "out"
    for sleep in ("0", "0.02"):  # the second run's runner is slowed down on purpose
        proc = run_cli(["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(out), "-q", "--rerun", "run",
                        "-s", f"sleep_s={sleep}", "-s", "runs=5"], env=zb_env)
        assert proc.returncode == 0, proc.stderr
    report = run_cli(["compare", "-o", str(out), "--json"], env=zb_env)
    assert report.returncode == 0
    verdicts = {(c["stage"], c["metric"]): c["verdict"] for c in json.loads(report.stdout)["changes"]}
    assert verdicts[("run:fake_numpy:float32", "latency_p50_ms")] == "regression"
    assert run_cli(["compare", "-o", str(out), "--fail-on-regression"], env=zb_env).returncode == 1


def test_card_shows_figures_with_provenance_and_says_what_was_not_measured(tmp_path, zb_env):
    out = tmp_path / "out"
    run_cli(["run", "-m", "fake_tiny", "-t", "fake_a,fake_b", "-o", str(out), "-q"], env=zb_env)
    proc = run_cli(["card", "-o", str(out), "--cards-dir", str(tmp_path / "cards")], env=zb_env)
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "cards" / "fake_tiny.md").read_text()
    assert "## Target `fake_a` (fakes)" in text and "## Target `fake_b` (fakes)" in text
    assert "| run:fake_numpy:int8 | int8 | latency_p50_ms |" in text
    assert "measured-host, numpy" in text
    assert "- `compile:fake_missing_tool` skipped: fakec not found on PATH" in text
    assert "run:fake_numpy:int8` skipped" not in text  # consequences are not repeated


def test_render_card_lists_network_information():
    rows = [row("params", 1234.0, stage="source", variant="float32", tool="keras", tool_version="3")]
    text = render_card("m", rows, "r1")
    assert "| params | 1,234 | measured-host, keras 3 |" in text and "| Resolution | 8x8 |  |" in text


def test_compare_says_when_the_new_run_was_not_re_measured(tmp_path, zb_env):
    out = tmp_path / "out"
    for _ in range(2):
        assert run_cli(["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(out), "-q"], env=zb_env).returncode == 0
    report = run_cli(["compare", "-o", str(out)], env=zb_env)
    assert report.returncode == 0
    assert "served from the cache, not re-measured (run with --rerun run" in report.stderr
