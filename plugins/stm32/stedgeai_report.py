"""Parsers of what ``stedgeai generate`` writes: the text report and ``network_c_info.json``.

Formats, from public reports (not from ST documentation, which does not specify them):

- text report header: ``ST Edge AI Core v2.2.0-20266 2adc00962`` (STEdgeAI 1.x-3.x) or, before
  it, ``Neural Network Tools for STM32AI v1.7.0 (STM.ai v8.0.0-19389)`` (X-CUBE-AI 8.x);
- MCU summary lines ``macc : 313,298,016``, ``weights (ro) : 13,951,264 B (13.30 MiB) ...``,
  ``activations (rw) : 4,917,696 B ...``, ``ram (total) : 4,917,696 B ... = act + in + out``
  (MichelePoli/stm32-ai-workflow @ 4070b407, ``analisiAI/report_resnet/network_analyze_report.txt``;
  STMicroelectronics/stm32ai-modelzoo-services @ 46924c0, ``application_code/.../network_generate_report.txt``);
- N6 (Neural-ART) reports have no such summary but ``model: macc=... weights=...``, a
  "Memory usage information" table with one line per memory pool (sizes in B / kB / MB, binary
  multiples: ``448.000 kB`` is 0x70000 bytes) and an "Epochs details" block
  (AlexGraefe/STM32N6Example @ 8becbb20, ``st_ai_output/network_generate_report.txt``);
- ``network_c_info.json``, ``json_schema_version`` "2.0": ``memory_footprint`` (activations,
  weights, io, kernel_ram/kernel_flash when the runtime footprint was estimated),
  ``memory_pools[]`` (name, size_bytes, used_size_bytes, rights), ``graphs[0].nodes[]`` (macc;
  on the N6 ``mapping`` NODE_HW / NODE_SW per epoch), ``environment.tools[]`` (name, version).

A report these parsers do not recognise raises :class:`ReportFormatError` naming the file and line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_CORE_HEADER = re.compile(r"^ST Edge AI Core v(\d+\.\d+\.\d+)\S*")
_LEGACY_HEADER = re.compile(r"^Neural Network Tools for STM32AI v(\d+\.\d+\.\d+) \(STM\.ai v(\d+\.\d+\.\d+)\S*\)")
_SUMMARY = re.compile(r"^(macc|weights \(ro\)|activations \(rw\)|ram \(total\))\s*:\s*(.*)$")
_BYTES = re.compile(r"^([\d,]+)(?:\s*B\b)?")
_N6_MODEL = re.compile(r"^model:\s*macc=([\d,]+)\s+weights=([\d,]+|--)")
_POOL = re.compile(
    r"^\s*(\w+)\s+\[0x([0-9A-Fa-f]+)\s*-\s*0x([0-9A-Fa-f]+)\]:\s*([\d.]+)\s*(B|kB|MB)\s*/\s*([\d.]+)\s*(B|kB|MB)"
    r".*--\s*weights:\s*([\d.]+)\s*(B|kB|MB).*activations:\s*([\d.]+)\s*(B|kB|MB)")
_EPOCHS = {
    "total": re.compile(r"^Total number of epochs\s+(\d+)"),
    "sw": re.compile(r"^>> pure software \(SW\) epochs\s+(\d+)"),
    "hybrid": re.compile(r"^>> hybrid epochs.*?\s(\d+)\s*$"),
    "hw": re.compile(r"^>> pure hardware \(HW or EC\) epochs\s+(\d+)"),
}
_UNITS = {"B": 1, "kB": 1024, "MB": 1024 * 1024}
_OPTION_LINES = {"optimization": re.compile(r"^optimization\s*:\s*(\S+)"),
                 "series": re.compile(r"^target/series\s*:\s*(\S+)"),
                 "compression": re.compile(r"^compression\s*:\s*(\S+)")}


class ReportFormatError(ValueError):
    """A report that the parser does not understand; the message names the file and line."""

    def __init__(self, path: Path | str, line: int, message: str):
        super().__init__(f"{path}:{line}: {message}")
        self.path = str(path)
        self.line = line


@dataclass
class Pool:
    """One memory pool of an N6 report: sizes in bytes."""

    name: str
    size: int
    used: int
    weights: int
    activations: int
    address: int | None = None
    rights: str = ""


@dataclass
class StedgeaiReport:
    """The figures of one generate/analyze report (bytes; ``None`` where the report has none)."""

    core_version: str
    cube_ai_version: str | None = None
    macc: int | None = None
    weights: int | None = None
    activations: int | None = None
    ram_total: int | None = None
    io: int | None = None
    runtime_ram: int | None = None
    runtime_flash: int | None = None
    pools: list[Pool] = field(default_factory=list)
    epochs: dict[str, int] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)

    def merge(self, other: StedgeaiReport) -> StedgeaiReport:
        """This report completed by ``other``'s figures where this one has none."""
        for name in ("cube_ai_version", "macc", "weights", "activations", "ram_total", "io", "runtime_ram",
                     "runtime_flash"):
            if getattr(self, name) is None:
                setattr(self, name, getattr(other, name))
        if not self.pools:
            self.pools = other.pools
        for key, value in other.epochs.items():
            self.epochs.setdefault(key, value)
        for key, value in other.settings.items():
            self.settings.setdefault(key, value)
        return self

    @property
    def is_n6(self) -> bool:
        return bool(self.pools) or bool(self.epochs)


def _int(text: str) -> int:
    return int(text.replace(",", ""))


def _size(value: str, unit: str) -> int:
    return int(round(float(value) * _UNITS[unit]))


def parse_text_report(path: Path) -> StedgeaiReport:
    """Parse ``network_<cmd>_report.txt``. Raises :class:`ReportFormatError`."""
    path = Path(path)
    lines = path.read_text(errors="replace").splitlines()
    first = next(((i, ln.strip()) for i, ln in enumerate(lines, 1) if ln.strip()), (1, ""))
    if (m := _CORE_HEADER.match(first[1])) is not None:
        report = StedgeaiReport(core_version=m.group(1))
    elif (m := _LEGACY_HEADER.match(first[1])) is not None:
        report = StedgeaiReport(core_version=m.group(1), cube_ai_version=m.group(2))
    else:
        raise ReportFormatError(path, first[0], f"not a STEdgeAI / X-CUBE-AI report header: {first[1][:80]!r}")
    summary: dict[str, int] = {}
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if (m := _SUMMARY.match(line)) is not None:
            value = _BYTES.match(m.group(2).strip())
            if value is None:
                raise ReportFormatError(path, number, f"{m.group(1)!r} has no byte count: {m.group(2)[:60]!r}")
            summary.setdefault(m.group(1), _int(value.group(1)))  # the first summary wins (per-pass repeats)
            continue
        if (m := _N6_MODEL.match(line)) is not None:
            summary.setdefault("macc", _int(m.group(1)))
            if m.group(2) != "--":
                summary.setdefault("weights (ro)", _int(m.group(2)))
            continue
        if (m := _POOL.match(raw)) is not None:
            g = m.groups()
            report.pools.append(Pool(g[0], _size(g[5], g[6]), _size(g[3], g[4]), _size(g[7], g[8]),
                                     _size(g[9], g[10]), int(g[1], 16)))
            continue
        for key, pattern in _EPOCHS.items():
            if (m := pattern.match(line)) is not None:
                report.epochs[key] = int(m.group(1))
        for key, pattern in _OPTION_LINES.items():
            if (m := pattern.match(line)) is not None:
                report.settings.setdefault(key, m.group(1))
    if not summary and not report.pools:
        raise ReportFormatError(path, len(lines), "no summary found (no 'macc'/'weights (ro)' lines and no "
                                                  "memory pool table): not a generate/analyze report")
    report.macc = summary.get("macc")
    report.weights = summary.get("weights (ro)")
    report.activations = summary.get("activations (rw)")
    report.ram_total = summary.get("ram (total)")
    if report.pools:  # N6: pools carry the split; the totals are their sums
        report.weights = sum(p.weights for p in report.pools)
        report.activations = sum(p.activations for p in report.pools)
    return report


def _line_of(text: str, needle: str) -> int:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else 1


def parse_c_info(path: Path) -> StedgeaiReport:
    """Parse ``network_c_info.json`` (schema 2.0). Raises :class:`ReportFormatError`."""
    path = Path(path)
    text = path.read_text(errors="replace")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportFormatError(path, exc.lineno, f"not JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise ReportFormatError(path, 1, "not a c_info object")
    version = data.get("json_schema_version")
    if version != "2.0":
        raise ReportFormatError(path, _line_of(text, "json_schema_version"),
                                f"json_schema_version {version!r} is not supported (expected '2.0')")
    footprint = data.get("memory_footprint")
    if not isinstance(footprint, dict) or "activations" not in footprint or "weights" not in footprint:
        raise ReportFormatError(path, _line_of(text, "memory_footprint"),
                                "memory_footprint with 'activations' and 'weights' is missing")
    tools = (data.get("environment") or {}).get("tools") or [{}]
    core = str(tools[0].get("version") or "unknown").split("-")[0]
    report = StedgeaiReport(core_version=core)
    report.activations = _opt_int(footprint.get("activations"))
    report.weights = _opt_int(footprint.get("weights"))
    io = footprint.get("io")
    report.io = sum(int(v) for v in io) if isinstance(io, list) else _opt_int(io)
    runtime_ram = [_opt_int(footprint.get(k)) for k in ("kernel_ram", "toolchain_ram")]
    runtime_flash = [_opt_int(footprint.get(k)) for k in ("kernel_flash", "toolchain_flash")]
    if runtime_ram[0] is not None:
        report.runtime_ram = sum(v for v in runtime_ram if v is not None)
    if runtime_flash[0] is not None:
        report.runtime_flash = sum(v for v in runtime_flash if v is not None)
    graphs = data.get("graphs") or []
    nodes = graphs[0].get("nodes", []) if graphs and isinstance(graphs[0], dict) else []
    maccs = [n.get("macc") for n in nodes if isinstance(n, dict)]
    if maccs and any(maccs):
        report.macc = sum(int(m or 0) for m in maccs)
    mappings = [n.get("mapping") for n in nodes if isinstance(n, dict) and n.get("mapping")]
    if mappings:
        report.epochs = {"total": len(mappings), "hw": mappings.count("NODE_HW"), "sw": mappings.count("NODE_SW")}
    for pool in data.get("memory_pools") or []:
        if not isinstance(pool, dict) or pool.get("virtual"):
            continue
        used = int(pool.get("used_size_bytes") or 0)
        writable = pool.get("rights") == "ACC_WRITE"
        report.pools.append(Pool(str(pool.get("name")), int(pool.get("size_bytes") or 0), used,
                                 0 if writable else used, used if writable else 0,
                                 _opt_int(pool.get("address")), str(pool.get("rights") or "")))
    return report


def _opt_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return int(value, 16) if value.lower().startswith("0x") else int(value)
    return int(value)


def read_reports(outdir: Path, c_name: str = "network") -> StedgeaiReport:
    """The figures of a generate run in ``outdir``: the text report, completed by the c_info JSON.

    Either file alone is enough; neither raises :class:`FileNotFoundError`.
    """
    outdir = Path(outdir)
    texts = sorted(outdir.glob(f"{c_name}_*_report.txt"))
    info = outdir / f"{c_name}_c_info.json"
    if not texts and not info.exists():
        raise FileNotFoundError(f"no {c_name}_*_report.txt or {info.name} in {outdir}")
    report = parse_text_report(texts[0]) if texts else None
    if info.exists():
        json_report = parse_c_info(info)
        report = json_report if report is None else report.merge(json_report)
    assert report is not None
    return report
