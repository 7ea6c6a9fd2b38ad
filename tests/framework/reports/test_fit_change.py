"""compare sees fit changes (issue 19, item 5): an H7 model whose RAM crosses the internal RAM."""

from __future__ import annotations

import json
from pathlib import Path

from zoo_bench.records import Record
from zoo_bench.reports.fit_change import FIT_CHANGE, fit_changes, judge_fit
from zoo_bench.store import ResultsStore

from tests.conftest import run_cli

INTERNAL_KIB = 992.0


def _rows(ram_kib: float, latency_ms: float, macs: float, params: float) -> list[Record]:
    """The rows the STM32 footprint and estimate stages write for one model on stm32h7."""
    common = dict(model="mynet", target="stm32h7", vendor="ST", variant="int8", resolution=128, classes=3,
                  weights="user", status="ok")
    fits = ram_kib <= INTERNAL_KIB
    verdict = {"verdict": "fits internal" if fits else "needs external", "need_kib": ram_kib,
               "internal_kib": INTERNAL_KIB, "external_kib": 32768.0}
    fig = dict(stage="compile:stm32_footprint", stage_kind="compile", method="model-estimate", tool="tflm", **common)
    return [
        Record(metric="macs", value=macs, unit="count", stage="source", stage_kind="source", method="model-estimate",
               tool="keras", **{**common, "variant": "float32"}),
        Record(metric="params", value=params, unit="count", stage="source", stage_kind="source",
               method="measured-host", tool="keras", **{**common, "variant": "float32"}),
        Record(metric="total_ram_kib", value=ram_kib, unit="KiB", **fig),
        Record(metric="fits_internal_ram", value=float(fits), unit="bool", extra=json.dumps(verdict), **fig),
        Record(metric="fits_with_external_ram", value=1.0, unit="bool", extra=json.dumps(verdict), **fig),
        Record(metric="latency_mean_ms", value=latency_ms, unit="ms", stage="run:stm32_estimate:estimate",
               stage_kind="run", method="model-estimate", tool="zoo-bench-estimate", **common),
    ]


def _store_with_two_runs(out: Path) -> list[str]:
    store, ids = ResultsStore(out), []
    for rows in (_rows(730.0, 127.0, 12.1e6, 1.2e6), _rows(1450.0, 217.0, 24.5e6, 2.3e6)):
        run_id = store.new_run({"argv": ["zoo-bench", "run"], "models": ["mynet"], "targets": ["stm32h7"]})
        for r in rows:
            r.run_id, r.job_id = run_id, "mynet@stm32h7"
        store.write_job(run_id, "mynet@stm32h7", rows)
        store.update_manifest(run_id, status="finished")
        ids.append(run_id)
    return ids


def test_a_verdict_flip_is_its_own_class_judged_whatever_the_threshold():
    assert judge_fit(1.0, 0.0) == FIT_CHANGE and judge_fit(0.0, 1.0) == "improvement" and judge_fit(1.0, 1.0) == "same"
    from dataclasses import asdict

    base = [asdict(r) for r in _rows(730.0, 127.0, 12.1e6, 1.2e6)]
    new = [asdict(r) for r in _rows(1450.0, 217.0, 24.5e6, 2.3e6)]
    (change,) = fit_changes(base, new)
    assert change.worse
    assert change.headline == ("stm32h7: RAM 730 -> 1,450 KiB, now needs external RAM; latency model est. "
                               "127 -> 217 ms; likely cause: MACs 12.1M -> 24.5M, params 1.2M -> 2.3M")
    assert fit_changes(base, base) == []


def test_compare_exits_1_with_the_fit_change_first_even_with_a_huge_memory_threshold(tmp_path, zb_env):
    out = tmp_path / "out"
    base, new = _store_with_two_runs(out)
    proc = run_cli(["compare", "-o", str(out), base, new, "--memory-threshold", "1000", "--latency-threshold",
                    "1000"], env=zb_env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[1].startswith("FIT CHANGE stm32h7: RAM 730 -> 1,450 KiB, now needs external RAM")
    table = [ln for ln in lines if ln.startswith("mynet")]
    assert "fits_internal_ram" in table[0] and "fit change" in table[0]  # the first row of the table
    report = json.loads(run_cli(["compare", "-o", str(out), base, new, "--memory-threshold", "1000", "--json"],
                                env=zb_env).stdout)
    assert report["failed"] and report["changes"][0]["verdict"] == FIT_CHANGE
    assert report["fit_changes"][0]["worse"]
