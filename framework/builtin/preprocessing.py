"""A model's input contract: declared, recorded, never guessed (docs/models.md, "Preprocessing").

A contract (:class:`~zoo_bench.components.Preprocess`) says how an 8-bit RGB image becomes the
model's input: resize/crop, ``(x - mean) / std`` per channel in the 0-255 pixel scale, the
channel order and the layout. It comes from, in this order:

1. ``--preprocess TEXT`` (``raw``, ``unit``, ``symmetric``, ``imagenet``, ``caffe`` or
   ``key=value`` items: ``range=0:1``, ``mean=123.7/116.3/103.5``, ``std=58.4/57.1/57.4``,
   ``order=BGR``, ``layout=NCHW``, ``resize=146``, ``crop=128``, ``interpolation=bicubic``);
2. a config file beside the model, ``<model file>.zoo-bench.toml`` (e.g.
   ``tinycnn.keras.zoo-bench.toml``) with a ``[preprocess]`` table of the same keys;
3. the model file itself: a Keras ``Rescaling`` or ``Normalization`` layer at the input (the
   model takes raw 0-255 pixels), an ONNX ``metadata_props`` entry ``zoo_bench.preprocess``;
4. the catalog, for catalog models.

Nothing else: a local file that declares none has no contract, and the stages that need one
(accuracy, calibration) refuse with :func:`undeclared_reason`.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..components import ModelSpec, Preprocess
from ..errors import ToolUnavailable, UsageError

#: Named contracts (mean, std in the 0-255 pixel scale; order).
PRESETS: dict[str, dict[str, Any]] = {
    "raw": {"mean": (0.0, 0.0, 0.0), "std": (1.0, 1.0, 1.0)},                 # pixels 0..255
    "unit": {"mean": (0.0, 0.0, 0.0), "std": (255.0, 255.0, 255.0)},           # pixels 0..1
    "symmetric": {"mean": (127.5, 127.5, 127.5), "std": (127.5, 127.5, 127.5)},  # -1..1
    "imagenet": {"mean": (123.675, 116.28, 103.53), "std": (58.395, 57.12, 57.375)},  # torchvision
    "caffe": {"mean": (103.939, 116.779, 123.68), "std": (1.0, 1.0, 1.0), "channel_order": "BGR"},
}
KEYS = ("preset", "range", "mean", "std", "order", "layout", "resize", "crop", "interpolation")
CONFIG_SUFFIX = ".zoo-bench.toml"
ONNX_METADATA_KEY = "zoo_bench.preprocess"
#: Keras layers that do nothing at inference and may stand before the scaling layer.
_INERT_KERAS = ("InputLayer", "RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation",
                "RandomContrast", "RandomBrightness", "RandomCrop", "Dropout", "GaussianNoise")
HOW_TO = ("declare it with --preprocess (raw | unit | symmetric | imagenet | range=LO:HI,order=RGB,...) or a "
          "'<model file>.zoo-bench.toml' [preprocess] table beside the model (docs/models.md, Preprocessing)")


def undeclared_reason(model: ModelSpec, stage: str) -> str:
    """The one line a stage that needs a contract gives when the model declares none."""
    return f"model {model.name} declares no input preprocessing, so {stage} would guess it; {HOW_TO}"


def require(model: ModelSpec, stage: str) -> Preprocess:
    """The model's contract, or :class:`ToolUnavailable` (the stage is skipped with how to declare it)."""
    if model.preprocess is None:
        raise ToolUnavailable(undeclared_reason(model, stage))
    return model.preprocess


def describe(pre: Preprocess) -> str:
    """One line recorded in every row that used the contract."""
    low = [(0.0 - m) / s for m, s in zip(pre.mean, pre.std, strict=True)]
    high = [(255.0 - m) / s for m, s in zip(pre.mean, pre.std, strict=True)]
    span = (f"[{low[0]:.4g}, {high[0]:.4g}]" if len(set(low)) == 1 and len(set(high)) == 1
            else "mean=" + "/".join(f"{m:g}" for m in pre.mean) + " std=" + "/".join(f"{s:g}" for s in pre.std))
    return (f"{span} {pre.channel_order} {pre.layout} resize {pre.resize} crop {pre.crop} {pre.interpolation}"
            f" (declared by {pre.declared_by})")


def _triplet(value: Any, key: str) -> tuple[float, float, float]:
    items = value if isinstance(value, (list, tuple)) else str(value).split("/")
    try:
        numbers = [float(v) for v in items]
    except (TypeError, ValueError):
        raise UsageError(f"preprocess {key}={value!r}: give one number or three separated by '/'") from None
    if len(numbers) == 1:
        numbers *= 3
    if len(numbers) != 3:
        raise UsageError(f"preprocess {key}={value!r}: give one number or three separated by '/'")
    return numbers[0], numbers[1], numbers[2]


def parse(items: dict[str, Any], resolution: int, layout: str, declared_by: str) -> Preprocess:
    """A contract from ``key -> value`` items (``--preprocess`` or a config file's table)."""
    unknown = sorted(set(items) - set(KEYS))
    if unknown:
        raise UsageError(f"unknown preprocess key {unknown[0]!r} ({declared_by}); keys: {', '.join(KEYS)}")
    fields: dict[str, Any] = {}
    if "preset" in items:
        name = str(items["preset"])
        if name not in PRESETS:
            raise UsageError(f"unknown preprocess preset {name!r} ({declared_by}); presets: {', '.join(PRESETS)}")
        fields.update(PRESETS[name])
    if "range" in items:
        value = items["range"]
        parts = value if isinstance(value, (list, tuple)) else str(value).split(":")
        try:
            low, high = (float(v) for v in parts)
        except (TypeError, ValueError):
            raise UsageError(f"preprocess range={value!r} ({declared_by}): give LOW:HIGH, e.g. 0:1 or -1:1") from None
        if not high > low:
            raise UsageError(f"preprocess range={value!r} ({declared_by}): HIGH must be above LOW")
        std = 255.0 / (high - low)
        fields.update(mean=(-low * std,) * 3, std=(std,) * 3)
    if "mean" in items:
        fields["mean"] = _triplet(items["mean"], "mean")
    if "std" in items:
        fields["std"] = _triplet(items["std"], "std")
        if any(s == 0 for s in fields["std"]):
            raise UsageError(f"preprocess std ({declared_by}) must not be 0")
    if "mean" not in fields or "std" not in fields:
        raise UsageError(f"preprocess ({declared_by}) gives no value range: add a preset or range=LO:HI or "
                         "mean=.../std=...")
    order = str(items.get("order", fields.pop("channel_order", "RGB"))).upper()
    if order not in ("RGB", "BGR"):
        raise UsageError(f"preprocess order={order!r} ({declared_by}): RGB or BGR")
    fields["channel_order"] = order
    fields["layout"] = str(items.get("layout", layout)).upper()
    if fields["layout"] not in ("NHWC", "NCHW"):
        raise UsageError(f"preprocess layout={fields['layout']!r} ({declared_by}): NHWC or NCHW")
    for key in ("resize", "crop"):
        if key in items:
            try:
                fields[key] = int(items[key])
            except (TypeError, ValueError):
                fields[key] = 0
            if not 1 <= fields[key] <= 8192:
                raise UsageError(f"preprocess {key}={items[key]!r} ({declared_by}): an integer in 1..8192")
    crop = fields.get("crop", resolution)
    fields.setdefault("resize", crop)
    fields["crop"] = crop
    if "interpolation" in items:
        fields["interpolation"] = str(items["interpolation"])
        if fields["interpolation"] not in ("bilinear", "bicubic", "nearest", "lanczos"):
            raise UsageError(f"preprocess interpolation={fields['interpolation']!r} ({declared_by}): "
                             "bilinear, bicubic, nearest or lanczos")
    return Preprocess(declared_by=declared_by, **fields)


def parse_text(text: str) -> dict[str, Any]:
    """``--preprocess`` text -> items: ``raw`` or ``range=0:1,order=BGR`` (a bare word is a preset)."""
    items: dict[str, Any] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep:
            key, value = "preset", key
        items[key.strip().lower()] = value.strip()
    if not items:
        raise UsageError("--preprocess is empty; e.g. --preprocess raw or --preprocess range=-1:1")
    return items


def config_file(model_path: Path) -> Path:
    return model_path.with_name(model_path.name + CONFIG_SUFFIX)


def from_config_file(model_path: Path, resolution: int, layout: str) -> Preprocess | None:
    """The ``[preprocess]`` table of the config file beside the model, if there is one."""
    import tomllib

    path = config_file(model_path)
    if not path.is_file():
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path}: not a readable TOML file: {exc}") from None
    table = data.get("preprocess")
    if not isinstance(table, dict):
        raise UsageError(f"{path}: has no [preprocess] table")
    return parse(table, resolution, layout, declared_by=path.name)


def keras_input_scaling(config: Any) -> str | None:
    """``Rescaling(...)``/``Normalization`` when the model's first working layer is one, else None."""
    layers = _first_layers(config)
    for layer in layers:
        cls = layer.get("class_name", "")
        if cls in _INERT_KERAS:
            continue
        cfg = layer.get("config", {}) or {}
        if cls == "Rescaling":
            return f"keras Rescaling(scale={cfg.get('scale')}, offset={cfg.get('offset', 0.0)}) at the input"
        if cls == "Normalization":
            return "keras Normalization at the input"
        return None
    return None


def _first_layers(config: Any) -> list[dict[str, Any]]:
    """The layers of a Keras model config in order, nested Sequential/Functional blocks flattened
    at the front (a preprocessing block is often a Sequential of its own)."""
    cfg = config.get("config", {}) if isinstance(config, dict) else {}
    out: list[dict[str, Any]] = []
    for layer in cfg.get("layers", []) or []:
        if not isinstance(layer, dict):
            continue
        if layer.get("class_name") in ("Sequential", "Functional", "Model"):
            out.extend(_first_layers(layer))
        else:
            out.append(layer)
    return out


def read_keras_config(path: Path) -> dict[str, Any]:
    """The model config stored in a ``.keras`` or ``.h5`` file, without importing tensorflow."""
    try:
        if path.suffix.lower() == ".keras":
            with zipfile.ZipFile(path) as zf:
                return json.loads(zf.read("config.json"))
        import h5py

        with h5py.File(path, "r") as f:
            raw = f.attrs.get("model_config")
            if raw is None:
                raise UsageError(f"{path} holds no model config (a weights-only .h5?): save the whole model "
                                 "with model.save(...)")
            return json.loads(raw if isinstance(raw, str) else raw.decode())
    except UsageError:
        raise
    except (OSError, KeyError, ValueError, TypeError, AttributeError, zipfile.BadZipFile) as exc:
        raise UsageError(f"{path} is not a readable Keras model file: {exc}") from None


def onnx_metadata(model: Any) -> str | None:
    for prop in model.metadata_props:
        if prop.key == ONNX_METADATA_KEY:
            return prop.value
    return None


def declared(path: Path, resolution: int, layout: str, from_file: tuple[str, str | None]) -> Preprocess | None:
    """The contract of a local model file: its config file, else what the file says
    (``from_file``: (kind, text) with kind ``scaling`` for a Keras input layer or ``metadata``)."""
    pre = from_config_file(path, resolution, layout)
    if pre is not None:
        return pre
    kind, text = from_file
    if text is None:
        return None
    if kind == "scaling":  # the model scales itself: it takes raw 0..255 pixels
        return parse({"preset": "raw"}, resolution, layout, declared_by=text)
    return parse(parse_text(text), resolution, layout, declared_by=f"ONNX metadata {ONNX_METADATA_KEY}")


def apply_cli(models: list[ModelSpec], text: str | None) -> list[ModelSpec]:
    """``--preprocess`` on every model given as a file (catalog models keep the catalog's)."""
    if not text:
        return models
    items = parse_text(text)
    files = [m for m in models if m.family == "local"]
    if not files:
        raise UsageError("--preprocess declares the input of model files; no model given is a file "
                         "(catalog models keep the catalog's preprocessing)")
    out = []
    for m in models:
        if m.family == "local":
            layout = m.preprocess.layout if m.preprocess else m.builder_args().get("layout", "NHWC")
            m = replace(m, preprocess=parse(items, m.resolution, layout, declared_by="--preprocess"))
        out.append(m)
    return out
