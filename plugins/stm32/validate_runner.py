"""The ``stm32_validate`` runner: latency of an int8 model on an STM32 board over USB.

It drives ``stedgeai validate --mode target -d serial[:baud]`` (ST's own runner talks to the
aiValidation firmware on the board; stm32ai-modelzoo-services @ 46924c0,
``common/evaluation/on_target_evaluation.py``) and parses the validate report. It needs both the
tool and a board: the run option ``device`` names the board's link (``serial``,
``serial:921600``, ``serial:/dev/ttyACM0:921600``); without either the stage is skipped.

Report lines read (public validate report of MichelePoli/stm32-ai-workflow @ 4070b407,
``analisiAI/network_validate_report.txt/network_validate_report.txt``, a HOST-mode run)::

    Running the ST.AI c-model (AI RUNNER)...(name=network, mode=HOST)
      device.desc         :   x86_64, x86_64, Linux
      nb sample(s)   :   10
      duration       :   0.055 ms by sample (0.043/0.086/0.012)      # mean (min/max/std)
    Complexity report (model)  ... one row per layer, c_dur in % of the duration

No public report of a ``--mode target`` run was found; the runner accepts only reports whose
mode is TARGET (a host run is never recorded as a board measurement).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoo_bench.options import Option
from zoo_bench.plugin import Figure, Runner, StageContext, StageOutput, Target, ToolUnavailable

from .stedgeai import INSTALL_HINT, STEDGEAI_OPTIONS, find_stedgeai, stedgeai_versions
from .stedgeai_report import ReportFormatError

_MODE = re.compile(r"\(AI RUNNER\).*mode=(\w+)")
_SAMPLES = re.compile(r"^\s*nb sample\(s\)\s*:\s*(\d+)", re.MULTILINE)
_DURATION = re.compile(r"^\s*duration\s*:\s*([\d.]+) ms by sample \(([\d.]+)/([\d.]+)/([\d.]+)\)", re.MULTILINE)
_DEVICE = re.compile(r"^\s*device\.desc\s*:\s*(.+?)\s*$", re.MULTILINE)
_CYCLES = re.compile(r"^\s*cycles\s*:\s*([\d,]+)", re.MULTILINE)
_LAYER = re.compile(r"^(\d+)\s+(\S+)\s+.*\[(\d+)\]\s+([\d.]+)%", re.MULTILINE)
NO_BOARD = ("no STM32 board: connect one over USB with ST's aiValidation firmware and pass "
            "-s device=serial[:baud] (see docs/stm32.md)")


@dataclass
class ValidateReport:
    """What a validate report says about the run (milliseconds)."""

    mode: str
    samples: int
    mean_ms: float
    min_ms: float
    max_ms: float
    std_ms: float
    device: str = ""
    cycles: int | None = None
    layers: list[dict[str, Any]] = field(default_factory=list)


def parse_validate_report(path: Path) -> ValidateReport:
    """Parse ``network_validate_report.txt``. Raises :class:`ReportFormatError` naming file and line."""
    path = Path(path)
    text = path.read_text(errors="replace")
    mode = _MODE.search(text)
    duration = _DURATION.search(text)
    if mode is None or duration is None:
        missing = "'(AI RUNNER)...(mode=...)'" if mode is None else "'duration : X ms by sample (min/max/std)'"
        raise ReportFormatError(path, text.count("\n") + 1, f"no {missing} line: not a validate report")
    samples = _SAMPLES.search(text)
    report = ValidateReport(mode.group(1).upper(), int(samples.group(1)) if samples else 0,
                            *(float(duration.group(i)) for i in range(1, 5)))
    if (m := _DEVICE.search(text)) is not None:
        report.device = m.group(1)
    if (m := _CYCLES.search(text)) is not None:
        report.cycles = int(m.group(1).replace(",", ""))
    start = text.find("Complexity report (model)")
    if start >= 0:
        block = text[start:text.find("\n\n", start)]
        report.layers = [{"m_id": int(m.group(1)), "name": m.group(2), "c_id": int(m.group(3)),
                          "duration_percent": float(m.group(4))} for m in _LAYER.finditer(block)]
    return report


def validate_figures(report: ValidateReport, version: str, extra: dict[str, Any]) -> list[Figure]:
    """``measured-board`` rows of a TARGET-mode report; raises ValueError for any other mode."""
    if report.mode != "TARGET":
        raise ValueError(f"the validate report is a {report.mode} run, not a board run (mode=TARGET)")
    facts = {**extra, "samples": report.samples, "device": report.device, "per_layer": report.layers}
    figures = [Figure("latency_mean_ms", report.mean_ms, "ms", "measured-board", "stedgeai validate", version,
                      extra=facts)]
    for metric, value in (("latency_min_ms", report.min_ms), ("latency_max_ms", report.max_ms),
                          ("latency_std_ms", report.std_ms)):
        figures.append(Figure(metric, value, "ms", "measured-board", "stedgeai validate", version, extra=facts))
    if report.mean_ms > 0:
        figures.append(Figure("inferences_per_s", 1000.0 / report.mean_ms, "1/s", "measured-board",
                              "stedgeai validate", version, extra=facts))
    if report.cycles is not None:
        figures.append(Figure("cycles", float(report.cycles), "count", "measured-board", "stedgeai validate",
                              version, extra=facts))
    return figures


class Stm32ValidateRunner(Runner):
    """Times a model on an STM32 board over USB with ``stedgeai validate --mode target``."""

    name = "stm32_validate"
    accepts = ("tflite", "onnx")
    provenance = "measured-board"
    options = {
        **STEDGEAI_OPTIONS,
        # the stage occupies the board on the USB link: Component.device() makes it ``board-<id>``,
        # held alone here and, with --executor dask, run only on the worker that declared it
        "board": Option("str", default=None,
                        help="id of the STM32 board on the link (default: the target id); with --executor dask "
                             "the stage runs on the worker started with --resources board-<id>=1"),
        "device": Option("str", default="", help="the board's link for stedgeai -d: serial[:baud] (empty: no board)"),
        "validation_samples": Option("int", default=10, min=1, help="random inputs validate runs (-b)"),
        "board_timeout": Option("float", default=1800.0, min=1, help="seconds validate may take"),
    }

    def unavailable_reason(self, target: Target | None = None, options: dict[str, Any] | None = None) -> str | None:
        if find_stedgeai(options) is None:
            return f"STEdgeAI (stedgeai) not found: {INSTALL_HINT}"
        if not (options or {}).get("device"):
            return NO_BOARD
        return None

    def run(self, ctx: StageContext) -> StageOutput:
        exe = find_stedgeai(ctx.options)
        if exe is None:
            raise ToolUnavailable(f"STEdgeAI (stedgeai) not found: {INSTALL_HINT}")
        device = str(ctx.options.get("device") or "")
        if not device:
            raise ToolUnavailable(NO_BOARD)
        series = str(getattr(ctx.target, "stedgeai_series", "stm32"))
        outdir = ctx.workdir / "st_ai_output"
        outdir.mkdir(parents=True, exist_ok=True)
        samples = int(ctx.options.get("validation_samples", 10))
        cmd = [str(exe), "validate", "--target", series, "-m", str(ctx.input.path), "--mode", "target", "-d", device,
               "-b", str(samples), "--output", str(outdir), "--workspace", str(outdir)]
        if series == "stm32n6":
            cmd.append("--st-neural-art")
        ctx.log(" ".join(cmd))
        timeout = float(ctx.options.get("board_timeout", 1800))
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ctx.workdir)
        (ctx.workdir / "stedgeai_validate.log").write_text(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            tail = " | ".join((proc.stdout + proc.stderr).strip().splitlines()[-5:])
            raise RuntimeError(f"stedgeai validate exited with status {proc.returncode}: {tail}")
        reports = sorted(outdir.glob("*validate_report.txt"))
        if not reports:
            raise RuntimeError(f"stedgeai validate wrote no validate report in {outdir}")
        report = parse_validate_report(reports[0])
        version = stedgeai_versions(exe).get("core", "unknown")
        return StageOutput(figures=validate_figures(report, version, {"link": device.split(":")[0]}))
