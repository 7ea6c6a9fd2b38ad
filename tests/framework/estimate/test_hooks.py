"""Estimator data and card figures come from plugins through hooks (issue 17 item 3): the core's
estimate package holds no vendor content and works on whatever plugins register."""

from __future__ import annotations

import json
import re
from pathlib import Path

from zoo_bench import hookimpl
from zoo_bench.estimate.build_workloads import WorkloadFiles
from zoo_bench.estimate.data import EstimatorData, load_workloads, points_files, registered_data, workloads_files
from zoo_bench.estimate.estimators import fit_all
from zoo_bench.plugins import load_registry
from zoo_bench.reports.published import figure_files, merge_figure_files

from .conftest import synthetic_points

FRAMEWORK = Path(__file__).resolve().parents[3] / "framework"
VENDOR_WORDS = re.compile(r"stm32|imx|i\.mx|nxp|rdk|\bst\b|ethos|vela|d-robotics|horizon|neural-art", re.I)


def test_no_vendor_content_in_the_estimate_package_or_published_figures():
    files = [*sorted((FRAMEWORK / "estimate").glob("*")), *sorted((FRAMEWORK / "reports").glob("published*"))]
    assert files
    for f in files:
        if f.suffix == ".json":  # data: no vendor target or baseline in it
            data = json.loads(f.read_text())
            assert not any(e.get("baselines") for e in data.get("models", {}).values()), f
            continue
        if f.suffix != ".py":
            continue
        code = [line.split("#")[0] for line in f.read_text().splitlines()]
        text = re.sub(r'"""[\s\S]*?"""', "", "\n".join(code))  # docstrings and comments may name vendors
        assert not VENDOR_WORDS.search(text), (f, VENDOR_WORDS.search(text))


def test_the_vendor_plugins_register_their_data():
    registered = {d.name: d for d in registered_data(load_registry())}
    assert {"stm32", "nxp_imx", "rdk_x5"} <= set(registered)
    assert all(d.points.is_file() and d.workloads and d.workloads.is_file() for d in registered.values())
    assert "mnist_dwsep" in registered["stm32"].builders  # a builder the core does not know
    figures = merge_figure_files(figure_files(load_registry()))
    assert any(f["model"] == "resnet50_v2_224" and f["target"] == "stm32h7" for f in figures["figures"])


def test_a_third_party_plugin_registers_points_and_gets_a_fidelity(tmp_path):
    pfile, wfile = synthetic_points(tmp_path, n=10, noise=0.03)

    class ThirdParty:
        @hookimpl
        def zoo_bench_register_estimator_data(self, register):
            register(EstimatorData(pfile, wfile, name="third"))

        @hookimpl
        def zoo_bench_published_figures(self):
            return [cards]

    cards = tmp_path / "cards.json"
    cards.write_text(json.dumps({"source": "Board 1 card", "cards": {"c1": {"vendor": "Acme", "title": "Net"}},
                                 "figures": [{"card": "c1", "model": "net3", "dataset": "d", "classes": 10,
                                              "target": "board1", "metric": "latency_mean_ms", "value": 3.0,
                                              "unit": "ms"}]}))
    registry = load_registry(extra_plugins=[("third", ThirdParty())], entry_points=False)
    assert points_files(registry) == [pfile]
    published = merge_figure_files(figure_files(registry))
    assert published["source"] == "Board 1 card" and published["figures"][0]["value"] == 3.0
    assert wfile in workloads_files(registry)
    (tf,) = fit_all(points_files(registry), workloads_file=wfile)
    assert tf.model.target == "board1" and len(tf.model.groups) == 10


def test_build_workloads_writes_each_entry_where_it_belongs(tmp_path):
    core, mine, theirs = tmp_path / "core.json", tmp_path / "mine.json", tmp_path / "theirs.json"
    sink = WorkloadFiles({"net": mine}, {"board_t": theirs}, None)
    import zoo_bench.estimate.build_workloads as bw

    entry = {"definition": {"builder": "x"}, "workload": {"macs": {}}, "baselines": {"board_t": {"latency_mean_ms": 2}}}
    old = bw.WORKLOADS_FILE
    bw.WORKLOADS_FILE = core
    try:
        sink.save("net", entry, "test")
        sink.save("cat", {"definition": {"builder": "catalog"}, "workload": {"macs": {}}, "baselines": {}}, "test")
    finally:
        bw.WORKLOADS_FILE = old
    assert json.loads(mine.read_text())["models"]["net"]["baselines"] == {}
    assert json.loads(theirs.read_text())["models"]["net"] == {"baselines": {"board_t": {"latency_mean_ms": 2}}}
    assert "cat" in json.loads(core.read_text())["models"]
    merged = load_workloads([mine, theirs])
    assert merged["net"]["baselines"] == {"board_t": {"latency_mean_ms": 2}} and "workload" in merged["net"]
