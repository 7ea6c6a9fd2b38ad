"""Hook specifications of zoo-bench: specs only, no implementations.

A plugin is a module (or object) with functions decorated by ``zoo_bench.hookimpl`` whose
names match the specs below. Plugins are found through the ``zoo_bench`` entry-point group,
the built-in ones included. ``docs/plugins.md`` documents every hook with its exact signature;
``tests/framework/test_docs.py`` fails when the two drift.

Registration hooks receive a ``register`` callback and call it once per component; the core
keeps the registry and rejects duplicate names, naming both plugins. Every hook is called
through ``pm.hook`` with pluggy's own semantics (one call per hook, ``tryfirst``/``trylast``
ordering, hook wrappers, tracing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from pathlib import Path

    import click

    from .components import Compiler, ModelSource, ModelSpec, Quantizer, Runner, Target
    from .estimate.data import EstimatorData
    from .metrics import Metric
    from .plan import Job
    from .records import JobResult

hookspec = pluggy.HookspecMarker("zoo_bench")


@hookspec
def zoo_bench_register_model_sources(register: Callable[[ModelSource], None]) -> None:
    """Register model sources.

    :param register: call ``register(source)`` with a :class:`~zoo_bench.components.ModelSource`
        instance for every source this plugin provides. A source lists the models it can build
        (``source.models()``) and builds and exports them.
    """


@hookspec
def zoo_bench_register_quantizers(register: Callable[[Quantizer], None]) -> None:
    """Register quantizers (float model artifact -> int8 artifact).

    :param register: call ``register(quantizer)`` with a
        :class:`~zoo_bench.components.Quantizer` instance for every quantizer provided.
    """


@hookspec
def zoo_bench_register_compilers(register: Callable[[Compiler], None]) -> None:
    """Register compilers (artifact -> target binary plus what the tool reports).

    :param register: call ``register(compiler)`` with a
        :class:`~zoo_bench.components.Compiler` instance for every compiler provided.
    """


@hookspec
def zoo_bench_register_runners(register: Callable[[Runner], None]) -> None:
    """Register runners (run an artifact on a target and measure it).

    :param register: call ``register(runner)`` with a :class:`~zoo_bench.components.Runner`
        instance for every runner provided.
    """


@hookspec
def zoo_bench_register_targets(register: Callable[[Target], None]) -> None:
    """Register targets (a device a model can be benchmarked on).

    :param register: call ``register(target)`` with a :class:`~zoo_bench.components.Target`
        instance: its id, vendor, device class (MCU/NPU/MPU/CPU), clock, memory sizes and
        ``plan()``, the chain of stages a model goes through for it.
    """


@hookspec(firstresult=True)
def zoo_bench_recognize_model(model: str, path: Path | None) -> ModelSpec | None:
    """Which model does this ``--model`` value mean? The first non-``None`` answer wins.

    Asked for a value that is neither a catalog name, a family name nor a glob: a model file
    (``path`` is set) or a name outside every catalog (``mobilenet_v2_0.5_160``). The core's
    ``trylast`` default asks each registered source's ``spec_for_path(path)`` or
    ``spec_for_name(model)``, in registration order; implement this hook (with ``tryfirst=True``
    to go before other plugins) to claim names or files before that.

    :param model: the value as the user typed it.
    :param path: ``Path(model)`` when the value names an existing file, else ``None``.
    :return: the :class:`~zoo_bench.components.ModelSpec` to build, or ``None`` (not ours).
    """


@hookspec
def zoo_bench_job_started(job: Job, run_id: str) -> None:
    """Called in the CLI process when a job (one model on one target) starts.

    :param job: the :class:`~zoo_bench.plan.Job` about to run: model, target and stages.
    :param run_id: the id of the run the job belongs to.
    """


@hookspec
def zoo_bench_job_finished(job: Job, result: JobResult) -> None:
    """Called in the CLI process when a job has ended, whatever its status.

    :param job: the :class:`~zoo_bench.plan.Job` that ran.
    :param result: its :class:`~zoo_bench.records.JobResult`: status and every record row,
        already written to the results store.
    """


@hookspec
def zoo_bench_card_sections(model: str, rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Add sections to a model card (``zoo-bench card``), after the vendor-shaped ones.

    :param model: the model the card is about.
    :param rows: that model's rows of the run the card is made from (dicts of the results
        schema, every target), so a section can show figures the standard tables do not.
    :return: ``(title, markdown body)`` pairs; an empty list adds nothing. Sections are sorted
        by title, so a card stays byte-identical when regenerated from the same rows.
    """


# --- platform (issue 17): commands from plugins ---------------------------------------------


@hookspec
def zoo_bench_register_commands(cli: click.Group) -> None:
    """Add commands to the ``zoo-bench`` command line (as ``llm`` plugins do).

    Called once, when a command line needs its list of commands (``zoo-bench --help``, or a
    command no built-in group holds). Keep the module light: import heavy packages inside the
    command's function, never at module level, so that ``zoo-bench --help`` stays fast.

    :param cli: the ``zoo-bench`` :class:`click.Group`; call ``cli.add_command(command)`` or
        decorate with ``@cli.command()``. A command whose name is taken (built-in or another
        plugin's) is left out with a warning naming the plugin; an implementation that raises
        is reported as one warning line naming the plugin, and the other plugins' commands stay.
    """


# --- hardening: the metric registry (framework/metrics.py) ----------------------------------
@hookspec
def zoo_bench_register_metrics(register: Callable[[Metric], None]) -> None:
    """Register the metrics this plugin's components emit (name, unit, better direction,
    domain of valid values, whether ``compare`` judges it, noise kind).

    A figure of a registered metric outside its domain (a negative size, a NaN latency) fails
    its stage and is never stored or served as ok; ``compare`` judges only metrics registered
    with ``compared=True``. A metric nobody registers must still be finite and is shown as
    informational.

    :param register: call ``register(Metric(...))`` once per metric
        (:class:`~zoo_bench.metrics.Metric`); registering a name again with another meaning is
        refused with a warning.
    """


# --- estimates (issue 17 item 3, issue 20): estimator data and published figures from plugins ---


@hookspec
def zoo_bench_register_estimator_data(register: Callable[[EstimatorData], None]) -> None:
    """Register the published board measurements an estimator is fitted on.

    :param register: call ``register(data)`` with a
        :class:`~zoo_bench.estimate.data.EstimatorData`: the plugin's ``published_points.json``
        (cited figures, the targets they were measured on with their physical bounds, the
        definitions of the models), the cached workloads of those models (``workloads.json``)
        and builders for definitions the core cannot build. ``zoo-bench fidelity``/``fit`` and
        every ``ModelEstimator`` work on what is registered here; nothing is found by path.
    """


@hookspec
def zoo_bench_published_figures() -> list[Path]:
    """Figures vendors published in their model cards, shown beside ours in cards (never fitted on).

    :return: paths of JSON files ``{"source": str, "cards": {card: {"vendor", "title",
        "published_with": {target: str}}}, "figures": [{"card", "model", "dataset", "classes",
        "target", "metric", "value", "unit"}]}``; an empty list adds nothing.
    """


# --- report (issue 17 item 5, issue 21): HTML report sections from plugins ---


@hookspec
def zoo_bench_report_sections(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Add sections to the HTML report (``zoo-bench report``), after the per-layer breakdown.

    :param rows: every row of the runs the report shows (dicts of the results schema, every model
        and target, ``run_id`` telling the runs apart).
    :return: ``(title, HTML body)`` pairs, sorted by title in the page; an empty list adds nothing.
        The body is inserted as HTML: escape every value that comes from rows
        (``markupsafe.escape``), since a results store may hold any text.
    """


# --- toolchains (area: rdk / `zoo-bench toolchain`) ---------------------------------------
if TYPE_CHECKING:
    from .toolchains import ToolchainSpec


@hookspec
def zoo_bench_register_toolchains(register: Callable[[ToolchainSpec], None]) -> None:
    """Declare vendor toolchains that ``zoo-bench toolchain install NAME`` can install.

    :param register: call ``register(spec)`` with a :class:`~zoo_bench.toolchains.ToolchainSpec`
        per toolchain: its name, the CPython version its wheels need, the packages, a pinned
        constraints file and a check command. The toolchain goes into a venv of its own in
        zoo-bench's data folder; the plugin finds it again with
        ``zoo_bench.toolchains.installed_python(name)``.
    """
