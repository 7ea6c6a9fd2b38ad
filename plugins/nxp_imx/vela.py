"""The ``vela`` compiler: int8 .tflite -> Ethos-U command stream, with Vela's own estimate.

Vela runs in a child process (``python -m ethosu.vela``) on every compile, with the i.MX 93
configuration kept beside this module (``imx93_vela.ini``) unless the options choose another.
A model Vela cannot fully place on the NPU still compiles: the operators left on the CPU are
reported by name with Vela's reason, and the latency estimate says it leaves them out.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from zoo_bench.options import Option
from zoo_bench.plugin import (
    Artifact,
    ArtifactFormat,
    Compiler,
    Figure,
    StageContext,
    StageOutput,
    Target,
    UsageError,
    register_format,
)

from .vela_report import VelaReport, read_report

#: What Vela writes: this plugin's own artifact format (the core declares only the formats of its own components).
register_format(ArtifactFormat("vela-tflite", "a TFLite flatbuffer whose graph Vela compiled into Ethos-U custom "
                                              "operators", "a TFLite interpreter with the Ethos-U delegate"))

IMX93_VELA_INI = Path(__file__).with_name("imx93_vela.ini")
DEFAULTS = {
    "accelerator_config": "ethos-u65-256",
    "system_config": "iMX93",
    "memory_mode": "iMX93_Dedicated_Sram_384KB",
    "optimise": "Performance",
}
#: Vela's errors that mean the user's options are wrong (unknown config name, bad value).
_OPTION_ERRORS = ("CliOptionError", "ConfigOptionError", "InputFileError", "error: argument")


class VelaCompileError(RuntimeError):
    """Vela could not compile the model; the message carries Vela's own last lines."""


def vela_version() -> str:
    try:
        return importlib.metadata.version("ethos-u-vela")
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _config_files(value: Any) -> list[str]:
    """The option ``vela_config``: comma list of .ini paths or Vela-bundled names (Arm/vela.ini)."""
    if not value:
        return [str(IMX93_VELA_INI), "Arm/vela.ini"]
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    return [str(i).strip() for i in items if str(i).strip()]


def _tail(text: str, n: int = 6) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return " | ".join(lines[-n:])


class VelaCompiler(Compiler):
    """Arm Vela: compiles int8 TFLite models for Ethos-U NPUs and estimates their performance."""

    name = "vela"
    accepts = ("tflite",)
    options = {
        "accelerator_config": Option("str", default=DEFAULTS["accelerator_config"], help="Ethos-U variant"),
        "system_config": Option("str", default=DEFAULTS["system_config"], help="Vela system config (the i.MX 93)"),
        "memory_mode": Option("str", default=DEFAULTS["memory_mode"], help="Vela memory mode"),
        "vela_config": Option("str", help="Vela .ini file(s), comma separated (default: the plugin's "
                                          "imx93_vela.ini and Arm/vela.ini)"),
        "optimise": Option("choice", default=DEFAULTS["optimise"], choices=("Performance", "Size"),
                           help="Vela optimisation strategy"),
        "arena_cache_size": Option("int", min=1, help="SRAM bytes for the arena cache, overriding the memory mode's"),
        "vela_timeout": Option("float", default=900.0, min=1, max=86400, help="seconds Vela may take"),
    }

    def tool_versions(self) -> dict[str, str]:
        return {"ethos-u-vela": vela_version()}

    def input_files(self, options: dict[str, Any]) -> list[Path]:
        """The .ini files Vela reads (the plugin's imx93_vela.ini by default): their content is
        part of the cache key. Vela-bundled names (``Arm/vela.ini``) are pinned by Vela's version."""
        return [Path(ini) for ini in _config_files(options.get("vela_config")) if Path(ini).is_file()]

    def unavailable_reason(self, target: Target | None = None, options: dict[str, Any] | None = None) -> str | None:
        if importlib.util.find_spec("ethosu") is None or vela_version() == "not installed":
            return "Vela is not installed (pip install 'zoo-bench[nxp]', package ethos-u-vela)"
        return None

    def settings(self, options: dict[str, Any]) -> dict[str, str]:
        """The Vela settings of a stage: the defaults overlaid with the stage's options."""
        return {k: str(options.get(k) or v) for k, v in DEFAULTS.items()}

    def command(self, model: Path, outdir: Path, options: dict[str, Any]) -> list[str]:
        s = self.settings(options)
        cmd = [sys.executable, "-m", "ethosu.vela", str(model), "--output-dir", str(outdir),
               "--accelerator-config", s["accelerator_config"], "--system-config", s["system_config"],
               "--memory-mode", s["memory_mode"], "--optimise", s["optimise"],
               "--verbose-performance", "--show-cpu-operations"]
        for ini in _config_files(options.get("vela_config")):
            cmd += ["--config", ini]
        if options.get("arena_cache_size") not in (None, ""):
            cmd += ["--arena-cache-size", str(int(options["arena_cache_size"]))]
        return cmd

    def compile(self, ctx: StageContext) -> StageOutput:
        src = ctx.input
        if src.format not in self.accepts:
            raise UsageError(f"vela compiles .tflite models, not {src.format}")
        if src.precision != "int8":
            ctx.log(f"input precision is {src.precision}: Vela places only int8/int16 operators on the NPU")
        outdir = ctx.workdir / "vela"
        outdir.mkdir(parents=True, exist_ok=True)
        # Vela names its outputs after the input file; a fixed name keeps them predictable.
        model = outdir / "model.tflite"
        shutil.copyfile(src.path, model)
        cmd = self.command(model, outdir, ctx.options)
        timeout = float(ctx.options.get("vela_timeout", 900.0))
        ctx.log("vela " + " ".join(cmd[4:]))
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=outdir)
        except subprocess.TimeoutExpired:
            raise VelaCompileError(f"Vela did not finish within {timeout:g} s") from None
        console = proc.stdout + ("\n" + proc.stderr if proc.stderr else "")
        log = ctx.workdir / "vela.log"
        log.write_text(console)
        if proc.returncode != 0:
            if any(marker in console for marker in _OPTION_ERRORS):
                raise UsageError(f"Vela rejected its options: {_tail(console, 3)}")
            raise VelaCompileError(f"Vela exited with status {proc.returncode}: {_tail(console)}")
        compiled = outdir / "model_vela.tflite"
        summaries = sorted(outdir.glob("model_summary_*.csv"))
        if not compiled.exists() or not summaries:
            raise VelaCompileError(f"Vela wrote no compiled model or summary: {_tail(console)}")
        per_layer = outdir / "model_per-layer.csv"
        report = read_report(summaries[0], per_layer if per_layer.exists() else None, console)
        model.unlink()  # a copy of the input, already in the cache
        settings = self.settings(ctx.options)
        figures = self.figures(report, settings)
        files = {"vela_summary_csv": summaries[0], "vela_log": log}
        if per_layer.exists():
            files["vela_per_layer_csv"] = per_layer
        meta = {**settings, "npu_ops": report.npu_ops, "cpu_ops": report.cpu_ops,
                "cpu_op_names": [op.op for op in report.cpu_op_list], "vela_version": vela_version(),
                "input_meta": src.meta}
        artifact = Artifact(path=compiled, format="vela-tflite", precision=src.precision, meta=meta, files=files)
        if report.cpu_ops:
            ctx.log(f"{report.cpu_ops} operator(s) stay on the CPU: "
                    + ", ".join(f"{op.op} ({op.reason or 'no reason given'})" for op in report.cpu_op_list))
        return StageOutput(artifact=artifact, figures=figures)

    def figures(self, report: VelaReport, settings: dict[str, str]) -> list[Figure]:
        """Vela's estimate as result rows, all ``tool-estimate``."""
        version = vela_version()
        clock = report.number("core_clock")
        base = {"system_config": settings["system_config"], "memory_mode": settings["memory_mode"],
                "accelerator_config": settings["accelerator_config"], "optimise": settings["optimise"]}
        if clock is not None:
            base["npu_clock_mhz"] = clock / 1e6
        if report.cpu_ops:
            base["cpu_fallback"] = True

        def fig(metric: str, value: float | None, unit: str, **extra: Any) -> Figure | None:
            if value is None:
                return None
            return Figure(metric, value, unit, "tool-estimate", "vela", version, extra={**base, **extra})

        figures: list[Figure | None] = []
        seconds = report.number("inference_time")
        if report.npu_ops and seconds:  # with nothing on the NPU Vela estimates nothing
            note = {"excludes": "operators on the CPU"} if report.cpu_ops else {}
            figures += [
                fig("latency_mean_ms", seconds * 1000.0, "ms", **note),
                fig("inferences_per_s", report.number("inferences_per_second"), "1/s", **note),
                fig("npu_cycles", report.number("cycles_total"), "count",
                    cycles_npu=report.number("cycles_npu"), cycles_sram_access=report.number("cycles_sram_access"),
                    cycles_dram_access=report.number("cycles_dram_access"), nn_macs=report.number("nn_macs"),
                    top_layers=report.top_layers()),
            ]
        figures += [
            fig("sram_used_kib", report.number("sram_memory_used"), "KiB",
                arena_cache_size_kib=report.number("arena_cache_size")),
            fig("dram_used_kib", report.number("dram_memory_used"), "KiB"),
            fig("npu_op_share", report.npu_op_share, "fraction", npu_ops=report.npu_ops, cpu_ops=report.cpu_ops),
            fig("cpu_ops", float(report.cpu_ops), "count", ops=[op.as_dict() for op in report.cpu_op_list]),
        ]
        return [f for f in figures if f is not None]
