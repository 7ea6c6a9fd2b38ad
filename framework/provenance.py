"""Provenance by construction: the method of a figure follows from what its component is and
what its stage holds, not from a free string a plugin sets.

Each component kind declares the method of its own figures (``Component.provenance``):

- ``Runner``: ``measured-host``: it holds this host's CPUs alone while it times;
- ``SshBoardRunner`` (any runner whose stage occupies a board, ``board-<id>``): ``measured-board``;
- ``Compiler``: ``tool-estimate``: the vendor tool's own report;
- ``Estimator``: ``model-estimate``: a model fitted on published figures (it claims the host
  shared, like a conversion: it times nothing);
- ``ModelSource``, ``Quantizer``: ``measured-host``: counts and sizes of what they wrote here.

The worker checks every figure a stage returns against what the stage is (:func:`check_figures`),
and a figure that claims more than that fails the stage with the reason:

- ``measured-board`` only from a stage that occupies a board (a plugin claiming it from a
  component that holds no board is refused), and a component whose ``provenance`` is
  ``measured-board`` must occupy one;
- a ``measured-host`` timing (a figure in ms, s, us or 1/s) only from a stage that holds the host
  exclusively (a runner that times here; never an estimator, a conversion or a board stage);
  counts and sizes measured here (``model_size_kib``, ``params``, accuracy) come from any stage;
- ``tool-estimate`` only from a component whose ``provenance`` is it (a compiler's report);
- ``model-estimate``, the weakest claim, from any component (a source's analytic MAC count).

A cached figure keeps its method and its row says ``cached = true`` (:mod:`.rows` adds
``extra.measured_in_run`` when the cache entry knows the run that measured it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .components import Component, Figure

BOARD_PREFIX = "board-"
#: Units of a timing: a ``measured-host`` figure in one of them needs the host held exclusively.
TIMING_UNITS = frozenset({"ms", "s", "us", "1/s"})


def figure_problem(component: Component, fig: Figure, device: str, exclusive: bool) -> str | None:
    """Why ``fig`` may not come from this stage, or ``None`` (see the module docstring)."""
    name = f"{component.kind or 'component'} {component.name}"
    if fig.method == "measured-board" and not device.startswith(BOARD_PREFIX):
        return (f"{name} returned a measured-board figure ({fig.metric}) but its stage occupies no board "
                "(declare the board: a `board`/`boards` option, or override device())")
    if fig.method == "tool-estimate" and component.provenance != "tool-estimate":
        return (f"{name} returned a tool-estimate figure ({fig.metric}) but it is no tool's report "
                f"(its provenance is {component.provenance}; a compiler's report is tool-estimate)")
    if fig.method == "measured-host" and fig.unit in TIMING_UNITS and not (device == "host" and exclusive):
        return (f"{name} returned a measured-host timing ({fig.metric}, {fig.unit}) but its stage does not hold "
                "this host alone (only a runner that times here does; an estimate is model-estimate)")
    return None


def check_figures(component: Component, figures: Iterable[Figure], device: str, exclusive: bool) -> str | None:
    """The first provenance problem of a stage's figures (a one-line stage reason), or ``None``."""
    if component.provenance == "measured-board" and not device.startswith(BOARD_PREFIX):
        return (f"{component.kind} {component.name} says it measures on a board (provenance measured-board) but "
                "its stage occupies none (declare a `board`/`boards` option, or override device())")
    for fig in figures:
        problem = figure_problem(component, fig, device, exclusive)
        if problem:
            return problem
    return None
