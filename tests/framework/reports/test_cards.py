"""Run comparison and model cards, from rows the harness really wrote (fake plugin) and from
hand-made rows where a specific situation (a regression) must be set up."""

from __future__ import annotations

from dataclasses import asdict

from zoo_bench.records import Record
from zoo_bench.reports.cards import render_card

from tests.conftest import run_cli


def row(metric: str, value: float | None, status: str = "ok", **kw) -> dict:
    base = dict(model="m", target="t", stage="run:x:int8", variant="int8", metric=metric, value=value,
                status=status, method="measured-host", tool="x", tool_version="1", vendor="v",
                resolution=8, classes=10, weights="random")
    base.update(kw)
    return asdict(Record(**base))


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


