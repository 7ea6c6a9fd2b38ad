"""Base classes of the four component kinds, the target, and the values they exchange.

Nothing here imports a heavy framework: component modules import tensorflow, torch or a
vendor SDK inside the methods that need them, so that ``zoo-bench --help`` stays fast.

Data flow of one stage: the harness hands a component a :class:`StageContext` (the model,
the target, the stage's options, its upstream artifacts and a scratch directory) and the
component returns a :class:`StageOutput` (an :class:`Artifact` and a list of
:class:`Figure`). The harness caches the output, turns figures into result rows, and never
lets an exception escape: failures become ``failed`` rows, :class:`ToolUnavailable` becomes
``skipped``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import numpy as np

    from .options import Option
    from .plan import Planner, StageRef
    from .plugins import Registry

#: How a figure was obtained. Every number zoo-bench records carries one of these.
METHODS = ("measured-host", "measured-board", "tool-estimate", "model-estimate")
DEVICE_CLASSES = ("MCU", "NPU", "MPU", "CPU")


@dataclass(frozen=True)
class Preprocess:
    """How an image becomes the model's float input (applied in this order).

    ``resize`` is the short side before the centre crop to ``crop``; pixel values in [0, 255]
    become ``(x - mean) / std`` per channel; ``layout`` is NHWC or NCHW.
    A model without one (``ModelSpec.preprocess`` None) has declared none: the accuracy and
    calibration stages refuse it instead of guessing.
    """

    resize: int
    crop: int
    mean: tuple[float, float, float] = (127.5, 127.5, 127.5)
    std: tuple[float, float, float] = (127.5, 127.5, 127.5)
    layout: str = "NHWC"
    interpolation: str = "bilinear"
    #: ``RGB`` or ``BGR``: the channel order the model takes (images are read as RGB)
    channel_order: str = "RGB"
    #: who declared this contract: ``catalog``, the model file (``keras Rescaling ...``),
    #: ``--preprocess``, or a config file beside the model (docs/models.md, "Preprocessing")
    declared_by: str = "catalog"


@dataclass(frozen=True)
class ModelSpec:
    """One buildable model of a source's catalog (like timm's ``PretrainedCfg``).

    ``name`` is what users type (``mobilenet_v2_0.35_128``); ``family`` groups variants
    (``mobilenet_v2``) and ``default_in_family`` marks the one a bare family name selects.
    ``params`` and ``macs`` are catalog figures for listing (the measured ones come from the
    build stage). ``builder`` holds source-specific arguments (alpha, timm name, ...).
    """

    name: str
    source: str
    family: str
    resolution: int
    native_format: str
    classes: int = 1000
    params: int | None = None
    macs: int | None = None
    weights: str = "random"
    preprocess: Preprocess | None = None
    builder: tuple[tuple[str, Any], ...] = ()
    description: str = ""
    default_in_family: bool = False

    def builder_args(self) -> dict[str, Any]:
        return dict(self.builder)

    @property
    def input_shape(self) -> tuple[int, ...]:
        layout = self.preprocess.layout if self.preprocess else str(dict(self.builder).get("layout", "NHWC"))
        r = self.resolution
        return (1, 3, r, r) if layout == "NCHW" else (1, r, r, 3)


@dataclass
class Artifact:
    """A file a stage produced: a model in some format, with facts about it.

    ``format`` is e.g. ``keras``, ``onnx``, ``tflite``, ``vela-tflite``; ``precision`` is
    ``float32`` or ``int8``. ``meta`` carries what later stages need (input dtype, weights
    ``pretrained``/``random``, ...). ``files`` names side files kept with it (reports, CSVs).
    """

    path: Path
    format: str
    precision: str = "float32"
    meta: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

    def sha256(self) -> str:
        return file_sha256(self.path)


@dataclass
class Figure:
    """One number with its provenance; becomes one result row.

    ``method`` is one of :data:`METHODS`; ``tool`` and ``tool_version`` say what produced it.
    ``samples`` keeps raw measurements (latency per run). ``extra`` holds small facts that
    qualify the number (threads, number of images, config name) and is stored as JSON.
    """

    metric: str
    value: float | None
    unit: str
    method: str
    tool: str
    tool_version: str
    samples: list[float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"figure {self.metric}: method {self.method!r} not in {METHODS}")


@dataclass
class StageOutput:
    """What a component returns: an artifact (or ``None`` for run stages) and figures."""

    artifact: Artifact | None = None
    figures: list[Figure] = field(default_factory=list)


@dataclass
class StageContext:
    """Everything a component may use while running one stage.

    ``inputs`` maps upstream stage ids to their artifacts, in the order the plan gave them
    (``ctx.input`` is the first one). ``options`` are the stage's options merged over the
    run's (threads, runs, warmup, dataset, ...). ``workdir`` is an empty directory the
    component writes its outputs into. ``registry`` gives access to other components
    (an evaluator asks it for a runner).
    """

    model: ModelSpec
    target: Target
    stage_id: str
    options: dict[str, Any]
    inputs: dict[str, Artifact]
    workdir: Path
    registry: Registry | None = None

    @property
    def input(self) -> Artifact:
        if not self.inputs:
            raise ValueError(f"stage {self.stage_id} has no input artifact")
        return next(iter(self.inputs.values()))

    def log(self, message: str) -> None:
        """Progress text for the stage's log (shown with --verbose, kept on failure)."""
        print(f"[{self.stage_id}] {message}", flush=True)


class Component:
    """Common face of model sources, quantizers, compilers and runners.

    Subclasses set ``name`` (unique within their kind) and may override
    :meth:`tool_versions` (part of every cache key and of every row) and
    :meth:`unavailable_reason` (checked in the CLI process before a stage is started, so it
    must be cheap: ``shutil.which``, ``importlib.util.find_spec``).
    """

    kind: ClassVar[str] = ""
    name: ClassVar[str] = ""
    #: Options the component reads from ``ctx.options``: name -> :class:`~zoo_bench.options.Option`
    #: (type, default, help, bounds). Only these (and the plan's stage options) reach it, typed,
    #: and only these are part of its stages' cache keys. A bare help string declares a ``str``.
    options: ClassVar[dict[str, Option | str]] = {}
    #: Outputs depend on the machine (timings): the cache key then includes the host.
    host_dependent: ClassVar[bool] = False
    #: The stage times something: it holds its device alone while it runs (``resources.py``).
    measures: ClassVar[bool] = False
    #: How this component's own figures are obtained, by what it is (one of :data:`METHODS`):
    #: the worker refuses a figure that claims more (:mod:`zoo_bench.provenance`).
    provenance: ClassVar[str] = "measured-host"
    #: Peak memory of the stage's process in MiB (0: small); the local executor starts no more
    #: stages at once than fit in the machine's memory.
    peak_memory_mb: ClassVar[int] = 0

    def tool_versions(self) -> dict[str, str]:
        """Versions of the tools this component drives, e.g. ``{"vela": "5.2.0"}``."""
        return {}

    def input_files(self, options: dict[str, Any]) -> list[Path]:
        """Files this component reads besides its input artifacts (a config .ini it uses by
        default, a board inventory): the framework hashes their content into the cache key."""
        return []

    def unavailable_reason(self, target: Target | None = None, options: dict[str, Any] | None = None) -> str | None:
        """``None`` when the component can run here, else why not (becomes a skip reason).

        ``options`` are the stage's merged options (a board runner looks up its board there).
        """
        return None

    def device(self, target: Target | None, options: dict[str, Any] | None = None) -> str | None:
        """The device a stage of this component occupies besides the host: ``board-<id>`` for a
        component with a ``board``/``boards`` option (the board named, else the target's), else
        ``None``. Cheap, no I/O: it is called in the controlling process to schedule."""
        if "board" not in self.options and "boards" not in self.options:
            return None
        board = str((options or {}).get("board") or "").split(",")[0].strip()
        return f"board-{board or (target.id if target else 'unknown')}"

    def figure(self, metric: str, value: float | None, unit: str, tool: str, tool_version: str, *,
               samples: list[float] | None = None, extra: dict[str, Any] | None = None) -> Figure:
        """A :class:`Figure` whose method is this component's ``provenance``."""
        return Figure(metric, value, unit, self.provenance, tool, tool_version, samples=samples,
                      extra=dict(extra or {}))

    def describe(self) -> str:
        return (self.__doc__ or "").strip().splitlines()[0] if self.__doc__ else ""


class ModelSource(Component):
    """Lists models and builds them (``source`` stage) and exports them (``export`` stage)."""

    kind = "source"
    #: Formats :meth:`export` can produce from this source's native artifact.
    export_formats: ClassVar[tuple[str, ...]] = ()

    def models(self) -> Iterable[ModelSpec]:
        raise NotImplementedError

    def spec_for_name(self, name: str) -> ModelSpec | None:
        """A model outside the catalog that this source can still build by name
        (``mobilenet_v2_0.5_160``), or ``None``."""
        return None

    def spec_for_path(self, path: Path) -> ModelSpec | None:
        """A :class:`ModelSpec` for a model file given as ``--model``, or ``None`` if not ours."""
        return None

    def build(self, model: ModelSpec, ctx: StageContext) -> StageOutput:
        """Build the float model, save it in ``model.native_format`` under ``ctx.workdir``."""
        raise NotImplementedError

    def export(self, fmt: str, ctx: StageContext) -> StageOutput:
        """Convert ``ctx.input`` (the native artifact) to ``fmt`` (e.g. float ``tflite``)."""
        raise NotImplementedError(f"{self.name} cannot export to {fmt}")

    def load_native(self, artifact: Artifact, model: ModelSpec) -> Any:
        """The in-memory model of a native artifact this source built.

        Required of a source whose native format is ``torch``: return the eval-mode
        ``torch.nn.Module`` (taking ``model.input_shape``). The built-in ``tflite_int8``
        quantizer calls it to convert a torch model it did not build (see
        :data:`zoo_bench.formats.FORMATS`).
        """
        raise NotImplementedError(f"model source {self.name} cannot load its native artifacts")


class Quantizer(Component):
    """Float artifact -> int8 artifact (``quantize`` stage)."""

    kind = "quantize"
    accepts: ClassVar[tuple[str, ...]] = ()
    produces: ClassVar[str] = ""

    def quantize(self, ctx: StageContext) -> StageOutput:
        raise NotImplementedError


class Compiler(Component):
    """Artifact -> target binary plus the figures the tool reports (``compile`` stage)."""

    kind = "compile"
    accepts: ClassVar[tuple[str, ...]] = ()
    provenance = "tool-estimate"

    def compile(self, ctx: StageContext) -> StageOutput:
        raise NotImplementedError


class Runner(Component):
    """Runs an artifact and measures it (``run`` stage).

    :meth:`predict` is optional: runners that can return outputs for given inputs let the
    evaluator compute accuracy with them.
    """

    kind = "run"
    accepts: ClassVar[tuple[str, ...]] = ()
    host_dependent = True
    measures = True

    def run(self, ctx: StageContext) -> StageOutput:
        raise NotImplementedError

    def predict(self, artifact: Artifact, batch: np.ndarray, options: dict[str, Any]) -> np.ndarray:
        """Float32 outputs for a float32 preprocessed batch (quantizing inputs as the model needs)."""
        raise NotImplementedError(f"runner {self.name} cannot predict")


class Estimator(Runner):
    """A run stage that estimates figures from the model (``model-estimate``): it times nothing,
    so it holds the host shared, like a conversion, and its rows do not depend on the machine."""

    provenance = "model-estimate"
    measures = False
    host_dependent = False


@dataclass(frozen=True)
class Target:
    """A device a model can be benchmarked on.

    Plugins subclass it and implement :meth:`plan`, the chain of stages a model goes through
    for this target, built with the :class:`~zoo_bench.plan.Planner` helpers. ``memory_kib``
    names memory regions and their sizes (``{"sram": 4096, "flash": 2048}``).
    """

    id: str
    vendor: str
    device_class: str
    description: str = ""
    clock_mhz: float | None = None
    memory_kib: tuple[tuple[str, int], ...] = ()
    #: Default run options (threads, runs, ...) merged under the user's.
    defaults: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if self.device_class not in DEVICE_CLASSES:
            raise ValueError(f"target {self.id}: device class {self.device_class!r} not in {DEVICE_CLASSES}")

    def plan(self, model: ModelSpec, planner: Planner) -> list[StageRef]:
        """Return the leaf stages of this model's chain (the planner records the rest)."""
        raise NotImplementedError

    def supports(self, model: ModelSpec) -> str | None:
        """``None`` if the model can go to this target, else why not (the job is skipped)."""
        return None


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
