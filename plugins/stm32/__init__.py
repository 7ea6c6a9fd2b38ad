"""ST STM32 plugin: targets ``stm32h7``, ``stm32n6`` (and ``stm32n6_tflite``), ``stm32mp1``,
``stm32mp2``; compilers ``stedgeai`` (ST Edge AI Core, when installed) and ``stm32_footprint``
(the open estimate when it is not); runners ``stm32_validate`` (board over USB),
``stm32mp_board`` (STM32MP over SSH) and ``litert_ref`` (LiteRT reference kernels, for accuracy).

Importing it is cheap (no TensorFlow, no TFLM): the CLI imports every plugin to list them.
docs/stm32.md describes what it records and how each figure is made.
"""

from __future__ import annotations

from pathlib import Path

from zoo_bench.board.inventory import boards_file
from zoo_bench.estimate.component import ModelEstimator
from zoo_bench.estimate.data import EstimatorData
from zoo_bench.plugin import Metric, hookimpl

from .estimate import Stm32FootprintEstimator
from .mpu_runner import Stm32MpBoardRunner
from .reference_models import BUILDERS
from .reference_runner import LiteRtReferenceRunner
from .stedgeai import StedgeaiCompiler
from .targets import ESTIMATOR, stm32_targets
from .validate_runner import Stm32ValidateRunner


def _board_defaults() -> tuple[tuple[str, object], ...]:
    """The boards file, resolved now, so that its content enters the board stages' cache keys."""
    return (("boards", str(Path(boards_file()).resolve())),)


@hookimpl
def zoo_bench_register_compilers(register):
    register(StedgeaiCompiler())
    register(Stm32FootprintEstimator())


@hookimpl
def zoo_bench_register_runners(register):
    register(Stm32ValidateRunner())
    register(Stm32MpBoardRunner())
    register(LiteRtReferenceRunner())
    # Latency and memory estimates fitted on ST's published figures (docs/estimators.md).
    register(ModelEstimator(ESTIMATOR, Path(__file__).with_name("published_points.json")))


@hookimpl
def zoo_bench_register_targets(register):
    for target in stm32_targets(_board_defaults()):
        register(target)


@hookimpl
def zoo_bench_register_metrics(register):
    """The STM32 memory-fit figures (docs/metrics.md, "STM32 memory and NPU figures")."""
    for name, what in (("runtime_ram_kib", "RAM of the runtime library"),
                       ("code_flash_kib", "flash of the runtime's and network's code"),
                       ("total_ram_kib", "RAM the board needs"), ("total_flash_kib", "flash the board needs"),
                       ("internal_ram_kib", "activations in on-chip RAM"),
                       ("external_ram_kib", "activations in external RAM")):
        register(Metric(name, "KiB", "lower", "non-negative", True, "exact", what))
    for name in ("fits_internal_ram", "fits_with_external_ram", "fits_internal_flash", "fits_with_external_flash"):
        register(Metric(name, "bool", "higher", "bool", False, "exact", "1 when the model fits"))
    for name in ("npu_epochs_hw", "npu_epochs_sw"):
        register(Metric(name, "count", "none", "count", False, "exact", "STM32N6 epochs"))


@hookimpl
def zoo_bench_register_commands(cli):
    from .results_table import stm32_group

    cli.add_command(stm32_group)


# --- estimates: the published points, workloads and card figures this plugin ships ---
_HERE = Path(__file__).parent


@hookimpl
def zoo_bench_register_estimator_data(register):
    register(EstimatorData(_HERE / "published_points.json", _HERE / "workloads.json", builders=BUILDERS, name="stm32"))


@hookimpl
def zoo_bench_published_figures():
    return [_HERE / "card_figures.json"]
