"""The tables of a model card, built from one run's rows of one model (no plugin, no executor).

Each table keeps the column headers of the vendor cards (network information, inputs/outputs,
recommended platforms, MCU and NPU memory footprint, inference time, multi-thread tables,
accuracy float vs int8). Every cell carries a marker for the method behind its figure, the tools
and versions of a row are in its last column, a vendor's published figure for the same model and
target stands beside ours with the difference in %, and a figure that is missing says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..records import extra_dict
from .card_notes import Footnotes, fitted_on, tool_versions, vendor_figure
from .escape import md_code, md_text
from .published import difference_pct

MARKERS = {"measured-host": "[H]", "measured-board": "[B]", "tool-estimate": "[T]", "model-estimate": "[E]"}
LEGEND = [("[H]", "measured on the host that ran zoo-bench"), ("[B]", "measured on the board"),
          ("[T]", "estimated by the vendor's tool"), ("[E]", "estimated by zoo-bench from the model"),
          ("(cached)", "a measurement served from the artifact cache of an earlier run, not measured again")]
#: measurements whose cached copy is worth a marker (an estimate from the cache is the same estimate)
MEASURED = ("measured-host", "measured-board")


def cached_measurement(row: dict[str, Any]) -> bool:
    """A measurement (a run or evaluate stage's, what ``--fresh`` redoes) served from the cache of an
    earlier run: not measured again in this one."""
    return bool(row.get("cached")) and row.get("method") in MEASURED and row.get("stage_kind") in ("run", "evaluate")
#: preferred source when several stages report the same figure for a target
METHOD_RANK = {"measured-board": 0, "tool-estimate": 1, "measured-host": 2, "model-estimate": 3}

MCU_MEMORY = [("Activation RAM", ["activation_ram_kib"]), ("Runtime RAM", ["runtime_ram_kib"]),
              ("Weights Flash", ["weights_flash_kib"]), ("Code Flash", ["code_flash_kib"]),
              ("Total RAM", ["total_ram_kib"]), ("Total Flash", ["total_flash_kib"])]
NPU_MEMORY = [("Internal RAM (KiB)", ["internal_ram_kib", "sram_used_kib"]),
              ("External RAM (KiB)", ["external_ram_kib", "dram_used_kib"]),
              ("Weights Flash (KiB)", ["weights_flash_kib"])]
MCU_ONLY = {"activation_ram_kib", "runtime_ram_kib", "code_flash_kib", "total_ram_kib", "total_flash_kib"}
NPU_ONLY = {"internal_ram_kib", "external_ram_kib", "sram_used_kib", "dram_used_kib"}
LATENCY = ["latency_p50_ms", "latency_mean_ms"]


@dataclass(frozen=True)
class TargetFacts:
    """What the card says of a target besides its rows (from the registry when the plugin is installed)."""

    id: str
    device_class: str = ""
    clock_mhz: float | None = None
    description: str = ""

    @property
    def board(self) -> str:
        return self.description.split(":", 1)[0].strip() or self.id


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def num(value: float) -> str:
    """Stable, readable number: two decimals (three significant digits below 1), thousands separated."""
    if value != 0 and abs(value) < 1:
        return f"{value:.3g}"
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def extra_of(row: dict[str, Any]) -> dict[str, Any]:
    """A row's ``extra`` as a dict (:func:`zoo_bench.records.extra_dict`)."""
    return extra_dict(row.get("extra"))


def tool_of(row: dict[str, Any]) -> str:
    return md_text(f"{row['tool']} {row['tool_version']}".strip())


class CardRows:
    """One model's rows of one run, with the lookups the tables need."""

    def __init__(self, model: str, rows: list[dict[str, Any]], targets: dict[str, TargetFacts]):
        self.model = model
        self.name = md_text(model)  # the model name as literal markdown (a store may hold any name)
        self.rows = rows
        self.ok = [r for r in rows if r["status"] == "ok" and r["metric"] != "stage_seconds"]
        self.targets = sorted({r["target"] for r in rows})
        self.facts = {t: targets.get(t, TargetFacts(t)) for t in self.targets}
        first = rows[0]
        self.resolution, self.classes = first["resolution"], first["classes"]
        #: vendor figures printed beside ours, by (target, metric), listed with their source under the tables
        self.published_used: dict[tuple[str, str], Any] = {}
        #: each distinct "not measured" reason once, as a footnote
        self.footnotes = Footnotes()

    def figures(self, target: str, metrics: list[str], variant: str | None = None) -> list[dict[str, Any]]:
        found = [r for r in self.ok if r["target"] == target and r["metric"] in metrics
                 and (variant is None or r["variant"] == variant)]
        return sorted(found, key=lambda r: (metrics.index(r["metric"]), _rank(r), r["stage"]))

    def best(self, target: str, metrics: list[str], variant: str | None = None) -> dict[str, Any] | None:
        found = self.figures(target, metrics, variant)
        return found[0] if found else None

    def why_missing(self, target: str, kinds: tuple[str, ...]) -> str:
        """'not measured[^n]' for a figure that stages of ``kinds`` (in order) would have produced;
        the footnote says why."""
        stages = [r for r in self.rows if r["target"] == target and r["metric"] == "stage_seconds"]
        for kind in kinds:
            of_kind = [r for r in stages if r["stage_kind"] == kind]
            bad = sorted((r for r in of_kind if r["status"] != "ok"),
                         key=lambda r: ("blocked_by" in (r["extra"] or ""), r["stage"]))
            if bad:
                return self.why_stage(bad[0])
            if of_kind:
                names = ", ".join(md_code(r["stage"]) for r in sorted(of_kind, key=lambda r: r["stage"]))
                return "not measured" + self.footnotes.ref(f"{names} ran and did not report it")
        return "not measured" + self.footnotes.ref(f"no {' or '.join(kinds)} stage in this run")

    def why_stage(self, r: dict[str, Any]) -> str:
        """'not measured[^n]' for one stage row that did not succeed; the footnote names the root cause."""
        return "not measured" + self.footnotes.ref(self.stage_reason(r))

    def stage_reason(self, r: dict[str, Any]) -> str:
        """Why a stage did not succeed (markdown, escaped), the root cause first: a reason shared by
        several stages (no boards file, a tool not installed) reads the same for each of them."""
        root = extra_of(r).get("blocked_by")
        cause = next((s for s in self.rows if s["target"] == r["target"] and s["stage"] == root
                      and s["metric"] == "stage_seconds"), None)
        if cause is not None and cause["reason"]:
            return f"{md_code(root)} {md_text(cause['status'])}: {md_text(cause['reason'])}"
        return f"{md_text(r['status'])}: {md_text(r['reason'])}"

    def cell(self, row: dict[str, Any] | None, target: str, unit: str = "", missing: str = "",
             compare_metric: str | None = None) -> str:
        """Value, method marker and, when a vendor published the same figure, theirs with the difference."""
        if row is None:
            return missing
        text = f"{num(row['value'])}{' ' + unit if unit else ''} {MARKERS.get(row['method'], '[?]')}"
        if cached_measurement(row):
            text += " (cached)"
        interval = extra_of(row).get("interval")
        if isinstance(interval, list) and len(interval) == 2 and all(isinstance(v, int | float) for v in interval):
            text += f" (interval {num(interval[0])}-{num(interval[1])} (leave-one-model-out))"
        theirs, point = vendor_figure(self.model, target, compare_metric or row["metric"], self.classes)
        if theirs is not None:
            self.published_used[(target, compare_metric or row["metric"])] = theirs
            if theirs.classes not in (None, self.classes):  # another head: not like for like
                text += f" (published {num(theirs.value)} for {theirs.classes} classes; run with --classes " \
                        f"{theirs.classes} to compare)"
            elif fitted_on(row, point, extra_of(row)) or \
                    ("fitted_on" in extra_of(row) and extra_of(row).get("in_fit") is not False):
                # a fitted estimator's row, fitted on this network (or from before the in_fit flag):
                # a % against its own training point proves nothing
                text += f" (published {num(theirs.value)}; estimator fitted on this network, no % shown)"
            else:
                diff = difference_pct(row["value"], theirs.value)
                text += f" (published {num(theirs.value)}{'' if diff is None else f', {diff:+.1f} %'})"
        if row["method"] == "model-estimate" and extra_of(row).get("extrapolation"):
            text += " (extrapolated: the model lies outside the networks the estimator was fitted on)"
        if row["method"] == "model-estimate" and extra_of(row).get("in_fit"):
            full = extra_of(row).get("full_fit_value")
            text += " (in fit: leave-one-network-out value" + (f", full fit {num(full)})" if full else ")")
        return text


def format_name(variant: str) -> str:
    return {"int8": "Int8", "float32": "Float", "float16": "Float16"}.get(variant) or md_text(variant)


def resolution_text(cr: CardRows) -> str:
    return f"{cr.resolution}x{cr.resolution}x3" if cr.resolution else "-"


def tools(rows: list[dict[str, Any] | None]) -> str:
    return tool_versions(rows)


def _memory_table(cr: CardRows, title: str, columns: list[tuple[str, list[str]]], only: set[str],
                  device_class: str, with_dataset: bool) -> Table | None:
    targets = [t for t in cr.targets if cr.facts[t].device_class == device_class
               or any(r["target"] == t and r["metric"] in only for r in cr.ok)]
    if not targets:
        return None
    head = ["Model", "Dataset", "Format", "Resolution", "Series"] if with_dataset else \
        ["Model", "Format", "Resolution", "Series"]
    t = Table(title, head + [c for c, _ in columns] + ["Tool version"])
    for target in targets:
        metrics = [m for _, ms in columns for m in ms]
        variants = sorted({r["variant"] for r in cr.figures(target, metrics)}) or ["int8"]
        for variant in variants:
            found = [cr.best(target, ms, variant) for _, ms in columns]
            missing = cr.why_missing(target, ("compile", "run"))
            cells = [cr.cell(f, target, "KiB" if not with_dataset else "", missing,
                             compare_metric=ms[0]) for f, (_, ms) in zip(found, columns, strict=True)]
            cells = [c + (f" ({f['metric']})" if f and f["metric"] != ms[0] else "")
                     for c, f, (_, ms) in zip(cells, found, columns, strict=True)]
            lead = [cr.name] + ([f"{cr.classes} classes"] if with_dataset else [])
            t.rows.append(lead + [format_name(variant), resolution_text(cr), md_text(target)] + cells + [tools(found)])
    return t


def memory_tables(cr: CardRows) -> list[Table]:
    tables = [_memory_table(cr, "Reference MCU memory footprint", MCU_MEMORY, MCU_ONLY, "MCU", False),
              _memory_table(cr, "Reference NPU memory footprint", NPU_MEMORY, NPU_ONLY, "NPU", True)]
    return [t for t in tables if t is not None]


def _engine(row: dict[str, Any]) -> str:
    extra = extra_of(row)
    engine = extra.get("engine") or extra.get("delegate") or extra.get("runtime") or row["component"]
    threads = extra.get("threads")
    return md_text(engine) + (f", {md_text(threads)} thread{'s' if threads != 1 else ''}" if threads else "")


def inference_time(cr: CardRows) -> Table:
    """One line per stage with a latency; the time and the rate come from the same statistic (the mean,
    as vendors publish it, with the median beside it), and run stages that did not succeed share one
    line per component and reason."""
    t = Table("Reference inference time", ["Model", "Format", "Resolution", "Board", "Execution Engine",
                                           "Frequency", "Inference time (ms)", "Inf / sec", "Tool version"])
    for target in cr.targets:
        facts = cr.facts[target]
        board_name = md_text(facts.board)
        latency_rows = cr.figures(target, LATENCY)
        rank = {}
        for r in latency_rows:  # the board first, then the best predictor of it (see _rank)
            rank[r["stage"]] = min(rank.get(r["stage"], 9.0), _rank(r))
        stages = sorted({(r["stage"], r["variant"], str(extra_of(r).get("threads", ""))) for r in latency_rows},
                        key=lambda s: (rank.get(s[0], 9.0), s))
        if not stages:
            t.rows.append([cr.name, "-", resolution_text(cr), board_name, "-", "-",
                           cr.why_missing(target, ("run",)), "-", "-"])
        failed: dict[tuple[str, str, str], list[str]] = {}
        for r in cr.rows:  # run stages that did not succeed are listed, not left out
            if r["target"] == target and r["stage_kind"] == "run" and r["metric"] == "stage_seconds" \
                    and r["status"] != "ok" and stages:
                failed.setdefault((r["variant"], r["component"], cr.why_stage(r)), []).append(r["stage"])
        for (variant, component, why), names in sorted(failed.items()):
            labels = sorted(n.split(":", 2)[2] for n in names if n.count(":") >= 2)
            engine = md_text(component) + (f" ({md_text(', '.join(labels))})" if labels else "")
            t.rows.append([cr.name, format_name(variant), resolution_text(cr), board_name, engine, "-", why, "-", "-"])
        for stage, variant, threads in stages:
            rows = [r for r in cr.figures(target, LATENCY + ["inferences_per_s"], variant)
                    if r["stage"] == stage and str(extra_of(r).get("threads", "")) == threads]
            mean = next((r for r in rows if r["metric"] == "latency_mean_ms"), None)
            median = next((r for r in rows if r["metric"] == "latency_p50_ms"), None)
            ips = next((r for r in rows if r["metric"] == "inferences_per_s"), None)
            lat = mean or median
            extra = extra_of(lat) if lat else {}
            # a target's clock is its CPU's: it is the engine's clock only on a microcontroller
            clock = extra.get("clock_mhz") or (facts.clock_mhz if facts.device_class == "MCU" else None)
            board = extra.get("board") or (lat.get("host_cpu") if lat and lat["method"] == "measured-host" else None)
            time_cell = cr.cell(lat, target, compare_metric="latency_mean_ms")
            if lat is median and median is not None:
                time_cell = time_cell.replace(" [", " (median) [", 1)
            elif median is not None:
                time_cell += f" (median {num(median['value'])})"
            # inferences/s is 1000 / mean: shown beside the mean only
            rate = cr.cell(ips, target) if ips and lat is mean else "-"
            t.rows.append([cr.name, format_name(variant), resolution_text(cr), md_text(board) if board else board_name,
                           _engine(lat) if lat else "-", f"{num(float(clock))} MHz" if clock else "-",
                           time_cell, rate, tools([lat, ips])])
    return t


def multi_thread_tables(cr: CardRows) -> list[Table]:
    """Per target and stage whose latency was measured at several thread counts (BPU-style tables)."""
    tables = []
    for target in cr.targets:
        by_stage: dict[str, dict[int, dict[str, Any]]] = {}
        for r in cr.figures(target, LATENCY + ["inferences_per_s"]):
            threads = extra_of(r).get("threads")
            if isinstance(threads, int):
                by_stage.setdefault(r["stage"], {}).setdefault(threads, {}).setdefault(r["metric"], r)
        for stage, per_thread in sorted(by_stage.items()):
            if len(per_thread) < 2:
                continue
            t = Table(f"Multi-thread latency and throughput on {target} (`{stage}`)",
                      ["Model", "Threads", "Latency (ms)", "Frame rate(FPS)", "Tool version"])
            for threads, figs in sorted(per_thread.items()):
                lat = figs.get("latency_p50_ms") or figs.get("latency_mean_ms")
                ips = figs.get("inferences_per_s")
                t.rows.append([cr.name, str(threads), cr.cell(lat, target, missing="-",
                                                                compare_metric="latency_mean_ms") if threads == 1
                               else cr.cell(lat, target, missing="-"), cr.cell(ips, target, missing="-"),
                               tools([lat, ips])])
            tables.append(t)
    return tables


def accuracy_tables(cr: CardRows) -> list[Table]:
    acc = [r for r in cr.ok if r["metric"] in ("top1", "top1_float", "top1_int8", "top5_float", "top5_int8")]
    if not acc:
        t = Table("Accuracy", ["Model", "Format", "Resolution", "Top 1 Accuracy"])
        for target in cr.targets:
            t.rows.append([cr.name, "-", resolution_text(cr),
                           f"{md_text(target)}: " + cr.why_missing(target, ("evaluate",))])
        return [t]
    tables = []
    for dataset in sorted({r["dataset"] or "unnamed" for r in acc}):
        t = Table(f"Accuracy with {md_text(dataset)} dataset", ["Model", "Format", "Resolution", "Top 1 Accuracy",
                                                        "Top 5 Accuracy", "Target", "Images", "Tool version"])
        for target in cr.targets:
            rows = [r for r in acc if r["target"] == target and (r["dataset"] or "unnamed") == dataset]
            for fmt, top1s, top5s in (("Float", ["top1_float"], ["top5_float"]),
                                      ("Int8", ["top1_int8"], ["top5_int8"])):
                variant = "float32" if fmt == "Float" else "int8"
                top1 = next((r for r in rows if r["metric"] in top1s), None) or \
                    next((r for r in rows if r["metric"] == "top1" and r["variant"] == variant), None)
                top5 = next((r for r in rows if r["metric"] in top5s), None)
                if top1 is None and top5 is None:
                    continue
                images = (top1 or top5)["n_images"]
                t.rows.append([cr.name, fmt, resolution_text(cr), cr.cell(top1, target, "%", "-"),
                               cr.cell(top5, target, "%", "-"), md_text(target), str(images or "-"),
                               tools([top1, top5])])
        tables.append(t)
    return tables


def published_sources(cr: CardRows) -> Table | None:
    """Where each vendor figure printed in the card comes from (call after the other tables)."""
    if not cr.published_used:
        return None
    t = Table("Published figures beside ours", ["Target", "Metric", "Published", "Source", "Vendor's setup"])
    for (target, metric), p in sorted(cr.published_used.items()):
        t.rows.append([target, metric, f"{num(p.value)} {p.unit}", _source_text(p),
                       p.published_with or "-"])
    return t


def _source_text(p: Any) -> str:
    return f"{p.label()}, " + (p.card if "/" in p.card else f"seed card {p.card}")


def _rank(row: dict[str, Any]) -> float:
    """Order of rows of one metric: a board measurement first, then the best predictor of the
    board: an estimate that corrects a tool's figure and beats it on the published points
    (``extra.preferred_over_tool``) comes before that raw tool figure."""
    if row["method"] == "model-estimate" and extra_of(row).get("preferred_over_tool"):
        return 0.5
    return METHOD_RANK.get(row["method"], 9)


