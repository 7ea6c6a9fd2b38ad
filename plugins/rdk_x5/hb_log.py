"""Parsers for the logs of ``hb_mapper checker`` and ``hb_mapper makertbin``.

Formats as in D-Robotics' public reference log ``samples/vision/ultralytics_yolo/source/
reference_logs/hb_mapper_log_yolo11n_cls.txt`` (rdk_model_zoo, hb_mapper 1.24.3, hbdk 3.49.15)
and the checker table of ``samples/vision/classification/Model quantization deployment.md``:

- version lines ``hbdk version 3.49.15``, ``horizon_nn version 1.1.0``, ``hb_mapper version 1.24.3``;
- one line per compiled BPU subgraph from ``hbdk-perf``:
  ``FPS=1223.18, latency = 817.5 us, DDR = 2857024 bytes   (see main_graph_subgraph_0.html)``;
- the node table (``Node  ON  Subgraph  Type  Cosine Similarity  Threshold  DataType``, columns
  separated by two or more spaces; ``ON`` is BPU or CPU; older versions name the last column
  ``In/Out DataType``; the checker's table has no similarity columns);
- the output table (``Output  Cosine Similarity  L1 Distance  L2 Distance  Chebyshev Distance``,
  ``Node`` instead of ``Output`` in older versions).

A log without a node table is rejected with :class:`HbMapperLogError`, naming what is missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_VERSION = re.compile(r"\b(hbdk|horizon_nn|hb_mapper) version (\S+)")
_PERF = re.compile(r"FPS=([\d.]+),\s*latency\s*=\s*([\d.]+)\s*us(?:,\s*DDR\s*=\s*(\d+)\s*bytes)?"
                   r"(?:\s*\(see\s+(\S+?)(?:\.html)?\))?")
_NODE_HEADER = re.compile(r"^Node\s{2,}ON\s{2,}Subgraph\s{2,}Type\b")
_OUTPUT_HEADER = re.compile(r"^(?:Output|Node)\s{2,}Cosine Similarity\s{2,}L1 Distance")
_RULE = re.compile(r"^[=\-]{10,}\s*$")
_SUCCESS = "Convert to runtime bin file successfully"


class HbMapperLogError(ValueError):
    """The text is not an hb_mapper log this parser understands."""


@dataclass(frozen=True)
class Node:
    """One row of the node table."""

    name: str
    on: str  # BPU or CPU
    subgraph: str
    type: str
    cosine: float | None = None
    data_type: str = ""


@dataclass(frozen=True)
class OutputSimilarity:
    name: str
    cosine: float | None
    l1: float | None = None
    l2: float | None = None
    chebyshev: float | None = None


@dataclass(frozen=True)
class SubgraphPerf:
    """``hbdk-perf``'s static estimate of one compiled BPU subgraph."""

    fps: float
    latency_us: float
    ddr_bytes: int | None = None
    subgraph: str = ""


@dataclass
class HbMapperReport:
    """What a checker or makertbin log says."""

    versions: dict[str, str] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)
    outputs: list[OutputSimilarity] = field(default_factory=list)
    perf: list[SubgraphPerf] = field(default_factory=list)
    succeeded: bool = False

    @property
    def cpu_nodes(self) -> list[Node]:
        return [n for n in self.nodes if n.on == "CPU"]

    @property
    def conv_nodes(self) -> int:
        """Convolutions in the quantized node table (Gemm layers run as convolutions too)."""
        return sum(1 for n in self.nodes if n.type.endswith("QuantizedConv"))

    @property
    def bpu_op_share(self) -> float:
        return (len(self.nodes) - len(self.cpu_nodes)) / len(self.nodes) if self.nodes else 0.0

    def worst_nodes(self, n: int = 5) -> list[Node]:
        """The ``n`` nodes whose output drifts most from the float model (lowest cosine)."""
        scored = [node for node in self.nodes if node.cosine is not None]
        return sorted(scored, key=lambda node: node.cosine)[:n]  # type: ignore[arg-type, return-value]


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None  # "--": not measured for this node


def _cells(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


def _table(lines: list[str], start: int) -> tuple[list[str], list[list[str]]]:
    """Header cells and rows of the table whose header is ``lines[start]``."""
    header = _cells(lines[start])
    rows = []
    for line in lines[start + 1:]:
        if _RULE.match(line):
            continue
        if not line.strip() or _TIMESTAMP.match(line):
            break
        rows.append(_cells(line))
    return header, rows


def _column(header: list[str], *names: str) -> int | None:
    for name in names:
        if name in header:
            return header.index(name)
    return None


def _nodes(header: list[str], rows: list[list[str]]) -> list[Node]:
    cos = _column(header, "Cosine Similarity")
    dtype = _column(header, "DataType", "In/Out DataType")
    nodes = []
    for row in rows:
        if len(row) < 4 or row[1] not in ("BPU", "CPU"):
            raise HbMapperLogError(f"unexpected row in the node table (ON must be BPU or CPU): {'  '.join(row)!r}")
        nodes.append(Node(
            name=row[0], on=row[1], subgraph=row[2], type=row[3],
            cosine=_number(row[cos]) if cos is not None and cos < len(row) else None,
            data_type=row[dtype] if dtype is not None and dtype < len(row) else "",
        ))
    return nodes


def _outputs(rows: list[list[str]]) -> list[OutputSimilarity]:
    out = []
    for row in rows:
        if len(row) < 2:
            raise HbMapperLogError(f"unexpected row in the output similarity table: {'  '.join(row)!r}")
        values = [_number(v) for v in row[1:5]] + [None] * 4
        out.append(OutputSimilarity(row[0], *values[:4]))
    return out


def parse_hb_mapper_log(text: str, require_similarity: bool = False) -> HbMapperReport:
    """Parse a checker or makertbin log (file or console text).

    ``require_similarity`` (makertbin) also demands the output similarity table. Raises
    :class:`HbMapperLogError` when the node table (or that table) is missing or malformed.
    """
    report = HbMapperReport()
    lines = text.splitlines()
    for i, line in enumerate(lines):
        for tool, version in _VERSION.findall(line):
            report.versions.setdefault(tool, version)
        perf = _PERF.search(line)
        if perf:
            report.perf.append(SubgraphPerf(float(perf.group(1)), float(perf.group(2)),
                                            int(perf.group(3)) if perf.group(3) else None, perf.group(4) or ""))
        if _NODE_HEADER.match(line) and not report.nodes:
            report.nodes = _nodes(*_table(lines, i))
        elif _OUTPUT_HEADER.match(line) and not report.outputs:
            report.outputs = _outputs(_table(lines, i)[1])
        if _SUCCESS in line:
            report.succeeded = True
    if not report.nodes:
        what = "hb_mapper log" if report.versions else "text (no hb_mapper version line either)"
        raise HbMapperLogError(f"no node placement table ('Node  ON  Subgraph  Type ...') in this {what}")
    if require_similarity and not report.outputs:
        raise HbMapperLogError("no output similarity table ('Output  Cosine Similarity  L1 Distance ...') "
                               "in the makertbin log")
    return report


_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # the console colours its log levels
_EXCEPTION = re.compile(r"^\w*(?:Error|Exception): \S")
_ERROR = re.compile(r"\b(?:error|Unsupported|not supported)\b", re.IGNORECASE)
_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}[ ,\d:.]*\s*(?:file:\s*\S+\s*)?(?:func:\s*\S+\s*)?(?:line No:\s*\d+\s*)?")


def error_line(text: str) -> str:
    """The toolchain's own error line in a failed run's log or console, without its timestamp
    prefix: the last line that says ERROR (hb_mapper's log level), else the last exception
    message (``ValueError: ...``), else the last line that mentions an error; else the last line."""
    lines = [ln.strip() for ln in _ANSI.sub("", text).splitlines() if ln.strip()]
    marked = ([ln for ln in lines if "ERROR" in ln] or [ln for ln in lines if _EXCEPTION.match(ln)]
              or [ln for ln in lines if _ERROR.search(ln) and not ln.startswith("Traceback")])
    line = (marked or lines or ["(no output)"])[-1]
    return _PREFIX.sub("", line).strip() or line
