"""Float-vs-int8 accuracy on a class-per-folder data set (the ``evaluate`` stage).

The evaluator is registered as the runner ``accuracy``. A target plans
``p.evaluate(float_ref, int8_ref, runner="litert"|"onnxruntime")``; the evaluator preprocesses
the data set once (per the model's :class:`~zoo_bench.components.Preprocess`), lets the named
runner's ``predict`` produce logits for both artifacts on the same images, and reports:

- ``top1_float``, ``top5_float``, ``top1_int8``, ``top5_int8``: share of images whose label is
  the top-1 / among the top-5 outputs, in percent;
- ``int8_agreement``: share of images where the int8 and the float top-1 agree, in percent
  (meaningful even for random weights, where top-1 against labels is not).

Every figure carries ``n_images`` and ``dataset`` in ``extra`` (the harness turns them into
columns), the class-index rule of :func:`zoo_bench.builtin.data.class_indices` and the
class-index mapping (``class_index``: folder name -> output index), the input contract used
(``preprocess``; a model that declares none is refused, never guessed), and for top-1 the 95 %
Wilson score interval for that number of images (``ci95``) and, for up to
:data:`CONFUSION_MAX_CLASSES` classes, the confusion matrix (``confusion``: rows are the data
set's classes in ``class_index`` order, columns the same classes then ``other``). Top-5 is
reported only for models with more than 5 outputs. When the int8 model was calibrated on images
of the evaluated data set, the int8 rows say so (``calibrated_on_eval_images``). A runner's
``predict`` receives the model's :class:`~zoo_bench.components.Preprocess` as the option
``preprocess``; a runner with a ``prediction_notes`` dict (e.g. ``{"emulation": ...}``) adds it
to the figures' ``extra``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from .. import hookimpl
from ..components import Artifact, Figure, Runner, StageContext, StageOutput, Target
from ..errors import ToolUnavailable, UsageError
from ..options import Option
from ..tools import dist_version
from .data import list_images, load_batch
from .preprocessing import describe, require

#: Images preprocessed and predicted per chunk (bounds memory on large data sets).
CHUNK = 64
NO_DATASET = "no --dataset given: accuracy not measured"
#: Distributions whose version can change the evaluator's figures (decoding, arrays, runtimes).
RUNTIMES = ("numpy", "pillow", "ai-edge-litert", "onnxruntime")
#: Largest number of data-set classes whose confusion matrix goes into the rows.
CONFUSION_MAX_CLASSES = 20


def topk_hits(logits: Any, labels: Any, k: int) -> Any:
    """Boolean per image: the label is among the ``k`` largest outputs."""
    import numpy as np

    k = min(k, logits.shape[1])
    top = np.argpartition(-logits, k - 1, axis=1)[:, :k]
    return (top == labels[:, None]).any(axis=1)


def wilson_interval(hits: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion, in percent (sound at 0 and n hits)."""
    if n <= 0:
        raise ValueError("no images")
    p = hits / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / denom
    return 100.0 * max(0.0, centre - half), 100.0 * min(1.0, centre + half)


def confusion_matrix(predicted: Any, labels: Any, class_index: dict[str, int]) -> list[list[int]]:
    """Rows: the data set's classes (``class_index`` order); columns: the same, then ``other``
    (a prediction outside the data set's classes)."""
    order = list(class_index.values())
    column = {index: i for i, index in enumerate(order)}
    matrix = [[0] * (len(order) + 1) for _ in order]
    for truth, guess in zip(labels.tolist(), predicted.tolist(), strict=True):
        matrix[column[truth]][column.get(guess, len(order))] += 1
    return matrix


def calibration_overlap(artifact: Artifact, dataset: str, n_eval: int) -> str | None:
    """A note when ``artifact`` was calibrated on images of the evaluated data set."""
    folder = artifact.meta.get("calibration_dataset")
    if not folder or Path(folder).resolve() != Path(dataset).resolve():
        return None
    count = min(int(artifact.meta.get("calibration_images") or 0), n_eval)
    return (f"the int8 model was calibrated on the first {count} of these {n_eval} images (the same data set); "
            "give --calibration-dataset DIR of other images for an independent figure")


def top1_agreement(float_top1: Any, int8_top1: Any) -> float:
    """Percent of images whose int8 top-1 class equals the float model's."""
    import numpy as np

    a, b = np.asarray(float_top1), np.asarray(int8_top1)
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"top-1 arrays must have the same non-empty shape, not {a.shape} and {b.shape}")
    return float(100.0 * (a == b).mean())


class AccuracyEvaluator(Runner):
    """Top-1/top-5 of float and int8 models and their top-1 agreement on --dataset."""

    name = "accuracy"
    accepts = ("tflite", "onnx")
    #: It counts hits, it times nothing: it may run beside conversions.
    measures = False
    options = {
        "dataset": Option("path", help="class-per-folder image folder (no data set: the stage is skipped)"),
        "max_images": Option("int", min=1, help="evaluate at most this many images (round-robin over classes; "
                                                "default all)"),
        "runner": Option("str", help="runner whose predict() produces the outputs (set by the plan: litert, "
                                     "onnxruntime, ...)"),
        "threads": Option("int", default=1, min=1, max=256, help="threads the runner may use"),
    }

    def tool_versions(self) -> dict[str, str]:
        """The image decoding and array libraries the evaluator uses, and the runtimes its
        runners may predict with (the ``runner`` option picks one; the key covers them all)."""
        return {name: dist_version(name) for name in RUNTIMES}

    def unavailable_reason(self, target: Target | None = None, options: dict[str, Any] | None = None) -> str | None:
        # Decided here, in the controlling process: a skip for want of a data set costs no process.
        if options is not None and not options.get("dataset"):
            return NO_DATASET
        if importlib.util.find_spec("PIL") is None:
            return "Pillow is not installed (pip install pillow)"
        if options is not None and not options.get("dataset"):  # skipped before a process starts
            return NO_DATASET
        return None

    def run(self, ctx: StageContext) -> StageOutput:
        import numpy as np

        dataset = ctx.options["dataset"]
        if not dataset:
            raise ToolUnavailable(NO_DATASET)
        runner_name = ctx.options["runner"]
        if not runner_name or ctx.registry is None:
            raise UsageError("the evaluate stage needs option runner=<name of a runner with predict()>")
        runner = ctx.registry.component("run", str(runner_name))
        if not isinstance(runner, Runner):
            raise UsageError(f"{runner_name!r} is not a runner")
        pre = require(ctx.model, "accuracy evaluation")
        images, rule = list_images(dataset, ctx.options["max_images"])
        class_index = {item.class_name: item.label for item in sorted(images, key=lambda i: i.class_name)}
        # The model's preprocessing goes along so that a runner emulating a device's input path
        # (e.g. an NV12 camera frame) can get back to pixels.
        predict_options = {"threads": ctx.options["threads"], "preprocess": pre}

        artifacts = list(ctx.inputs.values())
        logits: list[list[Any]] = [[] for _ in artifacts]
        labels = []
        for start in range(0, len(images), CHUNK):
            batch, chunk_labels = load_batch(images[start:start + CHUNK], pre)
            labels.append(chunk_labels)
            for i, artifact in enumerate(artifacts):
                logits[i].append(np.asarray(runner.predict(artifact, batch, predict_options), dtype=np.float32))
        y = np.concatenate(labels)
        outputs = [np.concatenate(chunks).reshape(len(y), -1) for chunks in logits]
        ctx.log(f"evaluated {len(y)} images of {dataset} with {runner_name} ({len(artifacts)} models)")

        version = next(iter(runner.tool_versions().values()), "")
        extra = {"n_images": int(len(y)), "dataset": str(Path(dataset).resolve()), "label_rule": rule,
                 "runner": str(runner_name), "preprocess": describe(pre), "class_index": class_index,
                 **dict(getattr(runner, "prediction_notes", {}) or {})}
        figures: list[Figure] = []

        def fig(metric: str, value: float, **more: Any) -> None:
            figures.append(Figure(metric, float(value), "%", "measured-host", str(runner_name), version,
                                  extra={**extra, **more}))

        top1 = {}
        for artifact, out in zip(artifacts, outputs, strict=True):
            variant = _variant(artifact)
            predicted = out.argmax(axis=1)
            hits = topk_hits(out, y, 1)
            more: dict[str, Any] = {"weights": artifact.meta.get("weights", ctx.model.weights),
                                    "classes": int(out.shape[1])}
            overlap = calibration_overlap(artifact, dataset, len(y)) if variant == "int8" else None
            if overlap:
                more["calibrated_on_eval_images"] = overlap
            low, high = wilson_interval(int(hits.sum()), len(y))
            top1_more = {**more, "ci95": [round(low, 2), round(high, 2)], "ci_method": "Wilson score, 95 %"}
            if len(class_index) <= CONFUSION_MAX_CLASSES:
                top1_more["confusion"] = confusion_matrix(predicted, y, class_index)
            fig(f"top1_{variant}", 100.0 * hits.mean(), **top1_more)
            if out.shape[1] > 5:  # top-5 of a model with 5 outputs or fewer is always 100 %
                fig(f"top5_{variant}", 100.0 * topk_hits(out, y, 5).mean(), **more)
            top1.setdefault(variant, predicted)
        if "float" in top1 and "int8" in top1:
            fig("int8_agreement", top1_agreement(top1["float"], top1["int8"]))
        return StageOutput(figures=figures)


def _variant(artifact: Artifact) -> str:
    return "int8" if artifact.precision == "int8" else "float"


@hookimpl
def zoo_bench_register_runners(register):
    """Register the ``accuracy`` evaluator."""
    register(AccuracyEvaluator())
