"""The two stages of D-Robotics' flow before the board: prepare the toolchain's inputs, then
``hb_mapper checker`` + ``hb_mapper makertbin``.

- ``quantize:hb_mapper_setup`` (:class:`HbMapperSetup`) writes the YAML config and the
  calibration set next to a copy of the float ONNX: a self-contained project directory that is
  kept as an artifact whether or not the toolchain is here (it is what a user hands to
  ``hb_mapper makertbin`` elsewhere). It is a quantize-kind stage because its artifact *is* the
  post-training-quantization recipe; everything after it is int8.
- ``compile:hb_mapper`` (:class:`HbMapperCompiler`) runs the toolchain on that project when it
  is reachable (see :mod:`.toolchain`) and is skipped, saying how to provide it, when not. Its
  figures are the toolchain's own: per-node BPU/CPU placement, cosine similarities of the
  quantized model, and ``hbdk-perf``'s static latency/FPS estimate, all ``tool-estimate``.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from zoo_bench.options import Option
from zoo_bench.plugin import (
    Artifact,
    Compiler,
    Figure,
    Quantizer,
    StageContext,
    StageOutput,
    Target,
    ToolUnavailable,
    UsageError,
)

from . import hb_config, toolchain
from .hb_log import HbMapperLogError, HbMapperReport, error_line, parse_hb_mapper_log

PROJECT_FORMAT = "hb-mapper-project"
BIN_FORMAT = "hbm-bin"
DEFAULT_CALIBRATION_IMAGES = 32
#: The newest ONNX opset hb_mapper 1.24.3 accepts (its checker refuses newer ones).
HORIZON_OPSET = 11


class HbMapperFailed(RuntimeError):
    """hb_mapper ran and failed; the message carries its last lines."""


def _text(data: str | bytes | None) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


def _tail(text: str, n: int = 8) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return " | ".join(lines[-n:])


class HbMapperSetup(Quantizer):
    """hb_mapper's inputs for the RDK X5: an opset-11 ONNX, the YAML config (NV12, bayes-e) and
    float32 calibration files.

    It makes the ONNX itself from the model's native artifact (PyTorch: ``torch.onnx.export``;
    Keras: tf2onnx, NHWC kept and declared as ``input_layout_train``), at ``onnx_opset`` (default
    11: hb_mapper 1.24.3 refuses anything newer, "The opset version of the model is 17, the
    maximum supported version is 11"). An ONNX model is taken as it is when its opset is at most
    ``onnx_opset``, else converted down with ONNX's version converter.
    """

    name = "hb_mapper_setup"
    accepts = ("torch", "keras", "onnx")
    produces = PROJECT_FORMAT
    options = {
        "dataset": Option("str", help="class-per-folder image folder; calibration uses its first images "
                                      "(else random pixels)"),
        "calibration_images": Option("int", default=DEFAULT_CALIBRATION_IMAGES, min=1,
                                     help="calibration images written for hb_mapper (D-Robotics: 20-300)"),
        "onnx_opset": Option("int", default=HORIZON_OPSET, min=7,
                             help=f"ONNX opset of the model handed to hb_mapper (hb_mapper 1.24.3 takes at most "
                                  f"{HORIZON_OPSET})"),
    }

    def quantize(self, ctx: StageContext) -> StageOutput:
        from zoo_bench.builtin.data import calibration_batch

        src = ctx.input
        if src.format not in self.accepts or src.precision != "float32":
            raise UsageError(f"hb_mapper takes a float PyTorch, Keras or ONNX model, not {src.precision} {src.format}")
        project = ctx.workdir / "hb_mapper_project"
        project.mkdir(parents=True, exist_ok=True)
        onnx = project / f"{ctx.model.name}.onnx"
        opset = int(ctx.options.get("onnx_opset", HORIZON_OPSET))
        exporter = export_for_horizon(ctx, onnx, opset)
        settings = hb_config.settings_for(ctx.model, f"./{onnx.name}")
        pre = ctx.model.preprocess
        assert pre is not None  # settings_for checked it
        count = int(ctx.options.get("calibration_images", DEFAULT_CALIBRATION_IMAGES))
        pixels, origin = calibration_batch(hb_config.pixel_preprocess(pre), ctx.options.get("dataset"), count)
        cal_dir = project / hb_config.CALIBRATION_DIR
        files = hb_config.write_calibration(pixels, cal_dir, layout=settings.layout)
        config = project / f"{settings.prefix}_config.yaml"
        config.write_text(hb_config.config_yaml(settings))
        ctx.log(f"wrote {onnx.name} ({exporter}), {config.name} and {len(files)} calibration files ({origin})")
        meta = {"settings": asdict(settings), "calibration": origin, "calibration_images": len(files),
                "onnx_opset": opset, "exporter": exporter, "input_meta": src.meta}
        # Side files are files (each hashed by the cache and checked before use): the ONNX and every
        # calibration file; the project folder is the config's parent.
        artifact = Artifact(config, PROJECT_FORMAT, precision="float32", meta=meta,
                            files={"onnx": onnx, **{f"calibration/{f.name}": f for f in files}})
        return StageOutput(artifact=artifact)


def _onnx_opset(model: Any) -> int:
    return max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0)


def export_for_horizon(ctx: StageContext, dest: Path, opset: int) -> str:
    """Write the ONNX hb_mapper reads at ``dest``; returns how it was made (for the artifact's meta)."""
    src = ctx.input
    if src.format == "onnx":
        import onnx

        model = onnx.load(str(src.path))
        have = _onnx_opset(model)
        if have <= opset:
            shutil.copyfile(src.path, dest)
            return f"the model's own ONNX (opset {have})"
        from onnx import version_converter

        try:
            converted = version_converter.convert_version(model, opset)
            how = f"onnx.version_converter {onnx.__version__} (opset {have} -> {opset})"
        except Exception as exc:  # the converter raises RuntimeError/ValueError/its own errors
            converted, how = _relabel_opset(model, have, opset), "relabelled"
            if converted is None:
                # not a fault of the run: this model cannot take the Horizon flow as given (a skip that
                # says what to do, never a failed job)
                raise ToolUnavailable(f"{src.path.name} is ONNX opset {have}; hb_mapper takes at most opset "
                                      f"{opset} and ONNX's version converter could not convert it "
                                      f"({_first_line(exc)}); export it at opset {opset}") from None
            how = (f"opset {have} relabelled {opset}: every operator has the same inputs, outputs and attributes "
                   f"in both (the version converter: {_first_line(exc)})")
        onnx.save(converted, str(dest))
        return how
    if src.format == "keras":
        import keras

        from .keras_onnx import keras_to_onnx

        net = keras.models.load_model(src.path, compile=False)
        return keras_to_onnx(net, dest, opset)
    # PyTorch: the model's source loads it; exported like the source's own ONNX but at `opset`
    import torch

    registry = ctx.registry
    if registry is None:
        from zoo_bench.plugins import get_registry

        registry = get_registry()
    net = registry.sources[ctx.model.source].load_native(src, ctx.model)  # type: ignore[attr-defined]
    with torch.no_grad():
        torch.onnx.export(net.eval(), (torch.zeros(ctx.model.input_shape),), str(dest), dynamo=False,
                          opset_version=opset, input_names=["input"], output_names=["logits"])
    return f"torch.onnx.export {torch.__version__} (TorchScript exporter, opset {opset})"


def _relabel_opset(model: Any, have: int, opset: int) -> Any | None:
    """``model`` declared at ``opset`` when each of its operators has the same formal inputs,
    outputs and attributes at ``opset`` as at ``have`` (newer versions that only widen the types,
    e.g. Relu-14's bfloat16), else ``None``. hb_mapper's checker then validates the result."""
    import copy

    from onnx import defs

    for node in model.graph.node:
        if node.domain not in ("", "ai.onnx"):
            return None
        try:
            hi = defs.get_schema(node.op_type, have, "")
            lo = defs.get_schema(node.op_type, opset, "")
        except Exception:  # no such operator at the older opset
            return None
        def shape(s: Any) -> tuple[Any, ...]:
            return ([i.name for i in s.inputs], [o.name for o in s.outputs], sorted(s.attributes))
        if shape(hi) != shape(lo):
            return None
    out = copy.deepcopy(model)
    for entry in out.opset_import:
        if entry.domain in ("", "ai.onnx"):
            entry.version = opset
    return out


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class HbMapperCompiler(Compiler):
    """Horizon hb_mapper (checker + makertbin): ONNX -> NV12 .bin for the Bayes-e BPU, with its estimates."""

    name = "hb_mapper"
    accepts = (PROJECT_FORMAT,)
    options = {
        # "str", not "path": a path option is resolved, and a venv's python is a symlink to the base
        # interpreter, which does not see the venv's packages.
        "toolchain_python": Option("str", help="Python 3.10 interpreter with rdkx5-yolo-mapper installed, kept as "
                                               f"given (else ${toolchain.HORIZON_PYTHON_ENV}, else `zoo-bench "
                                               "toolchain install horizon`'s, else hb_mapper on PATH)"),
        "run_checker": Option("bool", default=True, help="run `hb_mapper checker` before makertbin"),
        "hb_mapper_timeout": Option("int", default=7200, min=1, help="seconds each hb_mapper command may take"),
    }

    def tool_versions(self) -> dict[str, str]:
        found = toolchain.find_toolchain({})
        return found.versions() if found else {"hb_mapper": "not found"}

    def unavailable_reason(self, target: Target | None = None, options: dict[str, Any] | None = None) -> str | None:
        return toolchain.missing_reason(options)

    def _run(self, tc: toolchain.Toolchain, args: list[str], cwd: Path, log_glob: str, timeout: float,
             ctx: StageContext) -> str:
        """Run one hb_mapper command in ``cwd``; returns its log (the file it wrote, else its console).

        On failure the whole log goes into the stage's log (kept by the results store for a failed
        stage) and the reason carries the toolchain's own error line. The stage's folder is a
        staging folder: a failed, killed or timed-out run never reaches the cache."""
        cwd.mkdir(parents=True, exist_ok=True)
        ctx.log("hb_mapper " + " ".join(args))
        try:
            proc = subprocess.run([*tc.command, *args], cwd=cwd, env=tc.env(), capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            partial = _text(exc.stdout) + _text(exc.stderr)
            ctx.log(f"hb_mapper {args[0]} output before the timeout:\n{partial[-20000:]}")
            raise HbMapperFailed(f"hb_mapper {args[0]} did not finish within {timeout:g} s "
                                 "(option hb_mapper_timeout)") from None
        except OSError as exc:
            raise ToolUnavailable(f"cannot start hb_mapper from {tc.origin}: {exc}; {toolchain.HOW_TO}") from None
        console = proc.stdout + ("\n" + proc.stderr if proc.stderr else "")
        (cwd / f"{args[0]}_console.txt").write_text(console)
        logs = sorted(cwd.glob(log_glob))
        text = logs[-1].read_text(errors="replace") if logs else console
        if proc.returncode != 0:
            if "No module named" in console and "horizon_tc_ui" in console:
                raise ToolUnavailable(f"{tc.origin} has no Horizon toolchain (horizon_tc_ui); {toolchain.HOW_TO}")
            ctx.log(f"hb_mapper {args[0]} log:\n{text}" + (f"\nconsole:\n{console[-20000:]}" if logs else ""))
            raise HbMapperFailed(f"hb_mapper {args[0]} exited with status {proc.returncode}: "
                                 f"{error_line(text + chr(10) + console)}")
        return text

    def compile(self, ctx: StageContext) -> StageOutput:
        tc = toolchain.find_toolchain(ctx.options)
        if tc is None:
            raise ToolUnavailable(toolchain.missing_reason(ctx.options) or toolchain.HOW_TO)
        project = ctx.input
        if project.format != PROJECT_FORMAT:
            raise UsageError(f"hb_mapper compiles the project of stage hb_mapper_setup, not {project.format}")
        onnx, cal_dir = project.files["onnx"], project.path.parent / hb_config.CALIBRATION_DIR
        settings = hb_config.MapperSettings(**{k: tuple(v) if isinstance(v, list) else v
                                               for k, v in project.meta["settings"].items()})
        out_dir = ctx.workdir / "model_output"
        # The kept project uses relative paths (portable); the run uses this stage's absolute ones.
        run_settings = replace(settings, onnx_model=str(onnx), cal_data_dir=str(cal_dir), working_dir=str(out_dir))
        config = ctx.workdir / "hb_mapper_config.yaml"
        config.write_text(hb_config.config_yaml(run_settings))
        timeout = float(ctx.options.get("hb_mapper_timeout", 7200))
        files: dict[str, Path] = {"config": config}
        checker: HbMapperReport | None = None
        if ctx.options.get("run_checker", True) is not False:
            text = self._run(tc, ["checker", "--model-type", "onnx", "--model", str(onnx), "--march",
                                  hb_config.MARCH], ctx.workdir / "checker", "hb_mapper_checker*.log", timeout, ctx)
            files["checker_log"] = ctx.workdir / "checker" / "checker.log"
            files["checker_log"].write_text(text)
            try:
                checker = parse_hb_mapper_log(text)
            except HbMapperLogError as exc:
                ctx.log(f"checker log not understood ({exc}); makertbin goes on")
        text = self._run(tc, ["makertbin", "--config", str(config), "--model-type", "onnx"], ctx.workdir,
                         "hb_mapper_makertbin*.log", timeout, ctx)
        files["makertbin_log"] = ctx.workdir / "makertbin.log"
        files["makertbin_log"].write_text(text)
        report = parse_hb_mapper_log(text, require_similarity=True)
        binary = out_dir / f"{settings.prefix}.bin"
        if not binary.is_file():
            raise HbMapperFailed(f"makertbin wrote no {binary.name} in {out_dir.name}/: {_tail(text)}")
        quantized = out_dir / f"{settings.prefix}_quantized_model.onnx"
        if quantized.is_file():  # the BPU's arithmetic on the host (rdk_hb_onnxruntime)
            files["quantized_onnx"] = quantized
        versions = {**tc.versions(), **report.versions}
        meta = {"march": hb_config.MARCH, "input_type_rt": "nv12", "toolchain": versions,
                "toolchain_python": tc.command[0] if len(tc.command) > 1 else None,
                "cpu_nodes": [n.name for n in report.cpu_nodes], "settings": asdict(settings),
                "checker_cpu_nodes": [n.name for n in checker.cpu_nodes] if checker else None,
                # what the rdk_estimate stage corrects (the same figures as hbdk_perf.json's)
                "hbdk_perf": {"latency_ms": sum(p.latency_us for p in report.perf) / 1000.0 if report.perf else None,
                              "nodes": len(report.nodes), "conv_nodes": report.conv_nodes},
                "input_meta": project.meta.get("input_meta", {})}
        ctx.log(f"compiled {binary.name}: {len(report.nodes)} nodes, {len(report.cpu_nodes)} on the CPU")
        artifact = Artifact(binary, BIN_FORMAT, precision="int8", meta=meta, files=files)
        # hb_mapper's node table as per-layer rows (zoo_bench.layers): placement and cosine similarity
        layers = [{"index": i, "name": n.name, "op": n.type, "placement": n.on, "cosine": n.cosine,
                   "subgraph": n.subgraph, "data_type": n.data_type} for i, n in enumerate(report.nodes)]
        return StageOutput(artifact=artifact, figures=makertbin_figures(report, binary, versions, settings),
                           layers=layers)


def makertbin_figures(report: HbMapperReport, binary: Path | None, versions: dict[str, str],
                      settings: hb_config.MapperSettings) -> list[Figure]:
    """The makertbin log as result rows: the toolchain's own figures, all ``tool-estimate``
    (the .bin's size is ``measured-host``). Nothing is derived except sums over BPU subgraphs."""
    version = versions.get("hb_mapper", "unknown")
    base: dict[str, Any] = {"march": hb_config.MARCH, "compile_mode": settings.compile_mode,
                            "optimize_level": settings.optimize_level, "input_type_rt": "nv12",
                            "hbdk": versions.get("hbdk"), "horizon_nn": versions.get("horizon_nn")}
    cpu = report.cpu_nodes
    if cpu:
        base["cpu_fallback"] = True

    def fig(metric: str, value: float, unit: str, method: str = "tool-estimate", **extra: Any) -> Figure:
        return Figure(metric, value, unit, method, "hb_mapper", version, extra={**base, **extra})

    figures: list[Figure] = []
    if report.perf:
        subgraphs = [{"subgraph": p.subgraph, "latency_us": p.latency_us, "fps": p.fps, "ddr_bytes": p.ddr_bytes}
                     for p in report.perf]
        note = {"excludes": "nodes on the CPU"} if cpu else {}
        latency_ms = sum(p.latency_us for p in report.perf) / 1000.0
        figures.append(fig("latency_mean_ms", latency_ms, "ms", estimator="hbdk-perf", subgraphs=subgraphs, **note))
        if len(report.perf) == 1:  # the tool's own rate; for several subgraphs it gives none for the whole
            figures.append(fig("inferences_per_s", report.perf[0].fps, "1/s", estimator="hbdk-perf", **note))
        ddr = [p.ddr_bytes for p in report.perf]
        if all(d is not None for d in ddr):
            figures.append(fig("bpu_ddr_bytes", float(sum(ddr)), "bytes", estimator="hbdk-perf"))  # type: ignore[arg-type]
    figures.append(fig("bpu_op_share", report.bpu_op_share, "fraction",
                       bpu_ops=len(report.nodes) - len(cpu), cpu_ops=len(cpu)))
    figures.append(fig("cpu_ops", float(len(cpu)), "count", ops=[{"op": n.name, "type": n.type} for n in cpu]))
    scored = [o for o in report.outputs if o.cosine is not None]
    if scored:
        figures.append(fig("output_cosine_similarity", min(o.cosine for o in scored), "ratio",  # type: ignore[type-var]
                           outputs=[asdict(o) for o in report.outputs]))
    worst = report.worst_nodes()
    if worst:
        figures.append(fig("node_cosine_similarity_min", worst[0].cosine, "ratio",  # type: ignore[arg-type]
                           worst_nodes=[{"node": n.name, "type": n.type, "cosine": n.cosine} for n in worst]))
    if binary is not None:
        figures.append(fig("model_size_kib", binary.stat().st_size / 1024.0, "KiB", method="measured-host",
                           file=binary.name))
    return figures
