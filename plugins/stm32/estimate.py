"""The open footprint estimate (compiler ``stm32_footprint``): STM32 memory figures without STEdgeAI.

Each figure says how it was made (``model-estimate``, tool and version of what made it):

- ``weights_flash_kib``: the constant buffers of the int8 flatbuffer (tool ``tflite-flatbuffer``,
  version of ai-edge-litert whose schema reads it), or the integer initializers of a QDQ ONNX model
  (tool ``onnx-initializers``, onnx version; :mod:`zoo_bench_stm32.onnx_arena`);
- ``activation_ram_kib``: TensorFlow Lite Micro's planner, the arena's non-persistent part
  (tool ``tflm-planner``, tflite-micro version; :mod:`zoo_bench_stm32.tflm_arena`), or for ONNX
  the same greedy planning over the QDQ graph (tool ``onnx-greedy-planner``);
- MCU: ``runtime_ram_kib`` and ``code_flash_kib`` from the estimator fitted on every ST
  model-zoo figure that has them (``published_points.json``, judged leave-one-model-out by
  ``zoo-bench fidelity``; a network among the fitted ones gets its leave-one-out value), for a
  .tflite model; for an ONNX model (no workload) the older weights-only fit of
  :mod:`zoo_bench_stm32.footprint_model`; and their totals;
- N6: ``internal_ram_kib`` / ``external_ram_kib``: for a .tflite model, every activation buffer
  placed whole into the N6 memory map's pools (cpuRAM2, then the four npuRAM banks; a buffer
  larger than a bank over adjacent banks), what fits none in hyperRAM
  (:func:`zoo_bench.estimate.placement.place_buffers`, pools from
  :func:`zoo_bench_stm32.memory.npu_pools`); for ONNX, the arena into the pools by size
  (:func:`zoo_bench_stm32.memory.place_in_pools`);
- verdicts ``fits_internal_ram``, ``fits_with_external_ram``, ``fits_internal_flash``,
  ``fits_with_external_flash`` against the target's memory map.

When STEdgeAI is installed the stage is skipped (its figures replace these) unless
``-s open_estimate=always``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from zoo_bench.options import Option
from zoo_bench.plugin import Artifact, Compiler, Figure, StageContext, StageOutput, Target, UsageError
from zoo_bench.tools import dist_version, missing_module

from . import footprint_model
from .memory import Region, place_in_pools
from .stedgeai import STEDGEAI_OPTIONS, find_stedgeai, fit_figures


def tflite_weight_bytes(path: Path) -> int:
    """Bytes of the constant tensors' data in a .tflite flatbuffer (each buffer counted once)."""
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(path.read_bytes()), 0)
    used: set[int] = set()
    total = 0
    for subgraph in model.subgraphs or []:
        for tensor in subgraph.tensors or []:
            if tensor.buffer in used or tensor.buffer == 0:
                continue
            buf = model.buffers[tensor.buffer]
            size = len(buf.data) if buf.data is not None else int(buf.size or 0)
            if size:
                used.add(tensor.buffer)
                total += size
    return total


class Stm32FootprintEstimator(Compiler):
    """Open STM32 memory estimate: flatbuffer/ONNX weights, TFLM planner, ST footprint fit, fit verdicts."""

    name = "stm32_footprint"
    accepts = ("tflite", "onnx")
    provenance = "model-estimate"  # no vendor tool's report: an open estimate
    options = {
        **STEDGEAI_OPTIONS,
        "open_estimate": Option("choice", default="auto", choices=("auto", "always"),
                                help="auto: skip when STEdgeAI is installed (its figures replace these); always: run"),
    }

    def tool_versions(self) -> dict[str, str]:
        from zoo_bench.estimate.fit import ESTIMATOR_VERSION

        return {"tflite-micro": dist_version("tflite-micro"), "ai-edge-litert": dist_version("ai-edge-litert"),
                "onnx": dist_version("onnx"), footprint_model.TOOL: footprint_model.VERSION,
                "zoo-bench-estimate": ESTIMATOR_VERSION}

    def input_files(self, options: dict[str, Any]) -> list[Path]:
        """The published points and cached workloads the runtime RAM / code flash fit rests on."""
        from zoo_bench.estimate.data import workloads_files

        files = [Path(__file__).with_name("published_points.json"), *workloads_files()]
        return [f for f in files if f.exists()]

    def unavailable_reason(self, target: Target | None = None, options: dict[str, Any] | None = None) -> str | None:
        options = options or {}
        exe = find_stedgeai(options)
        if exe is not None and options.get("open_estimate", "auto") != "always":
            return (f"STEdgeAI found at {exe}: the compile:stedgeai figures replace the open estimate "
                    "(-s open_estimate=always runs it as well)")
        missing = missing_module(["tflite_micro", "ai_edge_litert"])
        if missing:
            return f"{missing} is not installed (pip install 'zoo-bench[stm32]')"
        return None

    def compile(self, ctx: StageContext) -> StageOutput:
        src = ctx.input
        if src.format == "tflite":
            from .tflm_arena import measure

            weights = tflite_weight_bytes(src.path)
            weights_tool = ("tflite-flatbuffer", dist_version("ai-edge-litert"))
            arena = measure(src.path)
            runtime = fitted_runtime(ctx.target.id, ctx.model.name, src.path)
            placement = buffer_placement(ctx.target, src.path)
            activations = arena["head"]
            act_tool = ("tflm-planner", dist_version("tflite-micro"))
            act_extra: dict[str, Any] = {"arena_total_bytes": arena["total"], "arena_persistent_bytes": arena["tail"],
                                         "part": "non-persistent (head)"}
        elif src.format == "onnx":
            from .onnx_arena import onnx_footprint

            found = onnx_footprint(src.path)
            if found["unknown_shapes"]:
                raise UsageError(f"{src.path.name}: shapes of {len(found['unknown_shapes'])} tensors are unknown "
                                 f"(e.g. {found['unknown_shapes'][0]}); export with a fixed batch of 1")
            weights = found["weights_bytes"]
            weights_tool = ("onnx-initializers", dist_version("onnx"))
            activations = found["activation_bytes"]
            act_tool = ("onnx-greedy-planner", dist_version("onnx"))
            act_extra = {"buffers": found["buffers"]}
            runtime = {}
            placement = None
        else:
            raise UsageError(f"stm32_footprint takes .tflite or .onnx models, not {src.format}")
        figures = estimate_figures(ctx.target, weights, activations, weights_tool, act_tool, act_extra, runtime,
                                   placement)
        summary = ctx.workdir / "footprint.json"
        summary.write_text(json.dumps([{"metric": f.metric, "value": f.value, "method": f.method, "tool": f.tool,
                                        "tool_version": f.tool_version} for f in figures], indent=1))
        ctx.log(f"weights {weights / 1024:.1f} KiB, activations {activations / 1024:.1f} KiB ({act_tool[0]})")
        artifact = Artifact(path=summary, format="stm32-footprint", precision=src.precision,
                            meta={"input_meta": src.meta})
        return StageOutput(artifact=artifact, figures=figures)


def buffer_placement(target: Target, model: Path) -> Any:
    """Whole-buffer placement of the model's activations into the target's NPU pools, or
    ``None`` for a target without them."""
    from zoo_bench.estimate.placement import place_buffers
    from zoo_bench.estimate.workload import workload_of_tflite

    from .memory import npu_pools

    pools = npu_pools(getattr(target, "regions", ()))
    if not pools or getattr(target, "stedgeai_series", "") != "stm32n6":
        return None
    return place_buffers(workload_of_tflite(model).graph, pools)


def fitted_runtime(target_id: str, model_name: str, model: Path) -> dict[str, Figure]:
    """Runtime RAM and code flash rows of the estimator fitted on ST's published points for
    ``target_id`` (empty when it has none): LOMO-judged, leave-one-out for a fitted network."""
    from zoo_bench.estimate.component import ModelEstimator
    from zoo_bench.estimate.workload import workload_of_tflite

    from .targets import ESTIMATOR

    est = ModelEstimator(ESTIMATOR, Path(__file__).with_name("published_points.json"))
    fits, pf, workloads = est.fits_with_data(target_id, None)
    fits = [f for f in fits if f.model.metric in ("runtime_ram_kib", "code_flash_kib")]
    if not fits:
        return {}
    workload = workload_of_tflite(model).as_dict()
    return {f.metric: f for f in est.estimate(fits, pf, workloads, model_name, workload)}


def estimate_figures(target: Target, weights_bytes: int, activation_bytes: int, weights_tool: tuple[str, str],
                     act_tool: tuple[str, str], act_extra: dict[str, Any] | None = None,
                     runtime_figures: dict[str, Figure] | None = None, placement: Any = None) -> list[Figure]:
    """Every open-estimate row for one model on ``target`` (see the module docstring)."""
    regions: tuple[Region, ...] = getattr(target, "regions", ())
    n6 = getattr(target, "stedgeai_series", "") == "stm32n6"
    weights_kib, act_kib = weights_bytes / 1024.0, activation_bytes / 1024.0
    figures = [
        Figure("weights_flash_kib", weights_kib, "KiB", "model-estimate", *weights_tool),
        Figure("activation_ram_kib", act_kib, "KiB", "model-estimate", *act_tool,
               extra={**(act_extra or {}), "io_allocated_in_activations": True}),
    ]
    parts = {"weights": weights_tool[0], "activations": act_tool[0]}
    if n6 and placement is not None:
        from zoo_bench.estimate.fit import ESTIMATOR_VERSION

        how = {"placement": "each activation buffer whole in cpuRAM2, then the npuRAM banks, the rest in hyperRAM",
               "pools_kib": placement.used_kib, "buffers": placement.buffers}
        tool = ("zoo-bench-buffer-placement", ESTIMATOR_VERSION)
        figures += [Figure("internal_ram_kib", placement.internal_kib, "KiB", "model-estimate", *tool, extra=how),
                    Figure("external_ram_kib", placement.external_kib, "KiB", "model-estimate", *tool, extra=how)]
        ram_need, flash_need = act_kib, weights_kib
        fit_tool = f"{act_tool[0]}+{weights_tool[0]}"
    elif n6:
        internal, external = place_in_pools(regions, act_kib)
        how = {"placement": "activations into the internal pools by size, the rest in hyperRAM"}
        figures += [Figure("internal_ram_kib", internal, "KiB", "model-estimate", *act_tool, extra=how),
                    Figure("external_ram_kib", external, "KiB", "model-estimate", *act_tool, extra=how)]
        ram_need, flash_need = act_kib, weights_kib
        fit_tool = f"{act_tool[0]}+{weights_tool[0]}"
    else:
        fitted = runtime_figures or {}
        if {"runtime_ram_kib", "code_flash_kib"} <= set(fitted):
            runtime = {k: float(fitted[k].value) for k in ("runtime_ram_kib", "code_flash_kib")}
            runtime_rows = [fitted["runtime_ram_kib"], fitted["code_flash_kib"]]
            runtime_tool = fitted["runtime_ram_kib"].tool
        else:
            runtime = footprint_model.estimate(weights_kib)
            rest = {"rests_on": footprint_model.SOURCE, "input": "weights_flash_kib"}
            runtime_rows = [Figure(k, runtime[k], "KiB", "model-estimate", footprint_model.TOOL,
                                   footprint_model.VERSION, extra=rest) for k in ("runtime_ram_kib", "code_flash_kib")]
            runtime_tool = footprint_model.TOOL
        ram_need = act_kib + runtime["runtime_ram_kib"]
        flash_need = weights_kib + runtime["code_flash_kib"]
        fit_tool = f"{act_tool[0]}+{weights_tool[0]}+{runtime_tool}"
        parts["runtime"] = runtime_tool
        figures += [
            *runtime_rows,
            Figure("total_ram_kib", ram_need, "KiB", "model-estimate", fit_tool, act_tool[1], extra={"parts": parts}),
            Figure("total_flash_kib", flash_need, "KiB", "model-estimate", fit_tool, weights_tool[1],
                   extra={"parts": parts}),
        ]
    figures += fit_figures(regions, ram_need, flash_need, "model-estimate", fit_tool, act_tool[1], {"parts": parts})
    return figures
