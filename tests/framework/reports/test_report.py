"""`zoo-bench report`: one self-contained HTML file, opened in a real headless Chromium (Debian's `chromium`
package, driven through its own --dump-dom / --screenshot switches): no console message, every plot has a
drawn area, the figure table is filled, and a screenshot is kept as a test artifact.

The store holds a real run of the fake plugin (two models, two targets, real timings) plus one job file of
hand-made rows in the shapes other plugins write (fit verdict rows with need/internal/external in `extra` as the
STM32 plugin writes them, a tool-estimated latency beside a board measurement, accuracy rows), so that every plot
has something to draw.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from zoo_bench.records import Record
from zoo_bench.reports.report import render_report
from zoo_bench.store import ResultsStore

from tests.conftest import run_cli

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH: `make browser` installs "
                                                             "Debian's chromium package")


def other_plugin_rows(run_id: str) -> list[Record]:
    common = dict(run_id=run_id, model="fake_tiny", vendor="fakes", resolution=8, classes=10, weights="random")
    fit = dict(metric="fits_internal_ram", unit="bool", method="model-estimate", tool="tflm-planner",
               tool_version="0.1", stage="compile:footprint", stage_kind="compile", variant="int8")
    return [
        Record(**common, target="fake_b", **fit, value=1.0,
               extra={"verdict": "fits internal", "need_kib": 300.5, "internal_kib": 1024, "external_kib": 0}),
        Record(**common, target="fake_b", **{**fit, "metric": "fits_internal_flash"}, value=0.0,
               extra={"verdict": "needs external", "need_kib": 2100.0, "internal_kib": 2048, "external_kib": 131072}),
        Record(**common, target="fake_b", stage="compile:est", stage_kind="compile", variant="int8",
               metric="latency_mean_ms", value=0.5, unit="ms", method="tool-estimate", tool="estimator",
               tool_version="1"),
        Record(**common, target="fake_b", stage="run:board", stage_kind="run", variant="int8",
               metric="latency_p50_ms", value=0.8, unit="ms", method="measured-board", tool="bench", tool_version="2",
               samples=[0.8, 0.79, 0.81]),
        Record(**common, target="fake_a", stage="evaluate:accuracy", stage_kind="evaluate", variant="int8",
               metric="top1_int8", value=61.5, unit="%", method="measured-host", tool="accuracy", tool_version="1",
               dataset="tiny", n_images=200),
    ]


@pytest.fixture
def report_store(tmp_path, zb_env) -> Path:
    out = tmp_path / "out"
    proc = run_cli(["run", "-m", "fake_tiny,fake_other", "-t", "fake_a,fake_b", "-o", str(out), "-q"], env=zb_env)
    assert proc.returncode == 0, proc.stderr
    store = ResultsStore(out)
    run_id = store.run_ids()[-1]
    store.write_job(run_id, "fake_tiny@others", other_plugin_rows(run_id))
    return out


def chromium(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--enable-logging=stderr",
           "--v=0", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def console_lines(stderr: str) -> list[str]:
    """What the page wrote to the console (log, error, uncaught exceptions): Chromium logs them as CONSOLE."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def test_report_is_self_contained_and_has_every_plot(report_store, tmp_path, zb_env):
    html_path = tmp_path / "report.html"
    proc = run_cli(["report", "-o", str(report_store), "--html", str(html_path)], env=zb_env)
    assert proc.returncode == 0, proc.stderr
    html = html_path.read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing fetched at view time
    assert html.count('<svg class="plot"') == 4
    for title in ("Latency per model and target", "Accuracy against latency",
                  "Memory needed against each board", "Estimate against measurement"):
        assert title in html
    assert "fake_other · fake_b · run:fake_numpy:float32" in html


def test_a_plot_without_data_says_why():
    row = {"model": "m", "target": "t", "stage": "run:x", "variant": "int8", "metric": "latency_p50_ms",
           "value": 2.0, "unit": "ms", "method": "measured-host", "tool": "x", "tool_version": "1", "status": "ok",
           "reason": "", "cached": False, "extra": "{}", "dataset": "", "n_images": None}
    html = render_report([row], "r1")
    assert html.count('<svg class="plot"') == 1 and "no accuracy figure in this run" in html


@needs_chromium
def test_report_renders_in_headless_chromium_without_console_errors(report_store, tmp_path, zb_env):
    html_path = tmp_path / "report.html"
    assert run_cli(["report", "-o", str(report_store), "--html", str(html_path)], env=zb_env).returncode == 0
    dom = chromium("--virtual-time-budget=5000", "--dump-dom", html_path.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert console_lines(dom.stderr) == []
    assert 'data-ready="1"' in dom.stdout and "data-errors" not in dom.stdout
    drawn = [tuple(map(int, m)) for m in re.findall(r'data-drawn="(\d+)x(\d+)"', dom.stdout)]
    assert len(drawn) == 4 and all(w >= 5 and h >= 5 for w, h in drawn), drawn  # one dot is 10x10
    assert int(re.search(r'data-rows="(\d+)"', dom.stdout).group(1)) >= 20
    shot = tmp_path / "report.png"
    proc = chromium("--hide-scrollbars", "--window-size=1200,2200", f"--screenshot={shot}", html_path.as_uri())
    assert proc.returncode == 0 and shot.stat().st_size > 10_000
    print(f"report screenshot: {shot}")


@needs_chromium
def test_the_browser_check_sees_a_script_error(tmp_path):
    """The check above can fail: a page that throws is caught by the same console scan."""
    page = tmp_path / "bad.html"
    page.write_text("<html><body><script>null.x;</script></body></html>")
    proc = chromium("--dump-dom", page.as_uri())
    assert any("Uncaught TypeError" in line for line in console_lines(proc.stderr))
