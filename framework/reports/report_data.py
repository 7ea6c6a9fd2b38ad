"""What the HTML report shows, as data: latency marks with their interval and vendor figure, the
model x target overview, and the per-layer summaries (also used by the cards).

Pure functions of rows (and layer rows); :mod:`.report` turns them into SVG and HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .card_notes import fitted_on, vendor_figure
from .card_tables import METHOD_RANK, cached_measurement, extra_of, num

LATENCY = ("latency_p50_ms", "latency_mean_ms")
MEASURED = ("measured-host", "measured-board")
ESTIMATED = ("tool-estimate", "model-estimate")
SHORT_METHOD = {"measured-host": "host", "measured-board": "board", "tool-estimate": "tool est.",
                "model-estimate": "model est."}


def interval_of(row: dict[str, Any]) -> tuple[float, float] | None:
    """The estimate interval a row carries (``extra.interval`` = [low, high]), when well formed."""
    value = extra_of(row).get("interval")
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int | float) for v in value) \
            and 0 < value[0] <= value[1]:
        return float(value[0]), float(value[1])
    return None


def in_fit(row: dict[str, Any]) -> bool:
    """An estimate of a network that is among those its estimator was fitted on (``extra.in_fit``)."""
    return row.get("method") == "model-estimate" and extra_of(row).get("in_fit") is True


def latencies(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One latency figure per (run, model, target, stage, variant, threads): the median when measured."""
    best: dict[tuple, dict[str, Any]] = {}
    for r in rows:
        if r["status"] != "ok" or r["metric"] not in LATENCY or not isinstance(r["value"], int | float) \
                or not r["value"] > 0:
            continue
        key = (r.get("run_id") or "", r["model"], r["target"], r["stage"], r["variant"],
               str(extra_of(r).get("threads", "")))
        if key not in best or LATENCY.index(r["metric"]) < LATENCY.index(best[key]["metric"]):
            best[key] = r
    return [best[k] for k in sorted(best)]


@dataclass
class Vendor:
    """The vendor's figure beside one of ours, and whether our estimate was fitted on it."""

    value: float
    source: str
    classes: int | None
    fitted: bool


def vendor_beside(row: dict[str, Any]) -> Vendor | None:
    """The vendor's published latency for the row's model and target with the same class count."""
    theirs, point = vendor_figure(row["model"], row["target"], "latency_mean_ms", row.get("classes"))
    if theirs is None or theirs.classes not in (None, row.get("classes")):
        return None
    return Vendor(theirs.value, f"{theirs.label()}, {theirs.card}", theirs.classes,
                  fitted_on(row, point, extra_of(row)))


@dataclass
class Cell:
    """One model x target cell of the overview."""

    verdict: str = ""
    latency: str = ""
    method: str = ""
    ram_pct: str = ""
    flash_pct: str = ""
    notes: list[str] = field(default_factory=list)


def _pct(row: dict[str, Any]) -> str:
    extra = extra_of(row)
    need, internal = extra.get("need_kib"), extra.get("internal_kib")
    if not isinstance(need, int | float):
        return ""
    if internal == 0:
        return f"{num(need)} KiB, external by design"
    if isinstance(internal, int | float) and internal > 0:
        return f"{100.0 * need / internal:.0f} %"
    return ""


Matrix = list[tuple[str, dict[str, Cell]]]


def overview(rows: list[dict[str, Any]], run_tag: dict[str, str]) -> tuple[list[str], Matrix]:
    """(targets, [(row label, {target: cell})]) of the model x target matrix; one row per model and run
    when the report shows several runs."""
    targets = sorted({r["target"] for r in rows})
    table: dict[str, dict[str, Cell]] = {}
    many = len(run_tag) > 1
    for r in rows:
        label = r["model"] + (f" [{run_tag.get(r.get('run_id') or '', '')}]" if many else "")
        table.setdefault(label, {})
    lat_by: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in latencies(rows):
        label = r["model"] + (f" [{run_tag.get(r.get('run_id') or '', '')}]" if many else "")
        lat_by.setdefault((label, r["target"]), []).append(r)
    for (label, target), found in lat_by.items():
        found.sort(key=lambda r: (METHOD_RANK.get(r["method"], 9), r["variant"] != "int8", r["stage"]))
        best = found[0]
        cell = table[label].setdefault(target, Cell())
        text = f"{num(best['value'])} ms"
        interval = interval_of(best)
        if interval:
            text += f" [{num(interval[0])}-{num(interval[1])}]"
        cell.latency = text
        cell.method = f"{SHORT_METHOD.get(best['method'], best['method'])}, {best['variant']}" + \
            (", cached" if cached_measurement(best) else "") + \
            (", in fit" if in_fit(best) else "")
    for r in rows:
        if r["status"] != "ok" or not str(r["metric"]).startswith("fits_internal_"):
            continue
        label = r["model"] + (f" [{run_tag.get(r.get('run_id') or '', '')}]" if many else "")
        cell = table[label].setdefault(r["target"], Cell())
        kind = r["metric"].rsplit("_", 1)[-1]
        verdict = str(extra_of(r).get("verdict") or "")
        if kind == "ram":
            cell.ram_pct = _pct(r)
        elif kind == "flash":
            cell.flash_pct = _pct(r)
        if verdict and extra_of(r).get("internal_kib") != 0:  # none on the chip: external is its design
            cell.notes.append(f"{kind}: {verdict}")
    for cells in table.values():
        for cell in cells.values():
            v = " ".join(cell.notes)
            cell.verdict = "does not fit" if "does not fit" in v else "needs external" if "needs external" in v \
                else "fits internal" if v else ""
    return targets, sorted(table.items())


# --- per-layer summaries (report and cards) --------------------------------------------------------

@dataclass
class LayerSummary:
    """The layers of one stage: the top ones by time and by memory, and those left on the CPU."""

    model: str
    target: str
    stage: str
    tool: str
    n_layers: int
    by_time: list[dict[str, Any]]
    by_memory: list[dict[str, Any]]
    on_cpu: list[dict[str, Any]]
    placements: dict[str, int]
    time_key: str
    cosine_worst: list[dict[str, Any]]
    accelerated: bool = True


def layer_summaries(layers: list[dict[str, Any]], top: int = 8) -> list[LayerSummary]:
    """One summary per (run, model, target, stage) that has layer rows."""
    groups: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
    for r in layers:
        groups.setdefault((r.get("run_id") or "", r["model"], r["target"], r["stage"]), []).append(r)
    out = []
    for (_, model, target, stage), rows in sorted(groups.items()):
        time_key = next((k for k in ("time_ms", "cycles", "time_share") if any(r.get(k) for r in rows)), "")
        by_time = sorted((r for r in rows if time_key and r.get(time_key)), key=lambda r: -r[time_key])[:top]
        by_memory = sorted((r for r in rows if r.get("memory_bytes")), key=lambda r: -r["memory_bytes"])[:top]
        placements: dict[str, int] = {}
        for r in rows:
            placements[r.get("placement") or "?"] = placements.get(r.get("placement") or "?", 0) + 1
        accelerated = any(p not in ("CPU", "?", "host") for p in placements)
        on_cpu = [r for r in rows if r.get("placement") == "CPU"] if accelerated else []
        worst = sorted((r for r in rows if r.get("cosine") is not None), key=lambda r: r["cosine"])[:top]
        tool = f"{rows[0].get('tool') or ''} {rows[0].get('tool_version') or ''}".strip()
        out.append(LayerSummary(model, target, stage, tool, len(rows), by_time, by_memory, on_cpu, placements,
                                time_key, worst, accelerated))
    return out


def layer_time_text(r: dict[str, Any], key: str) -> str:
    share = f" ({100 * r['time_share']:.1f} %)" if r.get("time_share") is not None else ""
    if key == "time_ms":
        return f"{num(r['time_ms'])} ms" + share
    if key == "cycles":
        return f"{num(r['cycles'])} cycles" + share
    return share.strip(" ()")
