"""Host emulation of the RDK X5 input path: ONNX Runtime on inputs that went through NV12.

On the board a compiled model receives an NV12 frame; its HZ_PREPROCESS node converts it back
to RGB and normalises it. The runner ``rdk_nv12_onnxruntime`` reproduces the input side of
that on this host: each preprocessed image goes back to 8-bit pixels, through RGB -> NV12 ->
RGB (:mod:`.nv12`) and is normalised again, then the float ONNX model or its ONNX Runtime QDQ
int8 version runs on it. The accuracy evaluator uses its ``predict``; the figures are
``measured-host`` and their ``extra`` says ``emulation`` (not the BPU's own int8 arithmetic:
that only the compiled .bin on a board gives).
"""

from __future__ import annotations

from typing import Any

from zoo_bench.options import Option
from zoo_bench.plugin import Artifact, Runner, StageContext, StageOutput, Target, UsageError
from zoo_bench.tools import dist_version, missing_module

from .nv12 import round_trip_batch

EMULATION = ("host emulation of the RDK X5 input path: RGB -> NV12 -> RGB (BT.601 full range), "
             "ONNX Runtime CPU; int8 = ONNX Runtime QDQ, not the BPU's quantizer")


class RdkNv12OnnxRuntime(Runner):
    """ONNX Runtime on NV12 round-tripped inputs (host emulation of the RDK X5 input path)."""

    name = "rdk_nv12_onnxruntime"
    accepts = ("onnx",)
    options = {"threads": Option("int", default=1, min=1, max=256, help="CPU threads ONNX Runtime may use")}
    #: added to the evaluator's figures (see zoo_bench.builtin.accuracy)
    prediction_notes = {"emulation": EMULATION}

    def tool_versions(self) -> dict[str, str]:
        return {"onnxruntime": dist_version("onnxruntime")}

    def unavailable_reason(self, target: Target | None = None, options: dict[str, Any] | None = None) -> str | None:
        if missing_module(["onnxruntime"]):
            return "onnxruntime is not installed (pip install 'zoo-bench[host]')"
        return None

    def run(self, ctx: StageContext) -> StageOutput:
        raise UsageError("rdk_nv12_onnxruntime only predicts for the accuracy evaluator; host timings of an "
                         "RDK X5 model say nothing about the BPU")

    def predict(self, artifact: Artifact, batch: Any, options: dict[str, Any]) -> Any:
        from zoo_bench.builtin.host import OnnxRuntimeRunner

        pre = options.get("preprocess")
        if pre is None:
            raise UsageError("rdk_nv12_onnxruntime needs the model's preprocessing (option preprocess) "
                             "to get back to pixels")
        seen = round_trip_batch(batch, pre.mean, pre.std, pre.layout)
        return OnnxRuntimeRunner().predict(artifact, seen, options)
