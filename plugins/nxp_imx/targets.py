"""The i.MX targets and their chains of stages (NXP eIQ model zoo recipe).

Both targets quantize the model the way NXP's zoo does (TFLite full-integer int8, int8 input and
output, per-channel weights), measure the int8 model's accuracy on the host with LiteRT, and time
it on a board: on the Cortex-A cores at each thread count and on the NPU through its delegate.
The i.MX 93 also compiles it with Vela for its Ethos-U65 and records Vela's estimate; the
i.MX 8M Plus's NPU has no offline compiler (the VX delegate compiles on the board).
"""

from __future__ import annotations

from dataclasses import dataclass

from zoo_bench.plan import Planner, StageRef
from zoo_bench.plugin import ModelSpec, Target

from .board_runner import ImxBoardRunner

RUNNER = ImxBoardRunner.name
#: The estimator registered in __init__.py (NPU latency fitted on published_points.json).
ESTIMATOR = "imx_estimate"
#: Source formats the tflite_int8 quantizer takes directly (ONNX through onnx2torch + litert-torch).
QUANTIZABLE = ("keras", "torch", "onnx")


@dataclass(frozen=True)
class ImxTarget(Target):
    """An i.MX application processor with an NPU reached through a TFLite external delegate.

    ``npu_delegate`` names the delegate (see ``board_runner.DEFAULT_DELEGATES``), ``cpu_threads``
    the thread counts the CPU is timed with, ``vela`` whether models are compiled with Vela.
    """

    npu_delegate: str = ""
    cpu_threads: tuple[int, ...] = (1,)
    vela: bool = False

    def supports(self, model: ModelSpec) -> str | None:
        if model.native_format in QUANTIZABLE or model.native_format == "tflite":
            return None
        return (f"target {self.id} takes Keras, PyTorch or ONNX models (quantized to int8 TFLite) or .tflite files, "
                f"not {model.native_format}")

    def plan(self, model: ModelSpec, p: Planner) -> list[StageRef]:
        src = p.source()
        leaves: list[StageRef] = []
        if model.native_format == "tflite":  # a model file given as is (expected to be int8)
            q8 = src
        else:
            q8 = p.quantize(src, "tflite_int8", input_type="int8", output_type="int8")
            if model.native_format in ("keras", "onnx"):  # float reference for the accuracy drop
                leaves.append(p.evaluate(p.export(src, "tflite"), q8, runner="litert"))
            else:  # torch sources export no float .tflite: int8 accuracy alone
                leaves.append(p.evaluate(q8, runner="litert"))
        npu_input = q8
        if self.vela:
            npu_input = p.compile(q8, "vela")
            leaves.append(npu_input)
        # Without a board, the NPU latency is estimated from the eIQ zoo's published measurements;
        # with one, the measured row comes first and the estimate stays beside it.
        leaves.append(p.side_branch(p.run(q8, ESTIMATOR, label="estimate")))
        npu_threads = max(self.cpu_threads)
        leaves.append(p.run(npu_input, RUNNER, label="npu", delegate=self.npu_delegate, threads=npu_threads))
        for threads in self.cpu_threads:
            leaves.append(p.run(q8, RUNNER, label=f"cpu-{threads}t", delegate="none", threads=threads))
        return leaves


def imx_targets(board_defaults: tuple[tuple[str, object], ...] = ()) -> list[ImxTarget]:
    """The two targets; ``board_defaults`` (e.g. the resolved boards file) join their defaults."""
    run_defaults = (("warmup", 5), ("runs", 50), *board_defaults)
    return [
        ImxTarget(
            id="imx93",
            vendor="NXP",
            device_class="MPU",
            description="NXP i.MX 93: Arm Ethos-U65-256 microNPU at 1 GHz (Vela) + 2x Cortex-A55 at 1.7 GHz",
            clock_mhz=1700.0,
            defaults=(*run_defaults, ("accelerator_config", "ethos-u65-256"), ("system_config", "iMX93"),
                      ("memory_mode", "iMX93_Dedicated_Sram_384KB")),
            npu_delegate="ethosu",
            cpu_threads=(1, 2),
            vela=True,
        ),
        ImxTarget(
            id="imx8mp",
            vendor="NXP",
            device_class="MPU",
            description="NXP i.MX 8M Plus: VeriSilicon VIP8000 NPU (TFLite VX delegate) + 4x Cortex-A53 at 1.8 GHz",
            clock_mhz=1800.0,
            defaults=run_defaults,
            npu_delegate="vx",
            cpu_threads=(1, 2, 4),
        ),
    ]
