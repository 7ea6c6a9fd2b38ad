"""Reading what Vela writes: the summary CSV, the per-layer CSV and its console report.

Vela (ethos-u-vela 5.x) writes ``<name>_summary_<system config>.csv`` (one row: inference_time in
seconds, inferences_per_second, cycles_*, sram_memory_used and dram_memory_used in KiB, ...), with
``--verbose-performance`` ``<name>_per-layer.csv`` (one row per NPU/CPU operation, column
``Target`` = NPU or CPU), and prints ``CPU operators = N (x%)`` / ``NPU operators = M (y%)`` plus,
for every operator it leaves to the CPU, ``Warning (supported operators) operator: OP, ofm: 'T'``
followed by ``Reason: ...``.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_OPS_LINE = re.compile(r"^(CPU|NPU) operators = (\d+) \(\s*([\d.]+)%\)", re.MULTILINE)
_WARNING = re.compile(r"Warning \(supported operators\) operator: (\w+), ofm: '([^']*)'\s*\n\s*Reason: ([^\n]*)")


@dataclass
class CpuOp:
    """An operator Vela left on the CPU."""

    op: str
    name: str
    reason: str = ""

    def as_dict(self) -> dict[str, str]:
        out = {"op": self.op, "name": self.name}
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass
class VelaReport:
    """Vela's estimate of one compiled network (None where Vela gave no number)."""

    summary: dict[str, str]
    npu_ops: int
    cpu_ops: int
    cpu_op_list: list[CpuOp] = field(default_factory=list)
    layers: list[dict[str, str]] = field(default_factory=list)

    def number(self, column: str) -> float | None:
        """A summary column as a finite float, else ``None``."""
        try:
            value = float(self.summary[column])
        except (KeyError, ValueError):
            return None
        return value if math.isfinite(value) else None

    @property
    def npu_op_share(self) -> float | None:
        """NPU operations / all operations, as Vela counts them (0..1)."""
        total = self.npu_ops + self.cpu_ops
        return self.npu_ops / total if total else None

    def top_layers(self, n: int = 5) -> list[dict[str, Any]]:
        """The ``n`` NPU operations with the most cycles (per-layer CSV), for the results."""
        rows = []
        for row in self.layers:
            try:
                cycles = int(float(row.get("Op Cycles", "0") or 0))
                share = float(row.get("Network% (cycles)", "nan"))
            except ValueError:
                continue
            if row.get("Target") == "NPU" and cycles > 0:
                rows.append({"name": row.get("Name", ""), "op": row.get("Original Operator", ""),
                             "npu_op": row.get("NNG Operator", ""), "cycles": cycles,
                             "network_pct": round(share, 2) if math.isfinite(share) else None})
        rows.sort(key=lambda r: r["cycles"], reverse=True)
        return rows[:n]


    def layer_rows(self) -> list[dict[str, Any]]:
        """Every row of the per-layer CSV as a ``zoo_bench.layers`` row: placement (NPU/CPU), cycles,
        their share of the network's, the time at the summary's core clock, the staging SRAM the
        operation uses and its MACs. Operators Vela fused into another (0 cycles) are kept."""
        clock = self.number("core_clock")
        out = []
        for i, row in enumerate(self.layers):
            cycles = _float(row.get("Op Cycles"))
            share = _float(row.get("Network% (cycles)"))
            out.append({
                "index": i, "name": row.get("Name", ""), "op": row.get("Original Operator", ""),
                "placement": row.get("Target", ""), "cycles": cycles,
                "time_ms": cycles / clock * 1000.0 if cycles is not None and clock else None,
                "time_share": share / 100.0 if share is not None else None,
                "memory_bytes": _float(row.get("Staging Usage")), "memory_kind": "staging SRAM (Vela)",
                "macs": _float(row.get("MAC Count")), "npu_op": row.get("NNG Operator", ""),
            })
        return out


def _float(text: str | None) -> float | None:
    try:
        value = float(text or "")
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def read_summary(path: Path) -> dict[str, str]:
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise ValueError(f"Vela summary {path.name} has no rows")
    return rows[0]


def read_layers(path: Path | None) -> list[dict[str, str]]:
    if path is None or not path.exists():
        return []
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def parse_console(text: str) -> tuple[int | None, int | None, dict[str, list[tuple[str, str]]]]:
    """(NPU ops, CPU ops, op type -> [(ofm, reason)]) from Vela's console output."""
    counts = {kind: int(n) for kind, n, _ in _OPS_LINE.findall(text)}
    reasons: dict[str, list[tuple[str, str]]] = {}
    for op, ofm, reason in _WARNING.findall(text):
        reasons.setdefault(ofm, []).append((op, reason.strip()))
    return counts.get("NPU"), counts.get("CPU"), reasons


def read_report(summary_csv: Path, per_layer_csv: Path | None, console: str) -> VelaReport:
    """Everything the compiler stage records, from Vela's own outputs."""
    summary = read_summary(summary_csv)
    layers = read_layers(per_layer_csv)
    npu, cpu, reasons = parse_console(console)
    cpu_rows = [r for r in layers if r.get("Target") == "CPU"]
    if npu is None or cpu is None:  # fall back on the per-layer table
        npu = sum(1 for r in layers if r.get("Target") == "NPU")
        cpu = len(cpu_rows)
    cpu_list = []
    for row in cpu_rows:
        name = row.get("Name", "")
        found = reasons.get(name, [])
        op = found[0][0] if found else row.get("Original Operator", "")
        cpu_list.append(CpuOp(op=op, name=name, reason=found[0][1] if found else ""))
    return VelaReport(summary=summary, npu_ops=npu, cpu_ops=cpu, cpu_op_list=cpu_list, layers=layers)
