"""Provenance by construction (framework/provenance.py): a figure's method follows from what its
component is and what its stage holds; a figure that claims more fails the stage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from zoo_bench import Compiler, Estimator, Figure, ModelSpec, Quantizer, Runner, StageOutput, Target
from zoo_bench.board.session import BOARD_SELECTION, SshBoardRunner
from zoo_bench.estimate.component import ModelEstimator
from zoo_bench.provenance import check_figures
from zoo_bench.resources import stage_device
from zoo_bench.testing import run_stage
from zoo_bench_stm32.validate_runner import Stm32ValidateRunner

from tests.conftest import run_cli
from tests.framework.test_harness import rows

TARGET = Target(id="t93", vendor="test", device_class="NPU")
MODEL = ModelSpec(name="m", source="test", family="m", resolution=8, native_format="npy")


def figure(method: str, unit: str = "ms", metric: str = "latency_mean_ms") -> Figure:
    return Figure(metric, 1.0, unit, method, "tool", "1")


class HostTimer(Runner):
    name = "host_timer"


class BoardClaimer(Runner):
    """Claims board figures but declares no board: refused."""

    name = "board_claimer"

    def run(self, ctx):
        return StageOutput(figures=[figure("measured-board")])


class Board(SshBoardRunner):
    name = "a_board"
    options = dict(BOARD_SELECTION)


class Conversion(Quantizer):
    name = "conv"


class Tool(Compiler):
    name = "tool"


class Fitted(Estimator):
    name = "fitted"


def problem(component, method, unit="ms", options=None):
    device, exclusive = stage_device(component, TARGET, options or {})
    return check_figures(component, [figure(method, unit)], device, exclusive)


def test_each_kind_claims_what_it_does():
    assert (HostTimer.provenance, Board.provenance, Tool.provenance, Fitted.provenance) == (
        "measured-host", "measured-board", "tool-estimate", "model-estimate")
    assert Tool().figure("sram_kib", 3.0, "KiB", "vela", "4.1").method == "tool-estimate"
    assert problem(HostTimer(), "measured-host") is None
    assert problem(Board(), "measured-board") is None
    assert problem(Tool(), "tool-estimate") is None
    assert problem(Tool(), "measured-host", unit="KiB") is None  # the size of what it wrote here
    assert problem(Fitted(), "model-estimate") is None
    assert problem(Conversion(), "model-estimate", unit="count") is None  # the weakest claim: always allowed


@pytest.mark.parametrize("component, method, unit, fragment", [
    (HostTimer(), "measured-board", "ms", "occupies no board"),
    (Tool(), "measured-board", "ms", "occupies no board"),
    (HostTimer(), "tool-estimate", "ms", "no tool's report"),
    (Fitted(), "measured-host", "ms", "does not hold this host alone"),
    (Conversion(), "measured-host", "1/s", "does not hold this host alone"),
    (Board(), "measured-host", "ms", "does not hold this host alone"),
])
def test_a_figure_claiming_more_than_its_stage_is_refused(component, method, unit, fragment):
    assert fragment in (problem(component, method, unit) or "")


def test_a_board_provenance_without_a_board_is_refused():
    class NoBoard(Runner):
        name = "no_board"
        provenance = "measured-board"

    assert "occupies none" in problem(NoBoard(), "measured-board")


def test_run_stage_refuses_a_plugin_claiming_measured_board_without_a_board(tmp_path):
    with pytest.raises(AssertionError, match="board_claimer returned a measured-board figure"):
        run_stage(BoardClaimer(), MODEL, tmp_path, target=TARGET)


def test_estimators_do_not_claim_the_host():
    assert stage_device(Fitted(), TARGET, {}) == ("host", False)
    assert stage_device(ModelEstimator("e", points=Path("points.json")), TARGET, {}) == ("host", False)
    assert stage_device(HostTimer(), TARGET, {}) == ("host", True)


def test_stm32_validate_occupies_its_board():
    """Without a board device the Dask executor could send it to any worker."""
    h7 = Target(id="stm32h7", vendor="st", device_class="MCU")
    assert stage_device(Stm32ValidateRunner(), h7, {}) == ("board-stm32h7", True)
    assert stage_device(Stm32ValidateRunner(), h7, {"board": "nucleo-1"}) == ("board-nucleo-1", True)
    assert problem(Stm32ValidateRunner(), "measured-board") is None


def test_a_cached_figure_says_the_run_that_measured_it(tmp_path, zb_env):
    out = tmp_path / "out"
    args = ["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(out), "--json", "-q"]
    first = json.loads(run_cli(args, env=zb_env).stdout)
    second = json.loads(run_cli(args, env=zb_env).stdout)
    assert first["jobs"][0]["cached"] == []
    assert set(second["jobs"][0]["cached"]) == set(second["jobs"][0]["stages"])  # the JSON summary says it
    again = [r for r in rows(out) if r["run_id"] == second["run_id"] and r["metric"] == "latency_p50_ms"]
    assert again and all(r["cached"] for r in again)
    assert {json.loads(r["extra"])["measured_in_run"] for r in again} == {first["run_id"]}
    assert all(r["method"] == "measured-host" for r in again)


def test_dask_places_every_board_stage_of_a_plan_on_its_boards_worker(tmp_path):
    """stm32_validate included: before it declared no board, so any worker could take it."""
    pytest.importorskip("distributed")
    from zoo_bench.dask_executor import DaskExecutor
    from zoo_bench.plan import plan_jobs, resolve_models
    from zoo_bench.plugins import load_registry
    from zoo_bench.stage_runner import ExecutionOptions
    from zoo_bench.store import ResultsStore

    registry = load_registry()
    models = resolve_models(["mobilenet_v2_0.35_128"], registry)
    targets = [registry.targets[t] for t in ("stm32h7", "stm32mp1", "imx93", "cpu") if t in registry.targets]
    executor = DaskExecutor(registry, ResultsStore(tmp_path / "out"), ExecutionOptions(cache_dir=tmp_path / "c"))
    placed = {}
    for job in plan_jobs(models, targets):
        for spec in job.stages:
            placed[(job.target.id, spec.component)] = executor.resources_of(job, spec)
    assert placed[("stm32h7", "stm32_validate")] == {"board-stm32h7": 1}
    assert placed[("stm32mp1", "stm32mp_board")] == {"board-stm32mp1": 1}
    assert placed[("imx93", "imx_board")] == {"board-imx93": 1}
    assert placed[("imx93", "imx_estimate")] is None  # an estimate needs no board (and holds the host shared)
