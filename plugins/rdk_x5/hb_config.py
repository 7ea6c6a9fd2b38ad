"""The inputs of ``hb_mapper makertbin``: its YAML config and the calibration data set.

The YAML follows D-Robotics' own config for the EfficientNet card (rdk_model_zoo @ be4f89bd,
``samples/vision/classification/EfficientNet/yaml/EfficientNet_B2_config.yaml``): march
``bayes-e``, an ONNX model, NV12 at run time, RGB NCHW at training time, the model's mean and
scale (``norm_type: data_mean_and_scale``, scale = 1 / std, both in pixel units), float32
calibration files, ``compile_mode: latency``, ``optimize_level: O3``.

Calibration data: one headerless float32 file per image, shape (1, 3, H, W), RGB, pixel values
0..255 *before* mean/scale (the compiled model's HZ_PREPROCESS node applies them), as D-Robotics'
``data_preprocess.py`` writes them (guide "Model quantization deployment.md" of the same repo).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from zoo_bench.plugin import ModelSpec, Preprocess, UsageError

MARCH = "bayes-e"
#: The directory suffix that matches ``cal_data_type: float32`` (hb_mapper warns otherwise).
CALIBRATION_DIR = "calibration_data_rgb_f32"
CALIBRATION_SUFFIX = ".rgbchw"
#: Every key zoo-bench writes, per section, in the order D-Robotics' config has them.
CONFIG_KEYS = {
    "model_parameters": ("onnx_model", "march", "layer_out_dump", "working_dir", "output_model_file_prefix"),
    "input_parameters": ("input_name", "input_type_rt", "input_type_train", "input_layout_train", "input_shape",
                         "norm_type", "mean_value", "scale_value"),
    "calibration_parameters": ("cal_data_dir", "cal_data_type", "calibration_type"),
    "compiler_parameters": ("compile_mode", "debug", "optimize_level"),
}


@dataclass(frozen=True)
class MapperSettings:
    """What varies between models in the YAML (the rest is fixed by the RDK X5 recipe)."""

    onnx_model: str
    prefix: str
    mean: tuple[float, float, float]
    scale: tuple[float, float, float]
    working_dir: str = "model_output"
    cal_data_dir: str = f"./{CALIBRATION_DIR}"
    compile_mode: str = "latency"
    optimize_level: str = "O3"
    calibration_type: str = "default"
    #: the ONNX model's input layout (``input_layout_train``): NCHW (PyTorch) or NHWC (Keras)
    layout: str = "NCHW"


def settings_for(model: ModelSpec, onnx_name: str) -> MapperSettings:
    """The YAML settings of a catalog model: its mean and 1/std from its preprocessing."""
    pre = model.preprocess
    if pre is None:
        raise UsageError(f"model {model.name} declares no preprocessing: hb_mapper needs its mean and scale")
    if pre.layout not in ("NCHW", "NHWC"):
        raise UsageError(f"model {model.name} takes {pre.layout} input; hb_mapper takes NCHW or NHWC models")
    if any(s <= 0 for s in pre.std):
        raise UsageError(f"model {model.name}: std must be positive, got {pre.std}")
    scale = tuple(1.0 / s for s in pre.std)
    prefix = f"{model.name}_{pre.crop}x{pre.crop}_nv12"
    return MapperSettings(onnx_model=onnx_name, prefix=prefix, mean=tuple(pre.mean), scale=scale,  # type: ignore[arg-type]
                          layout=pre.layout)


def _floats(values: tuple[float, ...]) -> str:
    # hb_mapper reads mean_value/scale_value as space-separated numbers in one string.
    return " ".join(f"{v:.8g}" for v in values)


def config_values(s: MapperSettings) -> dict[str, dict[str, Any]]:
    """The config as nested values (what the YAML file holds)."""
    return {
        "model_parameters": {"onnx_model": s.onnx_model, "march": MARCH, "layer_out_dump": False,
                             "working_dir": s.working_dir, "output_model_file_prefix": s.prefix},
        "input_parameters": {"input_name": "", "input_type_rt": "nv12", "input_type_train": "rgb",
                             "input_layout_train": s.layout, "input_shape": "", "norm_type": "data_mean_and_scale",
                             "mean_value": _floats(s.mean), "scale_value": _floats(s.scale)},
        "calibration_parameters": {"cal_data_dir": s.cal_data_dir, "cal_data_type": "float32",
                                   "calibration_type": s.calibration_type},
        "compiler_parameters": {"compile_mode": s.compile_mode, "debug": False, "optimize_level": s.optimize_level},
    }


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "False" if not value else "True"
    return "'" + str(value).replace("'", "''") + "'"


def config_yaml(s: MapperSettings) -> str:
    """The YAML text, laid out like D-Robotics' file (no YAML library needed to write it)."""
    lines = ["# hb_mapper makertbin config written by zoo-bench (RDK X5, see docs/rdk_x5.md)"]
    for section, values in config_values(s).items():
        lines.append(f"{section}:")
        lines += [f"  {key}: {_scalar(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def pixel_preprocess(pre: Preprocess) -> Preprocess:
    """The model's resize/crop with no normalisation, NCHW: pixel values 0..255."""
    return replace(pre, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0), layout="NCHW")


def write_calibration(pixels: Any, directory: Path, layout: str = "NCHW") -> list[Path]:
    """Write a batch (N, 3, H, W) of RGB pixel values as float32 raw files, one per image, in the
    model's ``layout`` (NCHW as given, or NHWC for a Keras model's ONNX)."""
    import numpy as np

    batch = np.asarray(pixels, dtype=np.float32)
    if batch.ndim != 4 or batch.shape[1] != 3:
        raise UsageError(f"calibration batch must be (N, 3, H, W), got {tuple(batch.shape)}")
    if layout == "NHWC":
        batch = batch.transpose(0, 2, 3, 1)
    elif layout != "NCHW":
        raise UsageError(f"calibration layout must be NCHW or NHWC, not {layout}")
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, image in enumerate(batch):
        path = directory / f"calib_{i:04d}{CALIBRATION_SUFFIX}"
        np.ascontiguousarray(image[None, ...]).tofile(path)
        paths.append(path)
    return paths


def read_calibration(path: Path, height: int, width: int) -> Any:
    """One calibration file back as (1, 3, H, W) float32 (for checks and tests)."""
    import numpy as np

    data = np.fromfile(path, dtype=np.float32)
    if data.size != 3 * height * width:
        raise UsageError(f"{path.name}: {data.size} float32 values, expected 3 x {height} x {width}")
    return data.reshape(1, 3, height, width)
