"""NXP i.MX plugin: targets ``imx93`` (Ethos-U65 through Vela) and ``imx8mp`` (VIP8000 through
the VX delegate), the ``vela`` compiler and the ``imx_board`` runner (real boards over SSH).

Importing it is cheap (no Vela, no TensorFlow): the CLI imports every plugin to list them.
docs/nxp_imx.md describes what it records; docs/boards.md how to declare boards.
"""

from __future__ import annotations

from pathlib import Path

from zoo_bench.board.inventory import boards_file
from zoo_bench.estimate.component import ModelEstimator
from zoo_bench.estimate.data import EstimatorData
from zoo_bench.plugin import hookimpl

from .board_runner import ImxBoardRunner
from .reference_models import BUILDERS
from .targets import ESTIMATOR, imx_targets
from .vela import VelaCompiler


def _board_defaults() -> tuple[tuple[str, object], ...]:
    """The boards file, resolved now, as a default run option: its path (and, through the
    harness's fingerprint of option paths, its content) enters the board stages' cache keys."""
    return (("boards", str(Path(boards_file()).resolve())),)


@hookimpl
def zoo_bench_register_compilers(register):
    register(VelaCompiler())


@hookimpl
def zoo_bench_register_runners(register):
    register(ImxBoardRunner())
    # Latency estimates fitted on the eIQ zoo's published board figures (docs/estimators.md).
    register(ModelEstimator(ESTIMATOR, Path(__file__).with_name("published_points.json"),
                            "i.MX NPU latency estimated from eIQ model zoo measurements (i.MX 93: Vela corrected)"))


@hookimpl
def zoo_bench_register_targets(register):
    for target in imx_targets(_board_defaults()):
        register(target)


# --- estimates: the published points, workloads and card figures this plugin ships ---
_HERE = Path(__file__).parent


@hookimpl
def zoo_bench_register_estimator_data(register):
    register(EstimatorData(_HERE / "published_points.json", _HERE / "workloads.json", builders=BUILDERS,
                           name="nxp_imx"))


@hookimpl
def zoo_bench_published_figures():
    return [_HERE / "card_figures.json"]
