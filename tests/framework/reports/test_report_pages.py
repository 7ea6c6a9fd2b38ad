"""The HTML report beyond one run's plots: untrusted text cannot break its script, several runs or a
label in one page, the overview matrix, intervals, vendor figures (marked when fitted on), cached and
in-fit marks each with a legend entry, plugin sections, and markdown escaping in cards."""

from __future__ import annotations

import json
import re

import pytest
from zoo_bench import hookimpl
from zoo_bench.reports.cards import render_card
from zoo_bench.reports.escape import md_text, script_json
from zoo_bench.reports.inputs import report_html, report_sections
from zoo_bench.reports.report import render_report
from zoo_bench.store import ResultsStore

from tests.conftest import run_cli
from tests.framework.reports.test_report import chromium, console_lines, needs_chromium

EVIL = '<!--<script></script>\u2028"x'


def row(**kw):
    base = {"run_id": "r1", "model": "m", "target": "t", "stage": "run:x", "stage_kind": "run", "variant": "int8",
            "metric": "latency_p50_ms", "value": 2.0, "unit": "ms", "method": "measured-host", "tool": "x",
            "tool_version": "1", "status": "ok", "reason": "", "cached": False, "extra": "{}", "dataset": "",
            "n_images": None, "classes": 1000, "resolution": 128, "component": "x", "weights": "random",
            "samples": None, "host_cpu": "cpu", "vendor": "v"}
    return {**base, **kw}


def test_script_json_cannot_end_the_script_or_open_a_comment():
    text = script_json([EVIL, float("nan")])
    assert "<" not in text and ">" not in text and "\u2028" not in text and "&" not in text
    assert json.loads(text) == [EVIL, None]


def test_untrusted_names_and_reasons_stay_text_in_the_page():
    rows = [row(model=EVIL), row(model=EVIL, stage="run:y", status="failed", value=None, reason=EVIL,
                                 metric="stage_seconds")]
    html = render_report(rows, "r1")
    script = html[html.index("const rows = "):html.index("</script>")]
    assert "<!--" not in script and "</script" not in script.lower()
    assert "<!--<script>" not in html  # every other place is HTML-escaped by the template


@needs_chromium
def test_untrusted_text_does_not_stop_the_script_in_chromium(tmp_path):
    rows = [row(model=EVIL, target=EVIL), row(model=EVIL, stage="run:y", status="failed", value=None,
                                              reason="</script><script>throw 1</script>", metric="stage_seconds")]
    page = tmp_path / "evil.html"
    page.write_text(render_report(rows, "r1"))
    dom = chromium("--virtual-time-budget=3000", "--dump-dom", page.as_uri())
    assert console_lines(dom.stderr) == [] and 'data-ready="1"' in dom.stdout
    assert 'data-rows="2"' in dom.stdout  # both rows drawn, the table is not empty


def test_estimate_interval_vendor_figure_fitted_on_and_cached_marks_each_have_a_legend_entry():
    # ST publishes 6.35 ms for MobileNet v2 0.35 at 128 (1000 classes) on the N6; this estimate was fitted on it
    est = row(model="mobilenet_v2_0.35_128", target="stm32n6", stage="run:stm32_estimate:estimate",
              metric="latency_mean_ms", value=3.03, method="model-estimate", tool="zoo-bench-estimate",
              extra=json.dumps({"interval": [2.33, 6.67], "fitted_on": ["mobilenet_v2_0.35_128_imagenet"],
                                "in_fit": True}))
    host = row(model="mobilenet_v2_0.35_128", target="cpu", cached=True)
    html = render_report([est, host], "r1")
    assert 'class="interval"' in html and "interval 2.33-6.67 ms" in html
    assert re.search(r'class="vendor" d="[^"]+" fill="#fff"', html)  # hollow: fitted on, not a check
    assert "vendor published 6.35 ms" in html and "fitted on this figure, not a check" in html
    legend = html[html.index('data-legend="latency"'):]
    legend = legend[:legend.index("</div>")]
    for text in ("estimate interval", "the estimator was fitted on (not a check)", "cached: served from",
                 "estimate of a network in the estimator", "measured-host", "model-estimate"):
        assert text in legend, text
    overview = html[html.index('id="overview"'):html.index("</table>", html.index('id="overview"'))]
    assert "3.03 ms [2.33-6.67]" in overview and "model est., int8, in fit" in overview


def test_several_runs_and_a_label_in_one_report(tmp_path, zb_env):
    out = tmp_path / "out"
    for model in ("fake_tiny", "fake_other"):
        proc = run_cli(["run", "-m", model, "-t", "fake_a", "-o", str(out), "-q"], env=zb_env)
        assert proc.returncode == 0, proc.stderr
    store = ResultsStore(out)
    first, second = store.run_ids()
    store.update_manifest(first, label="catalog")
    html_path = tmp_path / "r.html"
    proc = run_cli(["report", "-o", str(out), "--run", "catalog", "--run", second, "--html", str(html_path)],
                   env=zb_env)
    assert proc.returncode == 0, proc.stderr
    html = html_path.read_text()
    assert "<code>catalog</code> (run <code>" + first in html and f"<code>{second}</code>" in html
    assert "fake_tiny [catalog]" in html and f"fake_other [{second}]" in html  # one overview row per run
    proc = run_cli(["report", "-o", str(out), "--run", "nope", "--html", str(html_path)], env=zb_env)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


class SectionPlugin:
    @hookimpl
    def zoo_bench_report_sections(self, rows):
        from markupsafe import escape

        return [("Fake detail", f"<p id='fake-detail'>{escape(len(rows))} rows of {escape(rows[0]['model'])}</p>")]


class BrokenSectionPlugin:
    @hookimpl
    def zoo_bench_report_sections(self, rows):
        raise RuntimeError("boom")


def _registry_with(*plugins):
    from zoo_bench.plugins import load_registry

    return load_registry(extra_plugins=[(type(p).__name__, p) for p in plugins], entry_points=False)


def test_a_plugin_adds_a_report_section_and_a_broken_one_costs_only_its_own(tmp_path, zb_env, capsys):
    out = tmp_path / "out"
    assert run_cli(["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(out), "-q"], env=zb_env).returncode == 0
    registry = _registry_with(SectionPlugin(), BrokenSectionPlugin())
    rows = ResultsStore(out).read().to_pylist()
    assert report_sections(registry, rows)[0][0] == "Fake detail"
    assert "report section failed" in capsys.readouterr().err
    html = report_html(ResultsStore(out), (), registry)
    assert "<h2>Fake detail</h2>" in html and f"<p id='fake-detail'>{len(rows)} rows of fake_tiny</p>" in html
    assert "Per-layer breakdown" in html and "dense_1" in html  # the fake runner's layer rows


@pytest.mark.parametrize("name", ["[x](http://evil.example)", "<img src=x onerror=alert(1)>", "a|b", "**bold**"])
def test_a_model_name_cannot_inject_markdown_links_or_html_into_a_card(name):
    text = render_card(name, [row(model=name, metric="latency_mean_ms")], "r1")
    prose = re.sub(r"(`+)(?:(?!\1).)+\1", "", text)  # code spans render literally
    assert not re.search(r"(?<!\\)<img", prose) and not re.search(r"(?<!\\)\]\(", prose)
    assert not re.search(r"(?<!\\)\*\*bold", prose) and "| a|b" not in text
    assert text.startswith(f"# {md_text(name)}\n")


@needs_chromium
def test_the_clipping_check_sees_a_label_outside_its_plot(tmp_path):
    """The layout check of the browser test can fail: a label moved off the plot is counted."""
    html = render_report([row(model="a_model_with_a_name")], "r1")
    html = html.replace('<text x="', '<text x="-400', 1)
    page = tmp_path / "clipped.html"
    page.write_text(html)
    dom = chromium("--virtual-time-budget=3000", "--dump-dom", page.as_uri())
    assert 'data-clipped="1"' in dom.stdout


@needs_chromium
def test_filters_from_the_address_hide_other_models_everywhere(tmp_path):
    rows = [row(model="alpha"), row(model="beta", target="u", stage="run:y"),
            row(model="beta", target="u", stage="run:z", metric="latency_mean_ms", value=3.0, method="tool-estimate")]
    page = tmp_path / "f.html"
    page.write_text(render_report(rows, "r1"))
    dom = chromium("--virtual-time-budget=3000", "--dump-dom", page.as_uri() + "#model=beta&method=tool-estimate")
    assert console_lines(dom.stderr) == [] and 'data-ready="1"' in dom.stdout
    assert 'data-rows="1"' in dom.stdout  # the table keeps beta's tool estimate only
    assert 'data-hidden-marks="2"' in dom.stdout  # alpha's bar and beta's host bar are hidden
    assert re.search(r'<tr data-model="alpha" hidden="">', dom.stdout)  # and alpha's overview row
