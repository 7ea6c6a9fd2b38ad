"""ONNX static int8 quantization (QDQ format) with ONNX Runtime's quantizer, after onnxsim.

Per-channel int8 weights (default), activations uint8 (fast on x86 hosts: TOOLCHAIN.md
measured int8 activations ~3x slower than fp32 there) or int8 where a target wants it.
MinMax calibration over ``--dataset`` images or the random fallback.
"""

from __future__ import annotations

import time
from typing import Any

from ...components import Artifact, Quantizer, StageContext, StageOutput, Target
from ...errors import ToolUnavailable
from ...formats import check_input
from ...options import Option
from ...tools import missing_module
from ..models.common import dist_version
from .common import CALIBRATION_OPTIONS, calibration_data, calibration_extra, size_figure


class OnnxQdqQuantizer(Quantizer):
    """ONNX Runtime quantize_static, QDQ, per-channel (after onnxsim)."""

    name = "onnx_qdq"
    accepts = ("onnx",)
    produces = "onnx"
    options = {**CALIBRATION_OPTIONS,
               "activation_type": Option("choice", choices=("uint8", "int8"), default="uint8",
                                         help="activation type (uint8 is fast on x86 hosts)")}

    def tool_versions(self) -> dict[str, str]:
        return {"onnxruntime": dist_version("onnxruntime"), "onnxsim": dist_version("onnxsim")}

    def unavailable_reason(self, target: Target | None = None, options: dict[str, Any] | None = None) -> str | None:
        missing = missing_module("onnxruntime", "onnxsim", "onnx")
        return f"{missing} is not installed (pip install 'zoo-bench[host]')" if missing else None

    def quantize(self, ctx: StageContext) -> StageOutput:
        src = check_input(self, ctx)  # before the heavy imports: a mismatch is one quick line

        import onnx
        from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

        from ..models.timm_source import simplify_onnx

        if src.precision != "float32":
            raise ToolUnavailable(f"{src.path.name} is already quantized ({src.precision})")
        act = ctx.options["activation_type"]
        per_channel = ctx.options["per_channel"]
        recorded = calibration_extra(ctx)  # refuses a model without a declared input contract
        batch, origin = calibration_data(ctx)
        simplified = ctx.workdir / f"{ctx.model.name}_sim.onnx"
        simplify_onnx(src.path, simplified)
        input_name = _graph_input(onnx.load(str(simplified), load_external_data=False))

        class Reader(CalibrationDataReader):
            def __init__(self) -> None:
                self._items = iter(batch)

            def get_next(self) -> dict[str, Any] | None:
                x = next(self._items, None)
                return None if x is None else {input_name: x[None, ...]}

        path = ctx.workdir / f"{ctx.model.name}_qdq_{act}.onnx"
        t0 = time.perf_counter()
        quantize_static(
            str(simplified), str(path), Reader(), quant_format=QuantFormat.QDQ, per_channel=per_channel,
            activation_type=QuantType.QUInt8 if act == "uint8" else QuantType.QInt8, weight_type=QuantType.QInt8,
        )
        simplified.unlink()
        version = dist_version("onnxruntime")
        ctx.log(f"quantized in {time.perf_counter() - t0:.1f} s with onnxruntime {version}")
        meta = {**src.meta, "quantizer": f"onnxruntime.quantization.quantize_static {version} (QDQ)",
                "calibration": origin, "activation_type": act, "per_channel": per_channel, **recorded}
        extra = {"activation_type": act, "calibration": origin, **recorded}
        return StageOutput(Artifact(path, "onnx", precision="int8", meta=meta),
                           [size_figure(path, "onnxruntime", version, extra)])


def _graph_input(model: Any) -> str:
    initializers = {i.name for i in model.graph.initializer}
    return next(i.name for i in model.graph.input if i.name not in initializers)
