"""Typed component options: declared once, next to the component, validated before any stage runs.

A component declares what it reads from ``ctx.options``::

    class VelaCompiler(Compiler):
        options = {
            "config": Option("path", default=None, help="Vela system config .ini"),
            "memory_mode": Option("choice", choices=("imx93", "mainline"), default="imx93", help="..."),
            "runs": Option("int", default=50, min=1, help="timed inferences"),
        }

Values reach the component already parsed (``int``, ``float``, ``bool``, ``str`` or a resolved
path string); an unknown ``-s`` key or a bad value is a :class:`~zoo_bench.errors.UsageError`
(exit 2, one line) raised in the CLI process, before anything runs. ``zoo-bench plugins -v``
prints the same declarations.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import UsageError

OPTION_TYPES = ("int", "float", "bool", "str", "path", "choice")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Option:
    """One option a component reads: its type, default, help and bounds.

    ``type`` is one of :data:`OPTION_TYPES`. ``min``/``max`` bound ``int`` and ``float``
    values (inclusive); ``choices`` lists the values of a ``choice``. A ``path`` must exist
    when ``must_exist`` is true; its value reaches the component as an absolute path string,
    and the file's content (not its name) enters the stage's cache key.
    """

    type: str = "str"
    default: Any = None
    help: str = ""
    choices: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    must_exist: bool = True

    def __post_init__(self) -> None:
        if self.type not in OPTION_TYPES:
            raise ValueError(f"option type {self.type!r} not in {OPTION_TYPES}")
        if self.type == "choice" and not self.choices:
            raise ValueError("a choice option needs choices")

    def parse(self, name: str, value: Any) -> Any:
        """The typed value of ``value`` (a string from the command line or a Python value)."""
        if value is None:
            return None
        try:
            parsed = _PARSERS[self.type](self, value)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"option {name}={value!r}: {exc}") from None
        if self.type in ("int", "float"):
            if self.min is not None and parsed < self.min:
                raise UsageError(f"option {name}={value!r}: must be >= {self.min:g}")
            if self.max is not None and parsed > self.max:
                raise UsageError(f"option {name}={value!r}: must be <= {self.max:g}")
        return parsed

    def describe(self) -> str:
        """``int, default 50, >= 1: timed inferences`` (for ``plugins -v`` and --help)."""
        bits = [self.type if self.type != "choice" else "|".join(self.choices)]
        if self.default is not None:
            bits.append(f"default {self.default}")
        if self.min is not None:
            bits.append(f">= {self.min:g}")
        if self.max is not None:
            bits.append(f"<= {self.max:g}")
        return ", ".join(bits) + (f": {self.help}" if self.help else "")


def _parse_int(opt: Option, value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("expected an integer")
        return int(value)
    text = str(value).strip()
    try:
        return int(text, 10)
    except ValueError:
        raise ValueError("expected an integer") from None


def _parse_float(opt: Option, value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError("expected a number") from None
    if not math.isfinite(number):
        raise ValueError("expected a finite number")
    return number


def _parse_bool(opt: Option, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("expected true or false")


def _parse_str(opt: Option, value: Any) -> str:
    return str(value)


def _parse_path(opt: Option, value: Any) -> str:
    text = str(value)
    if not text or "\x00" in text:
        raise ValueError("expected a path")
    path = Path(text).expanduser()
    try:
        path = path.resolve()
        exists = path.exists()
    except (OSError, RuntimeError) as exc:
        raise ValueError(f"unusable path ({exc.__class__.__name__})") from None
    if opt.must_exist and not exists:
        raise ValueError("no such file or directory")
    return str(path)


def _parse_choice(opt: Option, value: Any) -> str:
    text = str(value)
    if text not in opt.choices:
        raise ValueError(f"expected one of {', '.join(opt.choices)}")
    return text


_PARSERS = {"int": _parse_int, "float": _parse_float, "bool": _parse_bool, "str": _parse_str,
            "path": _parse_path, "choice": _parse_choice}


def as_option(decl: Option | str) -> Option:
    """A declaration as an :class:`Option` (a bare help string declares an untyped ``str``)."""
    return decl if isinstance(decl, Option) else Option("str", help=str(decl))


def declared(component: Any) -> dict[str, Option]:
    """The typed options a component (or component class) declares."""
    return {name: as_option(decl) for name, decl in dict(getattr(component, "options", {}) or {}).items()}


def parse_options(values: Mapping[str, Any], components: Iterable[Any],
                  builtin: Mapping[str, Option] | None = None) -> dict[str, Any]:
    """Check run options against what ``components`` declare, and type them.

    ``builtin`` are options the CLI itself owns (``dataset``, ``boards``...) that need no
    component. An unknown key is a :class:`UsageError` naming close matches and the
    components that take options; a value of the wrong type is one too. Where two
    components declare the same name with different types, the value must parse for each.
    """
    by_name: dict[str, list[tuple[str, Option]]] = {}
    for name, opt in (builtin or {}).items():
        by_name.setdefault(name, []).append(("zoo-bench", opt))
    for comp in components:
        label = component_label(comp)
        for name, opt in declared(comp).items():
            by_name.setdefault(name, []).append((label, opt))
    typed: dict[str, Any] = {}
    for key, value in values.items():
        if key not in by_name:
            close = difflib.get_close_matches(key, list(by_name), n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            owners = sorted({label for decls in by_name.values() for label, _ in decls if label != "zoo-bench"})
            known = f" Components of this run that take options: {', '.join(owners)}" if owners else ""
            raise UsageError(f"unknown option {key!r}{hint}{known} (see `zoo-bench plugins -v`)")
        parsed = [opt.parse(key, value) for _, opt in by_name[key]]
        typed[key] = parsed[0]
    return typed


#: Options the planner itself puts on stages (``p.export(src, fmt)``, ``p.run(..., label=...)``):
#: they reach the component without a declaration.
PLANNER_OPTIONS: dict[str, Option] = {
    "format": Option("str", help="export stages: the format to export to (set by Planner.export)"),
    "label": Option("str", help="run stages: suffix of the stage id (set by Planner.run)"),
}

#: Options the ``zoo-bench run`` command owns (``--dataset``, ``--threads``, ...): known even
#: when no component of the run declares them.
CLI_OPTIONS: dict[str, Option] = {
    "dataset": Option("path", help="class-per-subfolder image folder (--dataset)"),
    "calibration_dataset": Option("path", help="class-per-subfolder images for calibration only "
                                               "(--calibration-dataset)"),
    "threads": Option("int", min=1, max=256, help="runtime threads for host/board runs (--threads)"),
    "runs": Option("int", min=1, help="timed inferences per measurement (--runs)"),
    "warmup": Option("int", min=0, help="untimed inferences before timing (--warmup)"),
    "boards": Option("path", help="board inventory boards.toml (--boards)"),
}


def component_label(component: Any) -> str:
    """``run:litert``: how messages name a component."""
    return f"{getattr(component, 'kind', '')}:{getattr(component, 'name', type(component).__name__)}"


def stage_options(component: Any, target_defaults: Mapping[str, Any], run_options: Mapping[str, Any],
                  plan_options: Mapping[str, Any]) -> dict[str, Any]:
    """The typed options one stage's component sees.

    Declared defaults < the target's defaults < the user's run options < the plan's stage
    options. Only names the component declares pass from the first three, each parsed with
    its declaration (so a ``str`` and an ``int`` declaration of ``runs`` each get their type);
    every name declared with an :class:`Option` is present (``None`` when it has no default). A plan option the
    component does not declare (and that is not one of :data:`PLANNER_OPTIONS`) is the
    plugin's bug: a :class:`UsageError` naming the component.
    """
    decls = declared(component)
    raw = dict(getattr(component, "options", {}) or {})
    # A legacy bare help-string declaration stays absent when unset, so a plugin's
    # ``ctx.options.get(name, default)`` keeps working.
    merged: dict[str, Any] = {name: opt.default for name, opt in decls.items() if isinstance(raw[name], Option)}
    for values in (target_defaults, run_options):
        for key, value in values.items():
            if key in decls and value is not None:
                merged[key] = decls[key].parse(key, value)
    for key, value in plan_options.items():
        if key in decls:
            merged[key] = decls[key].parse(key, value)
        elif key in PLANNER_OPTIONS:
            merged[key] = value
        else:
            raise UsageError(f"the plan sets option {key!r}, which {component_label(component)} does not declare")
    return merged


def check_jobs(jobs: Iterable[Any], component_of: Callable[[Any], Any], values: Mapping[str, Any],
               builtin: Mapping[str, Option] | None = None) -> dict[str, Any]:
    """Validate a run before anything runs; returns the user's options, typed.

    ``jobs`` are planned :class:`~zoo_bench.plan.Job` s and ``component_of(stage_spec)`` the
    registered component serving a stage. A job whose plan names an unknown component or
    passes an option its component does not take (or a bad value, in the plan or in the
    target's defaults) gets ``plan_error`` set: the plugin's fault fails that job only. The
    user's ``values`` are then checked against every component of the run with
    :func:`parse_options` (bad input: :class:`UsageError`).
    """
    components: dict[str, Any] = {}
    for job in jobs:
        if getattr(job, "plan_error", None) or getattr(job, "skip_reason", None):
            continue
        try:
            for spec in job.stages:
                comp = component_of(spec)
                stage_options(comp, dict(job.target.defaults), {}, spec.options_dict())
                components.setdefault(component_label(comp), comp)
        except UsageError as exc:
            job.plan_error = f"stage {spec.id}: {exc}"
    return parse_options(values, components.values(), builtin)


def describe_options(component: Any) -> list[tuple[str, str]]:
    """``[(name, description)]`` of a component's declared options, sorted by name."""
    return [(name, opt.describe()) for name, opt in sorted(declared(component).items())]
