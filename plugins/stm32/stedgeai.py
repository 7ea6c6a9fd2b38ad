"""The ``stedgeai`` compiler: ST Edge AI Core ``generate`` for STM32 MCUs and the STM32N6 NPU.

The tool is proprietary and found, in this order, through the run option ``stedgeai=PATH``,
the environment variable ``$STEDGEAI`` or ``stedgeai`` on ``PATH``; without it the stage is
skipped and the open estimate (:mod:`zoo_bench_stm32.estimate`) fills the tables.

Command lines are those of ST's model-zoo services (stm32ai-modelzoo-services @ 46924c0,
``common/benchmarking/common_benchmark.py`` and ``common/evaluation/on_target_evaluation.py``):

- MCU: ``generate --target stm32 -m MODEL -v 0 --allocate-inputs --allocate-outputs
  --output DIR --workspace DIR --optimization balanced|time|ram``;
- N6: ``generate --target stm32n6 -m MODEL --st-neural-art [PROFILE@FILE] --output DIR --workspace DIR``.

The whole output directory (reports, c_info, generated C files, workspace) stays in the stage's
cache entry; its figures are ``tool-estimate`` rows with tool ``stedgeai`` and the core version.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from zoo_bench.options import Option
from zoo_bench.plugin import Artifact, Compiler, Figure, StageContext, StageOutput, Target, ToolUnavailable, UsageError

from . import footprint_model
from .memory import Region, fit
from .stedgeai_report import ReportFormatError, StedgeaiReport, read_reports

ENV_VAR = "STEDGEAI"
_CORE = re.compile(r"ST Edge AI Core v(\d+\.\d+\.\d+)")
_CUBE = re.compile(r"STM32CubeAI (\d+\.\d+\.\d+)")
_LEGACY = re.compile(r"STM32AI v(\d+\.\d+\.\d+) \(STM\.ai v(\d+\.\d+\.\d+)")
_EXTERNAL_ADDRESS = 0x60000000  # ST's cloud client counts pools at or above this address as external
INSTALL_HINT = ("install ST Edge AI Core (https://www.st.com/en/development-tools/stedgeai-core.html) and put "
                "`stedgeai` on PATH, set $STEDGEAI, or pass -s stedgeai=PATH")

STEDGEAI_OPTIONS: dict[str, Option | str] = {
    "stedgeai": Option("path", help="the stedgeai executable (default: $STEDGEAI, else stedgeai on PATH)"),
}


def find_stedgeai(options: dict[str, Any] | None = None) -> Path | None:
    """The stedgeai executable: option ``stedgeai``, else ``$STEDGEAI``, else PATH; ``None`` if absent."""
    value = (options or {}).get("stedgeai") or os.environ.get(ENV_VAR)
    if value:
        path = Path(str(value)).expanduser()
        return path if path.is_file() and os.access(path, os.X_OK) else None
    found = shutil.which("stedgeai")
    return Path(found) if found else None


def parse_version_banner(text: str) -> dict[str, str]:
    """``{"core": "2.0.0", "stm32cubeai": "10.0.0"}`` from ``stedgeai --version``.

    Two banner forms: ``ST Edge AI Core v2.0.0-A1`` followed by back-end lines (``STM32CubeAI
    10.0.0``; ST doc "setting_env"), and the X-CUBE-AI 8.x line ``Neural Network Tools for
    STM32AI v1.7.0 (STM.ai v8.0.0-19389)``. Raises :class:`ValueError` on anything else.
    """
    if (m := _CORE.search(text)) is not None:
        found = {"core": m.group(1)}
        if (cube := _CUBE.search(text)) is not None:
            found["stm32cubeai"] = cube.group(1)
        return found
    if (m := _LEGACY.search(text)) is not None:
        return {"core": m.group(1), "stm32cubeai": m.group(2)}
    raise ValueError(f"unrecognised stedgeai version banner: {text.strip()[:120]!r}")


@functools.lru_cache(maxsize=8)
def _banner(path: str, mtime: float) -> dict[str, str]:
    proc = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60)
    return parse_version_banner(proc.stdout + "\n" + proc.stderr)


def stedgeai_versions(path: Path) -> dict[str, str]:
    """The banner of the executable at ``path`` (cached per file and modification time)."""
    try:
        return _banner(str(path), path.stat().st_mtime)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        return {"core": f"unknown ({type(exc).__name__})"}


def generate_command(exe: Path, model: Path, outdir: Path, series: str, options: dict[str, Any]) -> list[str]:
    """The ``stedgeai generate`` command line for ``series`` (``stm32`` for the H7, or ``stm32n6``)."""
    cmd = [str(exe), "generate", "--target", series, "-m", str(model)]
    if series == "stm32n6":
        cmd.append("--st-neural-art")
        if options.get("st_neural_art"):
            cmd.append(str(options["st_neural_art"]))
    else:
        cmd += ["-v", "0", "--allocate-inputs", "--allocate-outputs"]
    cmd += ["--output", str(outdir), "--workspace", str(outdir)]
    if series != "stm32n6":
        cmd += ["--optimization", str(options.get("optimization") or "balanced")]
    return cmd


class StedgeaiCompiler(Compiler):
    """ST Edge AI Core: generate for STM32 (footprints) or STM32N6 (Neural-ART memory pools, epochs)."""

    name = "stedgeai"
    accepts = ("tflite", "onnx")
    options = {
        **STEDGEAI_OPTIONS,
        "optimization": Option("choice", default="balanced", choices=("balanced", "time", "ram"),
                               help="stedgeai --optimization for MCU targets"),
        "st_neural_art": Option("str", default="", help="PROFILE@FILE for --st-neural-art on the N6 "
                                                        "(default: the tool's own default profile)"),
        "stedgeai_timeout": Option("float", default=3600.0, min=1, help="seconds generate may take"),
    }

    def tool_versions(self) -> dict[str, str]:
        exe = find_stedgeai()
        if exe is None:
            return {"stedgeai": "not found"}
        v = stedgeai_versions(exe)
        return {"stedgeai": v["core"], **({"stm32cubeai": v["stm32cubeai"]} if "stm32cubeai" in v else {})}

    def unavailable_reason(self, target: Target | None = None, options: dict[str, Any] | None = None) -> str | None:
        if find_stedgeai(options) is None:
            return f"STEdgeAI (stedgeai) not found: {INSTALL_HINT}"
        return None

    def compile(self, ctx: StageContext) -> StageOutput:
        exe = find_stedgeai(ctx.options)
        if exe is None:
            raise ToolUnavailable(f"STEdgeAI (stedgeai) not found: {INSTALL_HINT}")
        src = ctx.input
        if src.format not in self.accepts:
            raise UsageError(f"stedgeai compiles .tflite or .onnx models, not {src.format}")
        series = str(getattr(ctx.target, "stedgeai_series", "stm32"))
        outdir = ctx.workdir / "st_ai_output"
        outdir.mkdir(parents=True, exist_ok=True)
        model = outdir / f"model{src.path.suffix}"
        shutil.copyfile(src.path, model)
        cmd = generate_command(exe, model, outdir, series, ctx.options)
        ctx.log(" ".join(cmd))
        timeout = float(ctx.options.get("stedgeai_timeout", 3600.0))
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ctx.workdir)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"stedgeai generate did not finish within {timeout:g} s") from None
        log = ctx.workdir / "stedgeai.log"
        log.write_text(proc.stdout + ("\n" + proc.stderr if proc.stderr else ""))
        if proc.returncode != 0:
            tail = " | ".join((proc.stdout + proc.stderr).strip().splitlines()[-5:])
            raise RuntimeError(f"stedgeai generate exited with status {proc.returncode}: {tail}")
        model.unlink(missing_ok=True)
        try:
            report = read_reports(outdir)
        except (FileNotFoundError, ReportFormatError) as exc:
            raise RuntimeError(f"stedgeai generate wrote no report zoo-bench can read: {exc}") from None
        versions = stedgeai_versions(exe)
        figures = report_figures(report, ctx.target, versions, settings={"series": series, **report.settings})
        files = {p.name: p for p in sorted(outdir.glob("network*")) if p.is_file()}
        files["stedgeai_log"] = log
        main = outdir / "network_c_info.json"
        artifact = Artifact(path=main if main.exists() else log, format="stedgeai-output", precision=src.precision,
                            meta={"series": series, "stedgeai": versions, "input_meta": src.meta}, files=files)
        return StageOutput(artifact=artifact, figures=figures)


def _kib(value: int | None) -> float | None:
    return None if value is None else value / 1024.0


def report_figures(report: StedgeaiReport, target: Target, versions: dict[str, str],
                   settings: dict[str, str] | None = None) -> list[Figure]:
    """Rows from a parsed report: ``tool-estimate`` with tool ``stedgeai`` and the core version.

    Runtime RAM and code flash come from the report when STEdgeAI estimated them (c_info
    ``kernel_ram``/``kernel_flash``), else from the documented footprint model, labelled
    ``model-estimate``; totals made of both say so in ``extra.parts``.
    """
    version = versions.get("core", "unknown")
    base: dict[str, Any] = {**(settings or {})}
    if "stm32cubeai" in versions:
        base["stm32cubeai_version"] = versions["stm32cubeai"]
    regions: tuple[Region, ...] = getattr(target, "regions", ())
    n6 = getattr(target, "stedgeai_series", "") == "stm32n6"
    figures: list[Figure] = []

    def fig(metric: str, value: float | None, unit: str = "KiB", method: str = "tool-estimate", tool: str = "stedgeai",
            tool_version: str = version, **extra: Any) -> None:
        if value is not None:
            figures.append(Figure(metric, float(value), unit, method, tool, tool_version, extra={**base, **extra}))

    fig("activation_ram_kib", _kib(report.activations), io_allocated_in_activations=True)
    fig("weights_flash_kib", _kib(report.weights))
    if report.macc is not None:
        fig("macs", float(report.macc), "count", stedgeai_field="macc")
    ram_need = _kib(report.activations) or 0.0
    flash_need = _kib(report.weights) or 0.0
    fit_method, fit_tool, fit_version = "tool-estimate", "stedgeai", version
    if n6:
        internal = sum(p.activations for p in report.pools if (p.address or 0) < _EXTERNAL_ADDRESS)
        external = sum(p.activations for p in report.pools if (p.address or 0) >= _EXTERNAL_ADDRESS)
        pools = {p.name: p.used for p in report.pools if p.used}
        fig("internal_ram_kib", internal / 1024.0, pools_used_bytes=pools)
        fig("external_ram_kib", external / 1024.0, pools_used_bytes=pools)
        if report.epochs:
            fig("npu_epochs_hw", report.epochs.get("hw"), "count", total=report.epochs.get("total"))
            fig("npu_epochs_sw", report.epochs.get("sw"), "count", total=report.epochs.get("total"))
    else:
        runtime = footprint_model.estimate(flash_need)
        for metric, tool_value, key in (("runtime_ram_kib", report.runtime_ram, "runtime_ram_kib"),
                                        ("code_flash_kib", report.runtime_flash, "code_flash_kib")):
            if tool_value is not None:
                fig(metric, tool_value / 1024.0)
            else:
                fig(metric, runtime[key], method="model-estimate", tool=footprint_model.TOOL,
                    tool_version=footprint_model.VERSION, rests_on=footprint_model.SOURCE)
                fit_method, fit_tool, fit_version = "model-estimate", f"stedgeai+{footprint_model.TOOL}", version
        runtime_ram = _kib(report.runtime_ram) if report.runtime_ram is not None else runtime["runtime_ram_kib"]
        code_flash = _kib(report.runtime_flash) if report.runtime_flash is not None else runtime["code_flash_kib"]
        ram_need += runtime_ram
        flash_need += code_flash
        parts = {"stedgeai": ["activations", "weights"]}
        fig("total_ram_kib", ram_need, method=fit_method, tool=fit_tool, parts=parts)
        fig("total_flash_kib", flash_need, method=fit_method, tool=fit_tool, parts=parts)
    figures += fit_figures(regions, ram_need, flash_need, fit_method, fit_tool, fit_version, base)
    return figures


def fit_figures(regions: tuple[Region, ...], ram_kib: float, flash_kib: float, method: str, tool: str,
                version: str, extra: dict[str, Any] | None = None) -> list[Figure]:
    """The four verdict rows (1 = yes, 0 = no) for RAM and flash needs on a board's memory map."""
    if not regions:
        return []
    rows = []
    for kind, need in (("ram", ram_kib), ("flash", flash_kib)):
        f = fit(regions, kind, need)
        facts = {**(extra or {}), "verdict": f.verdict, "need_kib": round(need, 2), "internal_kib": f.internal_kib,
                 "external_kib": f.external_kib}
        if kind == "ram":
            rows += [Figure("fits_internal_ram", float(f.fits_internal), "bool", method, tool, version, extra=facts),
                     Figure("fits_with_external_ram", float(f.fits_with_external), "bool", method, tool, version,
                            extra=facts)]
        else:
            rows += [Figure("fits_internal_flash", float(f.fits_internal), "bool", method, tool, version, extra=facts),
                     Figure("fits_with_external_flash", float(f.fits_with_external), "bool", method, tool, version,
                            extra=facts)]
    return rows
