"""`zoo-bench history` (issue 21 item 1): series over finished runs, steps that know the noise and hold over
later runs, attributed to the first run that shows them with what changed; the page opened in headless Chromium.

The CLI tests use real timings of the fake plugin's numpy runner (tests/framework/fakes/zb_fake_plugin.py): its
`sleep_s` option makes the same model slower, which is the planted step.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from zoo_bench.reports.compare import Thresholds
from zoo_bench.reports.history import (
    History,
    HistoryPoint,
    RunInfo,
    Series,
    detect_steps,
    stat_interval,
    tool_changes,
)
from zoo_bench.reports.history_page import render_history
from zoo_bench.store import ResultsStore

from tests.conftest import run_cli
from tests.framework.reports.test_report import chromium, console_lines, needs_chromium

ROOT = Path(__file__).resolve().parents[3]


def make_series(medians: list[float], metric: str = "latency_p50_ms", n: int = 40, spread: float = 0.02,
                tool_versions: list[str] | None = None, sampled: bool = True) -> Series:
    """Points whose raw samples are normal around each median (seeded): the shape the harness stores."""
    rng = np.random.default_rng(7)
    series = Series(("m", "cpu", "run:litert:int8", metric, "int8", ""), "ms")
    for k, med in enumerate(medians):
        run = RunInfo(f"2026120{k}T000000Z-000{k}", f"n{k}", "", "0.1", {"commit": str(k) * 40}, {}, False, [])
        samples = list(rng.normal(med, med * spread, size=n)) if sampled else None
        version = tool_versions[k] if tool_versions else "2.16"
        interval = stat_interval(metric, samples) if samples else None
        series.points.append(HistoryPoint(run, med, "measured-host", "litert", version, {}, False, "ab" * 32,
                                          "host", samples, *(interval or (None, None))))
    detect_steps(series, Thresholds())
    tool_changes(series)
    return series


def test_a_step_is_attributed_to_the_first_run_that_shows_it_and_must_hold():
    s = make_series([2.0, 2.6, 2.6, 2.6])
    assert [(st.index, st.verdict, st.confirmed) for st in s.steps] == [(1, "regression", True)]
    assert s.steps[0].change == pytest.approx(30.0)
    assert s.steps[0].interval[0] > 1.05  # the noise interval of the ratio excludes 1
    assert [c["what"] for c in s.steps[0].changes] == ["git commit"]
    assert [(a, b) for a, b, _ in s.levels] == [(0, 0), (1, 3)]


def test_no_step_in_an_unchanged_series_and_an_outlier_is_not_a_step():
    assert make_series([2.0, 2.02, 1.99, 2.01]).steps == []
    outlier = make_series([2.0, 2.8, 2.0, 2.01])
    assert outlier.steps == [] and outlier.levels == [(0, 3, pytest.approx(2.0, rel=0.01))]


def test_a_shift_beyond_the_threshold_but_within_the_noise_is_not_a_step():
    """7 % slower medians, but samples spread by 40 %: the bootstrap interval of the median ratio includes 1."""
    assert make_series([2.0, 2.14, 2.14], spread=0.4, n=10).steps == []
    assert [st.index for st in make_series([2.0, 2.14, 2.14], spread=0.01).steps] == [1]


def test_a_shift_in_the_newest_run_is_pending_not_a_step():
    s = make_series([2.0, 2.0, 2.0, 3.0])
    assert [(st.index, st.confirmed) for st in s.steps] == [(3, False)]
    assert s.as_dict()["steps"] == [] and s.as_dict()["pending"][0]["run_id"] == s.points[3].run.run_id


def test_figures_without_samples_step_on_their_threshold_and_accuracy_in_points():
    mem = make_series([100.0, 100.5, 103.0, 103.0], metric="arena_kib", sampled=False)
    assert [(st.index, st.verdict) for st in mem.steps] == [(2, "regression")]
    acc = make_series([70.0, 70.3, 69.0, 69.1], metric="top1", sampled=False)
    # levels: median(70.0, 70.3) = 70.15 -> median(69.0, 69.1) = 69.05
    assert [(st.index, st.verdict, round(st.change, 2)) for st in acc.steps] == [(2, "regression", -1.1)]


def test_a_tool_version_change_is_marked_and_named_in_the_step():
    s = make_series([2.0, 2.0, 1.5, 1.5], tool_versions=["2.16", "2.16", "2.17", "2.17"])
    assert s.tool_changes == [{"index": 2, "run_id": s.points[2].run.run_id, "changes": ["litert 2.16 → 2.17"]}]
    assert s.steps[0].verdict == "improvement"
    assert {"what": "tool litert", "before": "litert 2.16", "after": "litert 2.17"} in s.steps[0].changes
    html = render_history(History("store", [p.run for p in s.points], [s], Thresholds()))
    assert html.count('class="tool-change"') == 1 and "tool version changed" in html


# --- the CLI on real runs of the fake plugin ------------------------------------------------------------------

def fake_runs(out: Path, env: dict[str, str], sleeps: list[float], label: str = "nightly") -> None:
    for k, sleep_s in enumerate(sleeps, start=1):
        proc = run_cli(["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(out), "-q", "--rerun", "run",
                        "-s", "runs=30", "-s", f"sleep_s={sleep_s}", "--label", f"{label}-{k}"], env=env)
        assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A store of three labelled runs of the fake model, slowed (20 ms sleep per inference) from the second on."""
    import os

    from tests.conftest import FAKES

    tmp = tmp_path_factory.mktemp("planted")
    env = {**os.environ, "ZOO_BENCH_PLUGINS": "zb_fake_plugin", "ZOO_BENCH_CACHE": str(tmp / "cache"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(FAKES), os.environ.get("PYTHONPATH", "")]))}
    env.pop("ZOO_BENCH_DISABLE_PLUGINS", None)
    fake_runs(tmp / "out", env, [0.002, 0.02, 0.02])
    return tmp / "out", env


def test_history_attributes_a_planted_step_to_the_run_that_slowed(tmp_path, planted):
    out, zb_env = planted
    proc = run_cli(["history", "-o", str(out), "--json"], env=zb_env)
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    runs = [r["run_id"] for r in found["runs"]]
    assert [r["label"] for r in found["runs"]] == ["nightly-1", "nightly-2", "nightly-3"]
    series = {(s["stage"], s["metric"]): s for s in found["series"]}
    p50 = series[("run:fake_numpy:float32", "latency_p50_ms")]
    assert [p["run_id"] for p in p50["points"]] == runs and all(p["n_samples"] == 30 for p in p50["points"])
    assert all(p["low"] <= p["value"] <= p["high"] for p in p50["points"])
    assert len(p50["steps"]) == 1
    step = p50["steps"][0]
    assert (step["run_id"], step["previous_run_id"], step["verdict"]) == (runs[1], runs[0], "regression")
    assert step["confirmed_by"] == [runs[2]] and step["change"] > 100
    assert {"what": "option sleep_s", "before": "0.002", "after": "0.02"} in step["what_changed"]
    assert series[("quantize:fake_int8", "model_size_kib")]["steps"] == []
    assert ("run:fake_numpy:float32", "latency_p90_ms") not in series  # follows the median: --metric to see it
    html = tmp_path / "history.html"
    assert run_cli(["history", "-o", str(out), "--html", str(html)], env=zb_env).returncode == 0
    text = html.read_text()
    n_series = len(found["series"])
    assert text.count('<svg class="plot"') == n_series and text.count('class="legend"') == n_series
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)
    md = run_cli(["history", "-o", str(out), "--markdown"], env=zb_env)
    assert md.returncode == 0
    assert f"| `{runs[1]}` (nightly-2) | fake_tiny · fake_a · run:fake_numpy:float32" in md.stdout
    only = run_cli(["history", "-o", str(out), "--label", "nightly-[23]", "--metric", "latency_p90_ms", "--json"],
                   env=zb_env)
    kept = json.loads(only.stdout)
    assert [r["run_id"] for r in kept["runs"]] == runs[1:]
    assert {s["metric"] for s in kept["series"]} == {"latency_p90_ms"}


def test_history_finds_no_step_in_three_runs_of_an_unchanged_model(tmp_path, zb_env):
    out = tmp_path / "out"
    fake_runs(out, zb_env, [0.002, 0.002, 0.002])
    found = json.loads(run_cli(["history", "-o", str(out), "--json"], env=zb_env).stdout)
    assert len(found["runs"]) == 3 and all(len(s["points"]) == 3 for s in found["series"])
    assert [s for s in found["series"] if s["steps"]] == []


def test_bad_history_input_is_one_line_exit_2(tmp_path, zb_env):
    out = tmp_path / "out"
    fake_runs(out, zb_env, [0.0])
    for args, message in [(["--since", "yesterday"], "--since 'yesterday'"),
                          (["--label", "nope*"], "no finished run matching the filters"),
                          (["--metric", "no_such_metric"], "matches --model/--target/--metric"),
                          (["--json", "--markdown"], "choose one of --json and --markdown"),
                          (["--since", "2099-01-01"], "no finished run matching the filters")]:
        proc = run_cli(["history", "-o", str(out), *args], env=zb_env)
        assert proc.returncode == 2 and message in proc.stderr, (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1
    recent = run_cli(["history", "-o", str(out), "--since", "1h", "--json"], env=zb_env)
    assert recent.returncode == 0 and len(json.loads(recent.stdout)["runs"]) == 1


# --- the page in a real browser -------------------------------------------------------------------------------

def browser_check(html_path: Path) -> dict[str, str]:
    dom = chromium("--virtual-time-budget=5000", "--dump-dom", html_path.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert console_lines(dom.stderr) == []
    body = re.search(r"<body([^>]*)>", dom.stdout).group(1)
    return dict(re.findall(r'data-([\w-]+)="([^"]*)"', body))


@needs_chromium
def test_history_page_in_headless_chromium_every_chart_has_a_legend_and_no_label_is_clipped(tmp_path, planted):
    out, zb_env = planted
    html = tmp_path / "history.html"
    assert run_cli(["history", "-o", str(out), "--html", str(html)], env=zb_env).returncode == 0
    found = browser_check(html)
    assert found["ready"] == "1" and "errors" not in found
    assert int(found["charts"]) >= 4 and found["charts"] == found["legends"] == found["drawn"]
    assert found["clipped"] == "0", found.get("clipped-texts")
    shot = tmp_path / "history.png"
    proc = chromium("--hide-scrollbars", "--window-size=1300,1400", f"--screenshot={shot}", html.as_uri())
    assert proc.returncode == 0 and shot.stat().st_size > 10_000
    print(f"history screenshot: {shot}")


@needs_chromium
def test_every_kind_of_mark_fits_its_chart(tmp_path):
    """Steps both ways, a pending shift, a tool change, busy runs and big numbers: the widest legends there are."""
    up = make_series([2.0, 2.6, 2.6, 2.6, 1.5, 1.5, 1.5, 3.0], tool_versions=["2.16"] * 4 + ["2.17"] * 4)
    for p in up.points[::2]:
        p.run.busy = True
    up.missing.append({"run_id": up.points[5].run.run_id, "status": "failed", "reason": "crashed"})
    big = make_series([123456.0, 123456.0, 250000.0, 250000.0], metric="external_ram_kib", sampled=False)
    small = make_series([0.000121, 0.000122, 0.0001215])  # long tick labels: 0.0001205
    runs = sorted({p.run.run_id: p.run for s in (up, big, small) for p in s.points}.values(), key=lambda r: r.run_id)
    page = tmp_path / "all.html"
    page.write_text(render_history(History("store", runs, [up, big, small], Thresholds())))
    found = browser_check(page)
    assert found["charts"] == found["legends"] == "3" and found["clipped"] == "0", found.get("clipped-texts")
    html = page.read_text()
    for legend in ("step (regression)", "step (improvement)", "tool version changed", "busy machine",
                   "95 % interval", "shift in the newest run (pending)", "no figure: stage failed or skipped"):
        assert legend in html


@needs_chromium
def test_the_layout_check_sees_a_clipped_label(tmp_path):
    """The check above can fail: a unit too long for the chart's height sticks out of its box."""
    s = make_series([2.0, 2.0, 2.0])
    s.unit = "milliseconds per inference measured on a very busy machine " * 2
    page = tmp_path / "bad.html"
    page.write_text(render_history(History("store", [p.run for p in s.points], [s], Thresholds())))
    found = browser_check(page)
    assert found["clipped"] == "1" and "milliseconds per inference" in found["clipped-texts"]


def test_the_kept_screenshot_is_a_png():
    shot = ROOT / "docs" / "img" / "history.png"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    assert "img/history.png" in (ROOT / "docs" / "ci.md").read_text()


def test_a_foreign_run_json_of_odd_types_is_read_as_data_not_trusted(tmp_path):
    """A shared store's run.json is untrusted input (docs/security.md): odd types must neither crash nor inject."""
    from zoo_bench.records import Record
    from zoo_bench.reports.history import build_history
    from zoo_bench.reports.history_page import format_markdown

    store = ResultsStore(tmp_path / "store")
    for k, value in enumerate([2.0, 2.0]):
        rid = store.new_run({"git": {"commit": 5, "branch": ["x"], "dirty": "yes"}, "label": ["<b>odd</b>"],
                             "options": "not a dict", "zoo_bench_version": 1, "warnings": "busy"})
        store.write_job(rid, "m@cpu", [Record(run_id=rid, model="m", target="cpu", stage="run:x", metric="arena_kib",
                                              value=value + k, unit="KiB", method="tool-estimate", tool="<script>")])
        store.update_manifest(rid, status="finished")
    found = build_history(store)
    assert found.runs[0].git == {"commit": None, "branch": None, "dirty": None} and found.runs[0].options == {}
    html = render_history(found)
    assert "<b>odd</b>" not in html and "&lt;b&gt;odd&lt;/b&gt;" in html and "&lt;script&gt;" in html
    assert [(st.index, st.confirmed) for st in found.series[0].steps] == [(1, False)]  # 2 -> 3 KiB, not confirmed
    assert "regression, pending +50.0 %" in format_markdown(found)


def test_a_figure_whose_stage_failed_is_marked_missing_in_that_run():
    from zoo_bench.reports.history import build_series
    from zoo_bench.reports.history_page import format_markdown

    runs = [RunInfo(f"r{k}", None, "", "0.1", None, {}, False, []) for k in range(3)]

    def rows(run_id: str, ok: bool) -> list[dict]:
        common = {"run_id": run_id, "model": "m", "target": "cpu", "stage": "run:litert:int8", "variant": "int8",
                  "extra": "{}", "samples": None, "method": "measured-host", "tool": "litert", "tool_version": "2",
                  "packages": "{}", "cached": False, "host": "h", "stage_kind": "run", "artifact_sha256": ""}
        stage = {**common, "metric": "stage_seconds", "value": 1.0 if ok else None, "unit": "s",
                 "status": "ok" if ok else "failed", "reason": "" if ok else "litert: interpreter crashed"}
        return [stage] + ([{**common, "metric": "latency_p50_ms", "value": 2.0, "unit": "ms", "status": "ok",
                            "reason": ""}] if ok else [])

    found = build_series(runs, {"r0": rows("r0", True), "r1": rows("r1", False), "r2": rows("r2", True)}, [], [], [])
    assert [s.key[3] for s in found] == ["latency_p50_ms"]
    assert found[0].missing == [{"run_id": "r1", "status": "failed", "reason": "litert: interpreter crashed"}]
    detect_steps(found[0], Thresholds())
    html = render_history(History("store", runs, found, Thresholds()))
    assert html.count('class="missing"') == 1 and "no figure: stage failed or skipped" in html
    assert "| `r1` | m · cpu · run:litert:int8 · latency_p50_ms | failed: litert: interpreter crashed |" in \
        format_markdown(History("store", runs, found, Thresholds()))
