"""From ``--model`` and ``--target`` to jobs: name resolution and the stage graph of each job.

A job is one model on one target. Its stages come from the target's ``plan()``, which calls
the :class:`Planner` helpers below; the planner records every stage with its inputs, so the
target returns only the leaves. Stage ids are stable (``export:tflite``,
``quantize:tflite_int8``, ``run:litert:int8``) and the same stage of two jobs has the same
cache key, so a shared export runs once for every target that needs it.
"""

from __future__ import annotations

import difflib
import fnmatch
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .components import ModelSpec, Target
from .errors import UsageError

if TYPE_CHECKING:
    from .plugins import Registry

#: Stage kinds in pipeline order, and the component kind each one is served by.
STAGE_KINDS = {
    "source": "source",
    "export": "source",
    "quantize": "quantize",
    "compile": "compile",
    "run": "run",
    "evaluate": "run",
}

StageRef = str

#: File endings that make a ``--model`` value a path rather than a catalog name.
MODEL_FILE_SUFFIXES = (".h5", ".keras", ".onnx", ".tflite", ".pt", ".pth")


@dataclass(frozen=True)
class StageSpec:
    """One node of a job's stage graph.

    ``component`` names the registered component (of the kind ``STAGE_KINDS[kind]``) that
    serves the stage; ``inputs`` are upstream stage ids; ``options`` are the target's fixed
    choices for this stage (they win over the user's run options); ``variant`` is
    ``float32`` or ``int8`` (anything downstream of a quantize stage is int8).
    """

    id: str
    kind: str
    component: str
    inputs: tuple[str, ...] = ()
    options: tuple[tuple[str, Any], ...] = ()
    variant: str = "float32"
    #: a side branch (e.g. an estimate that needs its own conversion): when it cannot run it is
    #: ``skipped`` with its reason and never fails the job (:func:`side_branch_outcome`)
    side: bool = False

    def options_dict(self) -> dict[str, Any]:
        return dict(self.options)


@dataclass
class Job:
    """One model on one target: the stages to run, in dependency order."""

    model: ModelSpec
    target: Target
    stages: list[StageSpec] = field(default_factory=list)
    skip_reason: str | None = None
    #: set when the target's plan() itself failed: the job becomes one failed ``plan`` stage
    plan_error: str | None = None

    @property
    def id(self) -> str:
        return f"{self.model.name}@{self.target.id}"


class Planner:
    """Helpers a target's ``plan()`` uses to declare its chain of stages.

    ``options`` are the user's run options as given, read-only (``dataset``, ``threads``, ``-s``
    values as strings; the CLI types them against the planned components afterwards):
    a plan may leave out stages that only serve a figure the run will not make (e.g. a float
    export that only the accuracy stage reads, when no ``dataset`` is given).
    """

    def __init__(self, model: ModelSpec, target: Target, options: Mapping[str, Any] | None = None):
        self.model = model
        self.target = target
        self.options: Mapping[str, Any] = MappingProxyType(dict(options or {}))
        self.stages: dict[str, StageSpec] = {}
        self._side: set[str] = set()

    def _add(self, kind: str, component: str, inputs: tuple[str, ...], options: dict[str, Any],
             base_id: str, labelled: bool = False) -> StageRef:
        """Declare a stage; ``labelled``: ``base_id`` carries the plugin's ``label=``, so it is the
        stage's name and a second, different stage of that name is a planning error naming both.
        Two unlabelled stages of one component get a hash suffix on the second one's id."""
        for ref in inputs:
            if ref not in self.stages:
                raise ValueError(f"target {self.target.id}: stage input {ref!r} was not declared")
        variant = "int8" if kind == "quantize" or any(self.stages[i].variant == "int8" for i in inputs) else "float32"
        opts = tuple(sorted(options.items()))
        spec = StageSpec(base_id, kind, component, inputs, opts, variant)
        existing = self.stages.get(base_id)
        if existing is not None and existing != spec:
            if labelled:
                raise ValueError(f"target {self.target.id}: two different stages are named {base_id!r} "
                                 f"({_describe(existing)} and {_describe(spec)}); give each its own label=")
            digest = hashlib.sha256(json.dumps([inputs, opts], default=str).encode()).hexdigest()[:6]
            spec = StageSpec(f"{base_id}:{digest}", kind, component, inputs, opts, variant)
        self.stages[spec.id] = spec
        return spec.id

    def _named(self, kind: str, component: str, inputs: tuple[str, ...], options: dict[str, Any],
               base_id: str) -> StageRef:
        """A stage named ``base_id``, or ``base_id:LABEL`` when the plan passes ``label=LABEL``."""
        label = options.get("label")
        if label is None:
            return self._add(kind, component, inputs, options, base_id)
        return self._add(kind, component, inputs, options, f"{base_id}:{_check_label(self.target.id, label)}",
                         labelled=True)

    def source(self) -> StageRef:
        """Build the model with its source (its native artifact: float, or int8 for a model
        file that holds an int8 model, whose run stages are then labelled int8)."""
        ref = self._add("source", self.model.source, (), {}, "source")
        if self.model.builder_args().get("precision") == "int8":
            self.stages[ref] = replace(self.stages[ref], variant="int8")
        return ref

    def export(self, src: StageRef, fmt: str) -> StageRef:
        """Export the native artifact to ``fmt`` with the model's own source."""
        return self._add("export", self.model.source, (src,), {"format": fmt}, f"export:{fmt}")

    def quantize(self, src: StageRef, quantizer: str, **options: Any) -> StageRef:
        """Quantize ``src``; ``label=NAME`` names the stage ``quantize:QUANTIZER:NAME``."""
        return self._named("quantize", quantizer, (src,), options, f"quantize:{quantizer}")

    def compile(self, src: StageRef, compiler: str, **options: Any) -> StageRef:
        """Compile ``src``; ``label=NAME`` names the stage ``compile:COMPILER:NAME`` (e.g. the float
        and the int8 model through one compiler: ``label="float32"``, ``label="int8"``)."""
        return self._named("compile", compiler, (src,), options, f"compile:{compiler}")

    def run(self, src: StageRef, runner: str, **options: Any) -> StageRef:
        """Run ``src``: the stage is ``run:RUNNER:LABEL``, ``LABEL`` defaulting to the variant."""
        if options.get("label") is not None:
            return self._named("run", runner, (src,), options, f"run:{runner}")
        variant = self.stages[src].variant if src in self.stages else "float32"
        return self._add("run", runner, (src,), options, f"run:{runner}:{variant}")

    def evaluate(self, *srcs: StageRef, evaluator: str = "accuracy", **options: Any) -> StageRef:
        """Accuracy stage over one or more artifacts (float first, then int8)."""
        return self._named("evaluate", evaluator, tuple(srcs), options, f"evaluate:{evaluator}")

    def side_branch(self, leaf: StageRef) -> StageRef:
        """Mark ``leaf`` a side branch: it and the stages only it needs may fail without failing
        the job (they are then ``skipped`` with their reason); the job's main path decides."""
        self._side.add(leaf)
        return leaf

    def ordered(self) -> list[StageSpec]:
        """The stages in insertion order (a valid topological order), side branches marked."""
        side = side_stages(self.stages, self._side)
        return [replace(s, side=True) if s.id in side else s for s in self.stages.values()]


def side_stages(stages: Mapping[str, StageSpec], leaves: set[str]) -> set[str]:
    """The marked side leaves and their ancestors that no other (main-path) stage needs."""
    consumed = {ref for spec in stages.values() for ref in spec.inputs}
    main: set[str] = set()
    for spec in reversed(list(stages.values())):  # consumers before what they consume
        if spec.id in main or (spec.id not in consumed and spec.id not in leaves):
            main.add(spec.id)
            main.update(spec.inputs)
    return {ref for ref in stages if ref not in main}


def side_branch_outcome(results: Mapping[str, Any]) -> None:
    """Turn a failed side-branch stage (``StageResult`` whose ``spec.side``) into ``skipped`` with
    its reason, in place: a side branch that cannot run never fails its job."""
    for result in results.values():
        if getattr(result.spec, "side", False) and result.status == "failed":
            result.status = "skipped"
            result.reason = f"side branch, not run: {result.reason}"


_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}")


def _check_label(target_id: str, label: Any) -> str:
    if not isinstance(label, str) or not _LABEL.fullmatch(label):
        raise ValueError(f"target {target_id}: stage label {label!r} is not a short name "
                         "(letters, digits, '_', '.', '+', '-')")
    return label


def _describe(spec: StageSpec) -> str:
    options = ", ".join(f"{k}={v}" for k, v in spec.options if k != "label")
    inputs = ", ".join(spec.inputs) or "no input"
    return f"{spec.component} <- {inputs}" + (f" [{options}]" if options else "")


def split_patterns(values: str | list[str] | tuple[str, ...]) -> list[str]:
    """``"a,b" ["c"]`` -> ``["a", "b", "c"]``."""
    items = [values] if isinstance(values, str) else list(values)
    return [p.strip() for item in items for p in item.split(",") if p.strip()]


def _no_match(kind: str, pattern: str, choices: list[str], hint: str) -> UsageError:
    close = difflib.get_close_matches(pattern, choices, n=3, cutoff=0.5) if len(pattern) < 200 else []
    maybe = f"; did you mean {', '.join(close)}?" if close else ""
    shown = repr(_short(pattern))
    return UsageError(f"unknown {kind} {shown}{maybe} ({hint})")


def _nonempty(patterns: list[str], flag: str, hint: str) -> list[str]:
    """The patterns of ``flag``; none at all (``-m ''``, ``-m ,``) is a usage error, not an empty run."""
    items = split_patterns(patterns)
    if not items:
        given = ", ".join(repr(p) for p in patterns) or "nothing"
        raise UsageError(f"{flag} names nothing (got {given}); {hint}")
    return items


def resolve_targets(patterns: list[str], registry: Registry) -> list[Target]:
    """Comma lists, globs (``imx*``) and ``all`` -> targets, in the order asked."""
    targets = registry.targets
    chosen: dict[str, Target] = {}
    for pattern in _nonempty(patterns, "--target", "give target ids, globs or 'all' (see `zoo-bench list targets`)"):
        if pattern == "all":
            names = list(targets)
        else:
            names = [t for t in targets if fnmatch.fnmatchcase(t, pattern)]
        if not names:
            raise _no_match("target", pattern, list(targets), "see `zoo-bench list targets`")
        for n in names:
            chosen.setdefault(n, targets[n])
    return list(chosen.values())


def resolve_models(patterns: list[str], registry: Registry, classes: int | None = None,
                   resolution: int | None = None, preprocess: str | None = None) -> list[ModelSpec]:
    """Names, family names (their default variant), globs, ``all`` and model file paths.

    ``resolution`` (``--resolution``) sizes model files whose input height/width is dynamic
    (their spec says resolution 0); without it such a file takes the resolution of the catalog
    model of the same name, or is refused. Models with a fixed size keep theirs.
    ``preprocess`` (``--preprocess``) declares the input contract of the model files.
    A model file is one job of its own: when its stem is a catalog name or another file's
    stem, it is named ``<folder>-<stem>`` (then ``<stem>.<suffix>``, then with a digest).
    """
    catalog = registry.models()
    families: dict[str, list[ModelSpec]] = {}
    for spec in catalog.values():
        families.setdefault(spec.family, []).append(spec)
    chosen: dict[str, ModelSpec] = {}
    hint = "give model names, globs, 'all' or model files (see `zoo-bench list models`)"
    for pattern in _nonempty(patterns, "--model", hint):
        if pattern == "all":
            specs = list(catalog.values())
        elif pattern in catalog:
            specs = [catalog[pattern]]
        elif pattern in families:
            defaults = [s for s in families[pattern] if s.default_in_family] or families[pattern][:1]
            specs = defaults[:1]
        elif any(ch in pattern for ch in "*?["):
            specs = [s for n, s in catalog.items() if fnmatch.fnmatchcase(n, pattern)]
        elif "/" in pattern or Path(pattern).suffix.lower() in MODEL_FILE_SUFFIXES:
            specs = [_distinct_name(registry.model_from_path(Path(pattern)), Path(pattern), chosen, catalog)]
        else:
            named = registry.model_from_name(pattern)
            specs = [named] if named else []
        if not specs:
            choices = list(catalog) + list(families)
            raise _no_match("model", pattern, choices, "see `zoo-bench list models`")
        for s in specs:
            chosen.setdefault(s.name, s)
    models = [_sized(m, resolution, catalog) for m in chosen.values()]
    if preprocess is not None:
        from .builtin.preprocessing import apply_cli

        models = apply_cli(models, preprocess)
    if resolution is not None and not any(m.resolution == 0 for m in chosen.values()):
        raise UsageError(f"--resolution {resolution} sizes model files with a dynamic input height/width; "
                         "no chosen model has one (catalog models and fixed-size files keep their own)")
    if classes is not None:
        from dataclasses import replace

        models = [replace(m, classes=classes, params=None) if m.classes != classes else m for m in models]
    return models


def _distinct_name(spec: ModelSpec, path: Path, chosen: dict[str, ModelSpec],
                   catalog: dict[str, ModelSpec]) -> ModelSpec:
    """``spec`` renamed when its name is taken by a catalog model or by another chosen file."""
    from dataclasses import replace

    def taken(name: str) -> bool:
        other = chosen.get(name)
        return name in catalog or (other is not None and other.builder_args().get("path")
                                   != spec.builder_args().get("path"))

    if not taken(spec.name):
        return spec
    resolved = path.resolve()
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:6]
    for name in (f"{resolved.parent.name}-{spec.name}", f"{spec.name}{resolved.suffix}",
                 f"{resolved.parent.name}-{spec.name}{resolved.suffix}", f"{spec.name}-{digest}"):
        if name and not taken(name):
            return replace(spec, name=name, builder=(*spec.builder, ("stem", spec.name)))
    raise UsageError(f"model file {path} cannot be given a name distinct from the other models")


def _sized(spec: ModelSpec, resolution: int | None, catalog: dict[str, ModelSpec]) -> ModelSpec:
    """A spec with a dynamic input size (resolution 0) given one, never 1x1."""
    if spec.resolution:
        return spec
    stem = spec.builder_args().get("stem", spec.name)
    size = resolution or (catalog[stem].resolution if stem in catalog else None)
    if not size:
        raise UsageError(f"model {spec.name!r}: its input height/width is dynamic; give --resolution N "
                         "(e.g. --resolution 224)")
    from dataclasses import replace

    pre = replace(spec.preprocess, resize=size, crop=size) if spec.preprocess else None
    return replace(spec, resolution=size, preprocess=pre)


def check_boards_file(boards: Path | None, registry: Registry) -> None:
    """A boards file named by ``--boards`` (or ``$ZOO_BENCH_BOARDS``) must exist and name only
    targets an installed plugin provides; the default ``./boards.toml`` is left to the board plugins."""
    import os

    from .board.inventory import BOARDS_ENV, load_boards

    if boards is not None:
        path, flag = Path(boards), "--boards"
    elif os.environ.get(BOARDS_ENV):
        path, flag = Path(os.environ[BOARDS_ENV]).expanduser(), f"${BOARDS_ENV}"
    else:
        return
    try:
        problem = None if path.is_file() else "is not a file" if path.exists() else "does not exist"
    except OSError as exc:  # e.g. a name too long
        problem = f"cannot be read: {exc.strerror}"
    if problem:
        raise UsageError(f"boards file {_short(str(path))} ({flag}) {problem}")
    for board in load_boards(path).values():
        if board.target not in registry.targets:
            raise UsageError(f"{path}: board {board.id!r} names target {board.target!r}, which no installed "
                             f"plugin provides (known targets: {', '.join(sorted(registry.targets))})")


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else f"{text[:limit // 2]}...{text[-limit // 2:]}"


def plan_jobs(models: list[ModelSpec], targets: list[Target],
              options: Mapping[str, Any] | None = None) -> list[Job]:
    """The cross product models x targets, each with its stage graph; ``options`` are the run
    options, which every plan sees read-only (:attr:`Planner.options`)."""
    jobs = []
    for target in targets:
        for model in models:
            job = Job(model, target)
            reason = target.supports(model)
            if reason:
                job.skip_reason = reason
            else:
                planner = Planner(model, target, options)
                try:
                    target.plan(model, planner)
                    job.stages = planner.ordered()
                except Exception as exc:  # a plugin's bug or refusal must not stop the other jobs
                    job.plan_error = f"{type(exc).__name__}: {exc}" if not isinstance(exc, UsageError) else str(exc)
            jobs.append(job)
    return jobs
