"""What the built-in quantizers share: options, calibration data, output figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...components import Figure, ModelSpec, Preprocess, StageContext
from ...options import Option
from ..data import calibration_batch, default_preprocess

#: Calibration images when ``calibration_images`` is not given.
DEFAULT_CALIBRATION_IMAGES = 32

CALIBRATION_OPTIONS = {
    "dataset": Option("path", help="class-per-folder image folder; calibration uses its first images "
                                   "(else random pixels)"),
    "calibration_images": Option("int", default=DEFAULT_CALIBRATION_IMAGES, min=1,
                                 help="number of calibration images"),
    "per_channel": Option("bool", default=True, help="per-channel weight scales"),
}


def model_preprocess(model: ModelSpec) -> Preprocess:
    return model.preprocess or default_preprocess(model.resolution)


def calibration_data(ctx: StageContext) -> tuple[Any, str]:
    """The calibration batch of this stage (float32, model layout) and its description."""
    count = ctx.options["calibration_images"]
    batch, origin = calibration_batch(model_preprocess(ctx.model), ctx.options["dataset"], count)
    ctx.log(f"calibration data: {origin}")
    return batch, origin


def size_figure(path: Path, tool: str, version: str, extra: dict[str, Any]) -> Figure:
    return Figure("model_size_kib", path.stat().st_size / 1024.0, "KiB", "measured-host", tool, version,
                  extra={**extra, "file": path.name})
