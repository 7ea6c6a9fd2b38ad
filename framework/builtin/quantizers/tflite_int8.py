"""TFLite full-integer int8 post-training quantization with the TFLite converter.

- Keras models: ``tf.lite.TFLiteConverter.from_keras_model`` with ``Optimize.DEFAULT``, a
  representative data set and ``TFLITE_BUILTINS_INT8`` (per-channel weights by default).
- torch models: litert-torch converts the module to a float .tflite, then the TFLite
  converter's own calibrator (``tensorflow.lite.python.optimize.calibrator``, the post-training
  quantizer behind ``TFLiteConverter``) calibrates and quantizes it to full integer.
- ONNX models: onnx2torch + litert-torch make the float .tflite
  (:mod:`zoo_bench.builtin.models.onnx_convert`), then the same calibrator.
- float .tflite files (local models): the same calibrator.

Input type uint8 or int8, output type float32, uint8 or int8 (ST cards: uint8 in / float out;
NXP's recipe: int8 in / int8 out). Calibration data: ``--calibration-dataset`` (else
``--dataset``) images or the random fallback of :func:`zoo_bench.builtin.data.calibration_batch`,
always through the model's declared input contract (an undeclared one is refused).
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import Any

from ...components import Artifact, Quantizer, StageContext, StageOutput, Target
from ...errors import ToolUnavailable
from ...formats import check_input, load_torch_module
from ...options import Option
from ..models.common import dist_version, tensorflow_version
from .common import CALIBRATION_OPTIONS, calibration_data, calibration_extra, size_figure

INPUT_TYPES = ("uint8", "int8")
OUTPUT_TYPES = ("float32", "uint8", "int8")


def _import_torch_first() -> None:
    """Load torch before tensorflow when both are needed: the reverse order segfaults in
    triton's extension (torch 2.14 + tensorflow 2.21, measured here)."""
    if importlib.util.find_spec("torch") is not None:
        import torch  # noqa: F401


class TfliteInt8Quantizer(Quantizer):
    """TFLite converter full-integer int8 (per-channel; keras, torch or float tflite in)."""

    name = "tflite_int8"
    accepts = ("keras", "torch", "onnx", "tflite")
    produces = "tflite"
    #: TensorFlow/torch in the stage process: ResNet50V2 peaks at ~2.8 GB (TOOLCHAIN.md, Quantization).
    peak_memory_mb = 3000
    options = {
        **CALIBRATION_OPTIONS,
        "input_type": Option("choice", choices=INPUT_TYPES, default="int8", help="type of the model's input"),
        "output_type": Option("choice", choices=OUTPUT_TYPES, default="int8", help="type of the model's output"),
    }

    def tool_versions(self) -> dict[str, str]:
        return {"tensorflow": tensorflow_version(), "litert-torch": dist_version("litert-torch"),
                "onnx2torch": dist_version("onnx2torch")}

    def unavailable_reason(self, target: Target | None = None, options: dict[str, Any] | None = None) -> str | None:
        if importlib.util.find_spec("tensorflow") is None:
            return "tensorflow is not installed (pip install 'zoo-bench[host]')"
        return None

    def quantize(self, ctx: StageContext) -> StageOutput:
        src = check_input(self, ctx, hint="see docs/models.md, Formats and targets")
        in_type, out_type = ctx.options["input_type"], ctx.options["output_type"]
        per_channel = ctx.options["per_channel"]
        if src.format == "tflite" and src.precision != "float32":
            raise ToolUnavailable(f"{src.path.name} is already quantized ({src.precision})")
        if src.format in ("torch", "onnx") and importlib.util.find_spec("litert_torch") is None:
            raise ToolUnavailable("torch -> TFLite int8 needs litert-torch (pip install litert-torch)")
        _import_torch_first()
        recorded = calibration_extra(ctx)  # refuses a model without a declared input contract
        batch, origin = calibration_data(ctx)
        t0 = time.perf_counter()
        if src.format == "keras":
            data = self._from_keras(src.path, batch, in_type, out_type, per_channel)
            converter = f"tf.lite.TFLiteConverter {tensorflow_version()}"
        else:
            if src.format == "onnx":
                from ..models.onnx_convert import CONVERTER, converter_version, onnx_to_float_tflite

                made = onnx_to_float_tflite(src.path, ctx.model, ctx.workdir)
                float_tflite = made.read_bytes()
                made.unlink()
                after = f" after {CONVERTER} {converter_version()}"
            elif src.format == "torch":
                float_tflite = self._float_tflite(ctx)
                after = f" after litert-torch {dist_version('litert-torch')}"
            else:
                float_tflite, after = src.path.read_bytes(), ""
            data = self._calibrate(float_tflite, batch, in_type, out_type, per_channel)
            converter = f"TFLite calibrator {tensorflow_version()}{after}"
        ctx.log(f"quantized in {time.perf_counter() - t0:.1f} s with {converter}")
        path = ctx.workdir / f"{ctx.model.name}_int8_{in_type}_{out_type}.tflite"
        path.write_bytes(data)
        meta = {**src.meta, "quantizer": converter, "calibration": origin, "input_type": in_type,
                "output_type": out_type, "per_channel": per_channel, **recorded}
        extra = {"input_type": in_type, "output_type": out_type, "calibration": origin, **recorded}
        return StageOutput(Artifact(path, "tflite", precision="int8", meta=meta),
                           [size_figure(path, "tflite-converter", tensorflow_version(), extra)])

    @staticmethod
    def _from_keras(path: Path, batch: Any, in_type: str, out_type: str, per_channel: bool) -> bytes:
        import keras
        import tensorflow as tf

        net = keras.models.load_model(path, compile=False)
        converter = tf.lite.TFLiteConverter.from_keras_model(net)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([x[None, ...]] for x in batch)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = getattr(tf, in_type)
        converter.inference_output_type = getattr(tf, out_type)
        converter._experimental_disable_per_channel = not per_channel  # the converter's own switch
        return converter.convert()

    @staticmethod
    def _float_tflite(ctx: StageContext) -> bytes:
        from ..models.timm_source import export_tflite

        net = load_torch_module(ctx)  # the model's own source rebuilds it: no timm assumption
        path = export_tflite(net, ctx.model, ctx.workdir)
        data = path.read_bytes()
        path.unlink()
        return data

    @staticmethod
    def _calibrate(model: bytes, batch: Any, in_type: str, out_type: str, per_channel: bool) -> bytes:
        import tensorflow as tf
        from tensorflow.lite.python.optimize import calibrator

        quantizer = calibrator.Calibrator(model)
        return quantizer.calibrate_and_quantize(
            lambda: ([x[None, ...]] for x in batch), getattr(tf, in_type), getattr(tf, out_type),
            allow_float=False, disable_per_channel=not per_channel)
