"""The ``rdk_x5`` target and its chain of stages (D-Robotics' RDK X5 model-zoo flow).

source -> float ONNX -> ``quantize:hb_mapper_setup`` (YAML + calibration set, always kept) ->
``compile:hb_mapper`` (checker + makertbin: the NV12 .bin and the toolchain's estimates; skipped
without the toolchain) -> ``run:rdk_board:bpu-{1,4,8}t`` (hrt_model_exec perf on a board; skipped
without one) and ``run:rdk_estimate:estimate`` (hbdk-perf's latency corrected by a fit on published
board figures). Beside it, on this host (PyTorch and ONNX sources): ONNX Runtime QDQ int8 of the
float ONNX, and float and int8 accuracy on NV12 round-tripped inputs (``evaluate:accuracy``).
"""

from __future__ import annotations

from dataclasses import dataclass

from zoo_bench.plan import Planner, StageRef
from zoo_bench.plugin import ModelSpec, Target

from . import toolchain
from .board_runner import RdkBoardRunner
from .emulation import RdkNv12OnnxRuntime
from .hb_mapper import HbMapperCompiler, HbMapperSetup
from .hb_runtime import RdkHbOnnxRuntime

#: The runner name of the latency estimator (zoo_bench.estimate) registered by this plugin.
ESTIMATOR = "rdk_estimate"

#: hrt_model_exec thread counts: D-Robotics' cards publish 1 and 4; 8 shows whether the BPU is saturated.
BOARD_THREADS = (1, 4, 8)


@dataclass(frozen=True)
class RdkX5Target(Target):
    """RDK X5: models compile to NV12 .bin files with the Horizon toolchain and run with hrt_model_exec."""

    board_threads: tuple[int, ...] = BOARD_THREADS

    def supports(self, model: ModelSpec) -> str | None:
        if model.native_format not in ("torch", "keras", "onnx"):
            return (f"target {self.id} compiles ONNX models (PyTorch and Keras sources are exported to ONNX), "
                    f"not {model.native_format}")
        if model.preprocess is None or model.preprocess.layout not in ("NCHW", "NHWC"):
            return f"target {self.id} needs a model with declared preprocessing (mean/std and layout for hb_mapper)"
        return None

    def plan(self, model: ModelSpec, p: Planner) -> list[StageRef]:
        src = p.source()
        # The Horizon flow makes its own opset-11 ONNX from the native model (hb_mapper takes no newer).
        project = p.quantize(src, HbMapperSetup.name)
        binary = p.compile(project, HbMapperCompiler.name)
        leaves = [binary]
        for threads in self.board_threads:
            leaves.append(p.run(binary, RdkBoardRunner.name, label=f"bpu-{threads}t", threads=threads))
        # A model-estimate of the 1-thread BPU latency: hbdk-perf's figure of this compile,
        # corrected by a fit on D-Robotics' published board figures (estimate.py).
        leaves.append(p.run(binary, ESTIMATOR, label="estimate"))
        if toolchain.find_toolchain(p.options) is not None:
            # Accuracy with the toolchain's own arithmetic: its quantized model under HB_ONNXRuntime.
            leaves.append(p.evaluate(project, binary, runner=RdkHbOnnxRuntime.name))
        elif model.native_format in ("torch", "onnx"):
            # Without the toolchain, a host emulation: ONNX Runtime QDQ with int8 activations.
            flt = p.export(src, "onnx") if model.native_format == "torch" else src
            q8 = p.quantize(flt, "onnx_qdq", activation_type="int8")
            leaves.append(p.evaluate(flt, q8, runner=RdkNv12OnnxRuntime.name))
        return leaves


def rdk_targets(board_defaults: tuple[tuple[str, object], ...] = ()) -> list[RdkX5Target]:
    """The target; ``board_defaults`` (the resolved boards file) join its defaults."""
    return [RdkX5Target(
        id="rdk_x5",
        vendor="D-Robotics",
        device_class="NPU",
        description="D-Robotics RDK X5: Bayes-e BPU (march bayes-e, 10 TOPS int8 at 1 GHz) "
                    "+ 8x Cortex-A55 at 1.8 GHz; NV12 input",
        clock_mhz=1000.0,
        defaults=(("frame_count", 200), *board_defaults),
    )]
