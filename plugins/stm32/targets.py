"""The STM32 targets and their chains of stages (as ST's model-zoo cards make their figures).

- ``stm32h7`` (STM32H747I-DISCO, Cortex-M7 at 400 MHz) and ``stm32n6`` (STM32N6570-DK,
  Cortex-M55 + Neural-ART NPU): int8 model -> ``compile:stedgeai`` (when installed) and the open
  estimate ``compile:stm32_footprint`` (when not), ``run:stm32_validate`` on a board over USB,
  host accuracy with kernels matching the target's runtime.
- ``stm32mp1`` (STM32MP157F-DK2, 2x Cortex-A7 at 800 MHz) and ``stm32mp2`` (STM32MP257F-DK,
  2x Cortex-A35 at 1.5 GHz + NPU): int8 .tflite timed on the board over SSH (CPU; the MP2's NPU
  through the VX delegate), host accuracy with LiteRT.

Quantization follows the cards: TFLite int8 with uint8 input and float output for MCU and MPU;
QDQ int8 ONNX for the N6 where the model's source exports ONNX (the Keras source exports only
TFLite, so Keras models take the TFLite path there: STEdgeAI accepts both for the N6).
``stm32n6_tflite`` is the N6 with the TFLite path for every model.
"""

from __future__ import annotations

from dataclasses import dataclass

from zoo_bench.plan import Planner, StageRef
from zoo_bench.plugin import ModelSpec, Target

from .memory import H7_REGIONS, MP1_REGIONS, MP2_REGIONS, N6_REGIONS, Region, memory_kib

#: Source formats the built-in quantizers take (ONNX through onnx2torch + litert-torch).
QUANTIZABLE = ("keras", "torch", "onnx")
MCU_RUNNER = "stm32_validate"
MPU_RUNNER = "stm32mp_board"
#: LiteRT with its reference kernels: bit-exact with TFLM (TOOLCHAIN.md), the MCU's kernels.
REFERENCE_RUNNER = "litert_ref"
#: The fitted estimator (zoo_bench.estimate) this plugin registers with its published points.
ESTIMATOR = "stm32_estimate"


@dataclass(frozen=True)
class Stm32Target(Target):
    """An ST board: ``family`` is ``mcu``, ``n6`` or ``mpu``; ``regions`` its memory map;
    ``stedgeai_series`` the ``--target`` STEdgeAI takes; ``n6_format`` ``auto`` (QDQ ONNX where the
    source exports ONNX) or ``tflite``; ``npu_delegate`` the MPU's NPU delegate (``""``: none)."""

    family: str = "mcu"
    regions: tuple[Region, ...] = ()
    stedgeai_series: str = "stm32"
    n6_format: str = "auto"
    npu_delegate: str = ""
    cpu_threads: int = 1

    def supports(self, model: ModelSpec) -> str | None:
        if model.native_format in (*QUANTIZABLE, "tflite"):
            return None
        return f"target {self.id} takes Keras, PyTorch or ONNX models or .tflite files, not {model.native_format}"

    def _int8(self, model: ModelSpec, p: Planner) -> tuple[StageRef, list[StageRef], str]:
        """The int8 model, the accuracy leaf and the runner the accuracy uses."""
        src = p.source()
        onnx_path = self.family == "n6" and self.n6_format == "auto" and model.native_format in ("torch", "onnx")
        if onnx_path:
            flt = p.export(src, "onnx") if model.native_format == "torch" else src
            q8 = p.quantize(flt, "onnx_qdq", activation_type="int8")
            return q8, [p.evaluate(flt, q8, runner="onnxruntime")], "onnxruntime"
        runner = REFERENCE_RUNNER if self.family in ("mcu", "n6") else "litert"
        if model.native_format == "tflite":  # a model file given as is (expected to be int8)
            return src, [p.evaluate(src, runner=runner)], runner
        q8 = p.quantize(src, "tflite_int8", input_type="uint8", output_type="float32")
        # the float .tflite only serves the accuracy stage: without a data set it is not exported
        # (a Keras export costs ~80 s), and the accuracy stage is skipped with the reason
        if model.native_format in ("keras", "onnx") and p.options.get("dataset"):
            return q8, [p.evaluate(p.export(src, "tflite"), q8, runner=runner)], runner
        return q8, [p.evaluate(q8, runner=runner)], runner  # int8 alone (torch sources export no float .tflite)

    def plan(self, model: ModelSpec, p: Planner) -> list[StageRef]:
        q8, leaves, _ = self._int8(model, p)
        leaves.append(self._estimate(model, p, q8))
        if self.family == "mpu":
            leaves.append(p.run(q8, MPU_RUNNER, label=f"cpu-{self.cpu_threads}t", delegate="none",
                                threads=self.cpu_threads))
            if self.npu_delegate:
                leaves.append(p.run(q8, MPU_RUNNER, label="npu", delegate=self.npu_delegate,
                                    threads=self.cpu_threads))
            return leaves
        leaves.append(p.compile(q8, "stedgeai"))
        leaves.append(p.compile(q8, "stm32_footprint"))
        leaves.append(p.run(q8, MCU_RUNNER, label="board"))
        return leaves

    def _estimate(self, model: ModelSpec, p: Planner, q8: StageRef) -> StageRef:
        """The fitted latency (and, on the H7, memory) estimate of docs/estimators.md. It reads the
        workload of an int8 .tflite: on the N6's ONNX path one is made for it."""
        if p.stages[q8].component != "tflite_int8" and model.native_format != "tflite":
            q8 = p.quantize(p.source(), "tflite_int8", input_type="uint8", output_type="float32")
        fitted_as = {"stm32n6_tflite": "stm32n6"}.get(self.id)
        extra = {"estimate_target": fitted_as} if fitted_as else {}
        return p.side_branch(p.run(q8, ESTIMATOR, label="estimate", **extra))


def stm32_targets(board_defaults: tuple[tuple[str, object], ...] = ()) -> list[Stm32Target]:
    """The five targets; ``board_defaults`` (the resolved boards file) join the MPU defaults."""
    mpu_defaults = (("warmup", 5), ("runs", 50), *board_defaults)
    return [
        Stm32Target(id="stm32h7", vendor="ST", device_class="MCU", clock_mhz=400.0,
                    description="STM32H747I-DISCO: Cortex-M7 at 400 MHz, 2 MiB flash, 992 KiB data RAM, "
                                "32 MiB SDRAM, 128 MiB QSPI flash",
                    memory_kib=memory_kib(H7_REGIONS), family="mcu", regions=H7_REGIONS, stedgeai_series="stm32"),
        Stm32Target(id="stm32n6", vendor="ST", device_class="NPU", clock_mhz=800.0,
                    description="STM32N6570-DK: Cortex-M55 at 800 MHz + Neural-ART NPU; 2.75 MiB NPU/CPU RAM pools, "
                                "32 MiB hyperRAM, octoFlash (QDQ ONNX where the source exports ONNX)",
                    memory_kib=memory_kib(N6_REGIONS), family="n6", regions=N6_REGIONS, stedgeai_series="stm32n6"),
        Stm32Target(id="stm32n6_tflite", vendor="ST", device_class="NPU", clock_mhz=800.0,
                    description="STM32N6570-DK with TFLite int8 models (uint8 in, float out) for every model",
                    memory_kib=memory_kib(N6_REGIONS), family="n6", regions=N6_REGIONS, stedgeai_series="stm32n6",
                    n6_format="tflite"),
        Stm32Target(id="stm32mp1", vendor="ST", device_class="MPU", clock_mhz=800.0,
                    description="STM32MP157F-DK2: 2x Cortex-A7 at 800 MHz, Linux, X-LINUX-AI (TFLite on the CPU)",
                    memory_kib=memory_kib(MP1_REGIONS), family="mpu", regions=MP1_REGIONS, cpu_threads=2,
                    defaults=mpu_defaults),
        Stm32Target(id="stm32mp2", vendor="ST", device_class="MPU", clock_mhz=1500.0,
                    description="STM32MP257F-DK: 2x Cortex-A35 at 1.5 GHz + NPU/GPU (VX delegate), Linux, X-LINUX-AI",
                    memory_kib=memory_kib(MP2_REGIONS), family="mpu", regions=MP2_REGIONS, cpu_threads=2,
                    npu_delegate="vx", defaults=mpu_defaults),
    ]
