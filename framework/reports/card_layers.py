"""The per-layer section of a model card: per stage with layer rows, the top layers by time and by
memory and the layers that fall back to the CPU (from :mod:`zoo_bench.layers` rows)."""

from __future__ import annotations

from typing import Any

from .card_tables import num
from .escape import md_code, md_text
from .report_data import layer_summaries, layer_time_text

TITLE = "Per-layer breakdown"


def _name(r: dict[str, Any]) -> str:
    # TFLite names of fused operators are ';'-joined lists of every tensor: the first one names the layer
    return md_code(str(r["name"]).split(";")[0])


def layer_section(model: str, layers: list[dict[str, Any]], top: int = 5) -> tuple[str, str] | None:
    """``(title, markdown)`` for one model, or ``None`` when its runs have no layer rows."""
    groups = [g for g in layer_summaries([r for r in layers if r["model"] == model], top) if g.model == model]
    if not groups:
        return None
    lines = ["From the tools' own per-layer reports (a compiler's per-layer table, a runtime's "
             "operator list); host layers have no time (LiteRT's Python interpreter has no per-operator profiler)."]
    for g in groups:
        where = ", ".join(f"{n} on {md_text(p)}" for p, n in sorted(g.placements.items()))
        lines += ["", f"### {md_text(g.target)}, {md_code(g.stage)} ({md_text(g.tool)}; {g.n_layers} layers: {where})"]
        if g.by_time:
            lines += ["", "| Top layers by time | Operator | On | Time |", "|---|---|---|---|"]
            lines += [f"| {_name(r)} | {md_text(r.get('op') or '-')} | {md_text(r.get('placement') or '-')} | "
                      f"{layer_time_text(r, g.time_key)} |" for r in g.by_time]
        if g.by_memory:
            lines += ["", "| Top layers by memory | Operator | KiB | Memory |", "|---|---|---|---|"]
            lines += [f"| {_name(r)} | {md_text(r.get('op') or '-')} | {num(r['memory_bytes'] / 1024)} | "
                      f"{md_text(r.get('memory_kind') or '-')} |" for r in g.by_memory]
        cpu = ", ".join(_name(r) + f" ({md_text(r.get('op') or '?')})" for r in g.on_cpu)
        if g.accelerated:
            lines += ["", "Layers that fall back to the CPU: " + (cpu or "none, every layer runs on the accelerator.")]
        if g.cosine_worst:
            lines += ["", "Lowest cosine similarity, int8 against float: " + ", ".join(
                f"{_name(r)} {r['cosine']:.5f}" for r in g.cosine_worst)]
    return TITLE, "\n".join(lines)
