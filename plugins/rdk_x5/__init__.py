"""D-Robotics RDK X5 plugin: target ``rdk_x5`` (Bayes-e BPU), the Horizon toolchain stages
``hb_mapper_setup`` (quantizer: YAML + calibration data) and ``hb_mapper`` (compiler), the
``rdk_board`` runner (hrt_model_exec over SSH) and the host emulation runner
``rdk_nv12_onnxruntime`` (ONNX Runtime on NV12 round-tripped inputs).

Importing it is cheap (no onnx, no toolchain): the CLI imports every plugin to list them.
docs/rdk_x5.md describes the flow and what runs where.
"""

from __future__ import annotations

from pathlib import Path

from zoo_bench.board.inventory import boards_file
from zoo_bench.estimate.data import EstimatorData
from zoo_bench.formats import ArtifactFormat, register_format
from zoo_bench.plugin import Metric, hookimpl

from .board_runner import RdkBoardRunner
from .emulation import RdkNv12OnnxRuntime
from .estimate import RdkHbdkEstimator
from .hb_mapper import HbMapperCompiler, HbMapperSetup
from .hb_runtime import RdkHbOnnxRuntime
from .targets import rdk_targets
from .toolchain import SPEC as HORIZON_TOOLCHAIN

register_format(ArtifactFormat(
    "hb-mapper-project", "a folder with the float ONNX, the hb_mapper YAML and the calibration data "
    "(float32 NCHW raw files) that `hb_mapper makertbin` reads", "hb_mapper checker/makertbin --config <yaml>"))
register_format(ArtifactFormat(
    "hbm-bin", "a Horizon BPU model (.bin, NV12 input) compiled by hb_mapper for march bayes-e",
    "hrt_model_exec on the RDK X5 (libdnn)"))


def _board_defaults() -> tuple[tuple[str, object], ...]:
    """The boards file, resolved now, as a default run option (its content enters board stages' keys)."""
    return (("boards", str(Path(boards_file()).resolve())),)


@hookimpl
def zoo_bench_register_quantizers(register):
    register(HbMapperSetup())


@hookimpl
def zoo_bench_register_compilers(register):
    register(HbMapperCompiler())


@hookimpl
def zoo_bench_register_runners(register):
    register(RdkBoardRunner())
    register(RdkNv12OnnxRuntime())
    register(RdkHbOnnxRuntime())
    # Latency estimate: hbdk-perf's figure of the compile, fitted on D-Robotics' published board figures.
    register(RdkHbdkEstimator())


@hookimpl
def zoo_bench_register_targets(register):
    for target in rdk_targets(_board_defaults()):
        register(target)


@hookimpl
def zoo_bench_register_toolchains(register):
    register(HORIZON_TOOLCHAIN)  # `zoo-bench toolchain install horizon`


@hookimpl
def zoo_bench_register_metrics(register):
    # hb_mapper's own figures (compile:hb_mapper, tool-estimate): domains checked on every row
    register(Metric("bpu_ddr_bytes", "bytes", "lower", "non-negative", False, "exact",
                    "DDR traffic per inference, hbdk-perf's static estimate"))
    register(Metric("bpu_op_share", "fraction", "higher", "fraction", False, "exact",
                    "share of the quantized model's nodes placed on the BPU"))
    register(Metric("cpu_ops", "count", "lower", "count", False, "exact", "nodes hb_mapper leaves on the CPU"))
    register(Metric("output_cosine_similarity", "ratio", "higher", "finite", False, "exact",
                    "cosine similarity of the quantized model's output to the float model's (worst output)"))
    register(Metric("node_cosine_similarity_min", "ratio", "higher", "finite", False, "exact",
                    "lowest per-node cosine similarity in hb_mapper's node table"))


# --- estimates: the published points, workloads and card figures this plugin ships ---
_HERE = Path(__file__).parent


@hookimpl
def zoo_bench_register_estimator_data(register):
    register(EstimatorData(_HERE / "published_points.json", _HERE / "workloads.json", name="rdk_x5"))


@hookimpl
def zoo_bench_published_figures():
    return [_HERE / "card_figures.json"]
