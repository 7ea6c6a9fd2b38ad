"""Accuracy with the toolchain's own arithmetic: ``rdk_hb_onnxruntime``.

``hb_mapper makertbin`` writes ``<prefix>_quantized_model.onnx`` beside the ``.bin``: the model as
the BPU computes it (Horizon's quantized operators, NV12 input seen as YUV444 NHWC). Horizon's
``horizon_tc_ui.HB_ONNXRuntime`` runs it on the host; it lives in the toolchain's CPython 3.10
environment, so this runner starts that interpreter with the batch in a .npy file. Inputs go the
way a camera frame does: the preprocessed batch back to 8-bit RGB pixels, RGB -> NV12 (BT.601
full range, as the toolchain's own ``RGB2NV12Transformer``), then NV12 -> YUV444 by repeating each
chroma sample over its 2x2 block (the toolchain's ``NV12ToYUV444Transformer``); HB_ONNXRuntime
subtracts 128 (uint8 -> int8). The float reference is the project's float ONNX (the one hb_mapper
read) under ONNX Runtime, on NV12 round-tripped inputs.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Any

from zoo_bench.plugin import (
    Artifact,
    Runner,
    StageContext,
    StageOutput,
    Target,
    ToolUnavailable,
    UsageError,
    dist_version,
)

from . import toolchain
from .nv12 import rgb_to_nv12, round_trip_batch

PROJECT_FORMAT = "hb-mapper-project"
BIN_FORMAT = "hbm-bin"
QUANTIZED = "quantized_onnx"
ARITHMETIC = ("int8: the toolchain's quantized model (hb_mapper's *_quantized_model.onnx) under horizon_tc_ui's "
              "HB_ONNXRuntime on the host, NV12 input as YUV444 - the BPU's arithmetic, simulated; float: the "
              "float ONNX hb_mapper read, ONNX Runtime, NV12 round-tripped inputs")
_SCRIPT = """
import sys
import numpy as np
from horizon_tc_ui import HB_ONNXRuntime
sess = HB_ONNXRuntime(model_file=sys.argv[1])
x = np.load(sys.argv[2])
name = sess.input_names[0]
outs = [np.asarray(sess.run(sess.output_names, {name: x[i:i + 1]})[0], dtype=np.float32).reshape(1, -1)
        for i in range(len(x))]
np.save(sys.argv[3], np.concatenate(outs))
"""


def yuv444_batch(batch: Any, mean: tuple[float, ...], std: tuple[float, ...], layout: str) -> Any:
    """A preprocessed float batch as the quantized model's input: uint8 YUV444 NHWC from NV12."""
    import numpy as np

    x = np.asarray(batch, dtype=np.float32)
    nhwc = x.transpose(0, 2, 3, 1) if layout == "NCHW" else x
    pixels = np.clip(np.rint(nhwc * np.asarray(std, np.float32) + np.asarray(mean, np.float32)), 0, 255)
    out = []
    for image in pixels.astype(np.uint8):
        h, w = image.shape[:2]
        nv12 = rgb_to_nv12(image)
        y = nv12[:h * w].reshape(h, w)
        uv = nv12[h * w:].reshape(h // 2, w // 2, 2).repeat(2, axis=0).repeat(2, axis=1)
        out.append(np.concatenate([y[..., None], uv], axis=2))
    return np.stack(out).astype(np.uint8)


class RdkHbOnnxRuntime(Runner):
    """Float and int8 outputs for the accuracy evaluator: the int8 from Horizon's HB_ONNXRuntime."""

    name = "rdk_hb_onnxruntime"
    accepts = (BIN_FORMAT, PROJECT_FORMAT)
    prediction_notes = {"arithmetic": ARITHMETIC}

    def tool_versions(self) -> dict[str, str]:
        # The evaluator asks without options: the toolchain found by default (variable, installed, PATH);
        # one named only by -s toolchain_python is "unknown" here (its .bin's meta has its versions).
        found = toolchain.find_toolchain({})
        versions = found.versions() if found else {}
        return {"hb_mapper": versions.get("hb_mapper", "unknown"), "onnxruntime": dist_version("onnxruntime")}

    def unavailable_reason(self, target: Target | None = None, options: dict[str, Any] | None = None) -> str | None:
        return toolchain.missing_reason(options)

    def run(self, ctx: StageContext) -> StageOutput:
        raise UsageError("rdk_hb_onnxruntime only predicts for the accuracy evaluator")

    def predict(self, artifact: Artifact, batch: Any, options: dict[str, Any]) -> Any:
        import numpy as np

        pre = options.get("preprocess")
        if pre is None:
            raise UsageError("rdk_hb_onnxruntime needs the model's preprocessing (option preprocess)")
        if artifact.format == PROJECT_FORMAT:  # the float model hb_mapper read
            from zoo_bench.builtin.host import OnnxRuntimeRunner

            seen = round_trip_batch(batch, pre.mean, pre.std, pre.layout)
            return OnnxRuntimeRunner().predict(Artifact(artifact.files["onnx"], "onnx"), seen, options)
        quantized = artifact.files.get(QUANTIZED)
        if quantized is None:
            raise UsageError(f"{artifact.path.name} was compiled without keeping hb_mapper's quantized ONNX")
        python = artifact.meta.get("toolchain_python")
        tc = toolchain.find_toolchain({"toolchain_python": python} if python and Path(python).exists() else {})
        if tc is None or len(tc.command) < 2:
            raise ToolUnavailable("HB_ONNXRuntime needs the toolchain's Python 3.10: " + toolchain.HOW_TO)
        with tempfile.TemporaryDirectory(prefix="zb-hbort-") as tmp:
            inp, out = Path(tmp) / "in.npy", Path(tmp) / "out.npy"
            np.save(inp, yuv444_batch(batch, pre.mean, pre.std, pre.layout))
            env = tc.env()
            env.pop("PYTHONPATH", None)
            proc = subprocess.run([tc.command[0], "-c", _SCRIPT, str(quantized), str(inp), str(out)], env=env,
                                  capture_output=True, text=True, timeout=3600)
            if proc.returncode != 0 or not out.is_file():
                tail = " | ".join((proc.stdout + proc.stderr).strip().splitlines()[-3:])
                raise RuntimeError(f"HB_ONNXRuntime failed (exit {proc.returncode}): {tail}")
            return np.load(out)
