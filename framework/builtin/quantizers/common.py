"""What the built-in quantizers share: options, calibration data, output figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...components import Figure, ModelSpec, Preprocess, StageContext
from ...options import Option
from ..data import calibration_batch
from ..preprocessing import describe, require

#: Calibration images when ``calibration_images`` is not given.
DEFAULT_CALIBRATION_IMAGES = 32

CALIBRATION_OPTIONS = {
    "dataset": Option("path", help="class-per-folder image folder; calibration uses its first images when no "
                                   "calibration_dataset is given (else random pixels)"),
    "calibration_dataset": Option("path", help="class-per-folder image folder for calibration only "
                                               "(--calibration-dataset; default: --dataset)"),
    "calibration_images": Option("int", default=DEFAULT_CALIBRATION_IMAGES, min=1,
                                 help="number of calibration images"),
    "per_channel": Option("bool", default=True, help="per-channel weight scales"),
}


def model_preprocess(model: ModelSpec) -> Preprocess:
    """The model's declared input contract (calibration refuses an undeclared one)."""
    return require(model, "int8 calibration")


def calibration_source(options: dict[str, Any]) -> str | None:
    """The folder calibration reads: ``calibration_dataset``, else ``dataset``, else None (random)."""
    return options.get("calibration_dataset") or options.get("dataset") or None


def calibration_data(ctx: StageContext) -> tuple[Any, str]:
    """The calibration batch of this stage (float32, model layout) and its description."""
    count = ctx.options["calibration_images"]
    batch, origin = calibration_batch(model_preprocess(ctx.model), calibration_source(ctx.options), count)
    ctx.log(f"calibration data: {origin}")
    return batch, origin


def calibration_extra(ctx: StageContext) -> dict[str, Any]:
    """What a quantize row and its artifact record: the contract used and the calibration folder."""
    folder = calibration_source(ctx.options)
    return {"preprocess": describe(model_preprocess(ctx.model)),
            "calibration_dataset": str(Path(folder).resolve()) if folder else None,
            "calibration_images": int(ctx.options["calibration_images"])}


def size_figure(path: Path, tool: str, version: str, extra: dict[str, Any]) -> Figure:
    return Figure("model_size_kib", path.stat().st_size / 1024.0, "KiB", "measured-host", tool, version,
                  extra={**extra, "file": path.name})
