"""Keras applications models (ResNet50V2, MobileNetV2, EfficientNetV2) and local Keras files.

Models are built with a fixed batch of 1 and without the final softmax (logits out: a
dynamic batch leaves SHAPE ops in the .tflite, and TFLM's int8 softmax aborts on near-uniform
logits; TOOLCHAIN.md). Random weights get their batch-norm statistics recalibrated so that
int8 calibration finds meaningful ranges. Keras ``weights='imagenet'`` is a hub download and is
never used: ``-s weights=PATH`` loads a local weights file instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ...components import Artifact, ModelSource, ModelSpec, Preprocess, StageContext, StageOutput, Target
from ...errors import ToolUnavailable, UsageError
from ...tools import missing_module
from .. import preprocessing
from . import catalog
from .common import (
    SOURCE_OPTIONS,
    dist_version,
    keras_macs,
    keras_params,
    no_pretrained,
    recalibrate_keras_bn,
    source_figures,
    tensorflow_version,
    weights_choice,
    weights_files,
)


def _import_keras():
    try:
        import keras
    except ImportError as exc:
        raise ToolUnavailable("tensorflow/keras is not installed (pip install 'zoo-bench[host]')") from exc
    return keras


def make_keras_model(spec: ModelSpec, classes: int | None = None) -> Any:
    """The float Keras model of a catalog spec (or of a local file), batch 1, logits out."""
    keras = _import_keras()
    args = spec.builder_args()
    r = spec.resolution
    inp = keras.Input((r, r, 3), batch_size=1, name="input")
    if "path" in args:  # a local file: re-wrap it with a fixed batch of 1
        loaded = keras.models.load_model(args["path"], compile=False)
        return keras.Model(inp, loaded(inp), name=loaded.name)
    app = getattr(keras.applications, args.pop("application"))
    return app(input_tensor=inp, weights=None, classes=classes or spec.classes, classifier_activation=None, **args)


def input_range(pre: Preprocess | None) -> tuple[float, float]:
    """Range of preprocessed pixel values (for random calibration inputs)."""
    if pre is None:
        return -1.0, 1.0
    return (0.0 - pre.mean[0]) / pre.std[0], (255.0 - pre.mean[0]) / pre.std[0]


class KerasApplicationsSource(ModelSource):
    """Keras applications (ST model zoo cards) and local .h5/.keras files."""

    name = catalog.KERAS
    export_formats = ("tflite",)
    #: TensorFlow/torch in the stage process: ResNet50V2 peaks at ~2.8 GB (TOOLCHAIN.md, Quantization).
    peak_memory_mb = 3000
    options = SOURCE_OPTIONS

    def input_files(self, options: dict[str, Any]) -> list[Path]:
        return weights_files(options)

    def models(self) -> Iterable[ModelSpec]:
        return catalog.keras_specs()

    def spec_for_name(self, name: str) -> ModelSpec | None:
        """Variants outside the catalog by name, e.g. ``mobilenet_v2_0.5_160``."""
        return catalog.parse_mobilenet_name(name)

    def tool_versions(self) -> dict[str, str]:
        return {"tensorflow": tensorflow_version(), "keras": dist_version("keras")}

    def unavailable_reason(self, target: Target | None = None, options: dict[str, Any] | None = None) -> str | None:
        if missing_module("keras", "tensorflow"):
            return "tensorflow/keras is not installed (pip install 'zoo-bench[host]')"
        return None

    def build(self, model: ModelSpec, ctx: StageContext) -> StageOutput:
        choice = weights_choice(ctx)
        local = "path" in model.builder_args()
        net = make_keras_model(model)
        if local:
            weights = "user"
        elif choice == "pretrained":
            raise no_pretrained(model.name)
        elif choice == "random":
            recalibrate_keras_bn(net, low=input_range(model.preprocess)[0], high=input_range(model.preprocess)[1])
            weights = "random"
        else:
            try:
                net.load_weights(choice)
            except Exception as exc:  # keras raises ValueError/KeyError/OSError for a mismatching file
                raise UsageError(f"cannot load weights {choice} into {model.name}: {exc}") from exc
            weights = "pretrained"
        path = ctx.workdir / f"{model.name}.keras"
        net.save(path)
        ctx.log(f"built {model.name}: {weights} weights, saved {path.name}")
        weights_file = model.builder_args()["path"] if local else choice if Path(choice).is_file() else None
        meta = {"weights": weights, "weights_file": weights_file, "classes": int(net.outputs[0].shape[-1]),
                "input_shape": [1, model.resolution, model.resolution, 3], "layout": "NHWC"}
        versions = self.tool_versions()
        figures = source_figures(keras_params(net), keras_macs(net), path, "keras", versions["keras"],
                                 "zoo-bench keras layer count", {"weights": weights, "format": "keras"})
        return StageOutput(Artifact(path, "keras", meta=meta), figures)

    def export(self, fmt: str, ctx: StageContext) -> StageOutput:
        if fmt != "tflite":
            raise UsageError(f"{self.name} exports to tflite only, not {fmt!r}")
        keras = _import_keras()
        import tensorflow as tf

        net = keras.models.load_model(ctx.input.path, compile=False)
        converter = tf.lite.TFLiteConverter.from_keras_model(net)
        data = converter.convert()
        path = ctx.workdir / f"{ctx.model.name}_float.tflite"
        path.write_bytes(data)
        figures = source_figures(keras_params(net), None, path, "tflite-converter", tf.__version__, "")
        figures = [f for f in figures if f.metric == "model_size_kib"]
        meta = {**ctx.input.meta, "converter": f"tf.lite.TFLiteConverter {tf.__version__}"}
        return StageOutput(Artifact(path, "tflite", meta=meta), figures)


class LocalKerasSource(KerasApplicationsSource):
    """Local ``.keras``/``.h5`` files: the user's own model (weights ``user``), its classes and
    its input contract read from the file (a ``Rescaling``/``Normalization`` input layer) or
    declared beside it (:mod:`zoo_bench.builtin.preprocessing`)."""

    name = "local_keras"

    def models(self) -> Iterable[ModelSpec]:
        return []

    def spec_for_name(self, name: str) -> ModelSpec | None:
        return None

    def spec_for_path(self, path: Path) -> ModelSpec | None:
        if path.suffix.lower() not in (".h5", ".keras"):
            return None
        config = preprocessing.read_keras_config(path)
        shape = _find_input_shape(config)
        if not shape or len(shape) != 4 or not shape[1]:
            raise UsageError(f"{path}: cannot read a (batch, height, width, 3) input shape from the model config")
        resolution = int(shape[1])
        scaling = preprocessing.keras_input_scaling(config)
        return ModelSpec(
            name=path.stem, source=self.name, family="local", resolution=resolution, native_format="keras",
            classes=_keras_file_classes(config), weights="user",
            preprocess=preprocessing.declared(path, resolution, "NHWC", ("scaling", scaling)),
            builder=(("path", str(path.resolve())), ("layout", "NHWC")), description=f"local Keras file {path.name}",
        )


def _keras_file_classes(config: Any) -> int:
    """Units of the last Dense layer in the config (0 when there is none to read)."""
    units = 0

    def walk(node: Any) -> None:
        nonlocal units
        if isinstance(node, dict):
            if node.get("class_name") == "Dense" and isinstance(node.get("config"), dict):
                units = int(node["config"].get("units", units) or units)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config)
    return units


def _find_input_shape(config: Any) -> list | None:
    if isinstance(config, dict):
        for key in ("batch_shape", "batch_input_shape"):
            if key in config and isinstance(config[key], list):
                return config[key]
        for value in config.values():
            found = _find_input_shape(value)
            if found:
                return found
    elif isinstance(config, list):
        for value in config:
            found = _find_input_shape(value)
            if found:
                return found
    return None

