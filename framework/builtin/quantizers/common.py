"""What the built-in quantizers share: options, calibration data, output figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...components import Figure, ModelSpec, Preprocess, StageContext
from ...errors import UsageError
from ..data import calibration_batch, default_preprocess

#: Calibration images when ``calibration_images`` is not given.
DEFAULT_CALIBRATION_IMAGES = 32

CALIBRATION_OPTIONS = {
    "dataset": "class-per-folder image folder; calibration uses its first images (else random pixels)",
    "calibration_images": f"number of calibration images (default {DEFAULT_CALIBRATION_IMAGES})",
    "per_channel": "per-channel weight scales (default true)",
}


def truthy(value: Any, default: bool = True) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in ("0", "false", "no", "off")


def choice(options: dict[str, Any], key: str, allowed: tuple[str, ...], default: str) -> str:
    value = str(options.get(key) or default).lower()
    if value not in allowed:
        raise UsageError(f"option {key}={value!r}: expected one of {', '.join(allowed)}")
    return value


def model_preprocess(model: ModelSpec) -> Preprocess:
    return model.preprocess or default_preprocess(model.resolution)


def calibration_data(ctx: StageContext) -> tuple[Any, str]:
    """The calibration batch of this stage (float32, model layout) and its description."""
    raw = ctx.options.get("calibration_images") or DEFAULT_CALIBRATION_IMAGES
    try:
        count = int(raw)
    except ValueError as exc:
        raise UsageError(f"option calibration_images={raw!r} is not a number") from exc
    if count < 1:
        raise UsageError("option calibration_images must be at least 1")
    batch, origin = calibration_batch(model_preprocess(ctx.model), ctx.options.get("dataset"), count)
    ctx.log(f"calibration data: {origin}")
    return batch, origin


def size_figure(path: Path, tool: str, version: str, extra: dict[str, Any]) -> Figure:
    return Figure("model_size_kib", path.stat().st_size / 1024.0, "KiB", "measured-host", tool, version,
                  extra={**extra, "file": path.name})
