"""Figures vendors published in their model cards, to stand beside ours with the difference in %.

Plugins ship the figures of their vendor's cards (the ``zoo_bench_published_figures`` hook returns
the JSON files); each file says where its figures come from. They are never used to fit or tune
anything, only printed next to our own figures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Published:
    """One figure of a vendor's model card."""

    vendor: str
    value: float
    unit: str
    dataset: str
    classes: int | None
    card: str
    published_with: str

    def label(self) -> str:
        return f"{self.vendor} card, {self.dataset} ({self.classes} classes)"


def figure_files(registry: Any = None) -> list[Path]:
    """The card-figure files every installed plugin publishes (``zoo_bench_published_figures``)."""
    if registry is None:
        from ..plugins import get_registry

        registry = get_registry()
    hook = getattr(registry.pm.hook, "zoo_bench_published_figures", None)
    answers = hook() if hook is not None else []
    return [Path(p) for answer in answers for p in (answer or [])]


def merge_figure_files(paths: list[Path]) -> dict[str, Any]:
    """One ``{"source", "cards", "figures"}`` view of several card-figure files."""
    merged: dict[str, Any] = {"source": [], "cards": {}, "figures": []}
    for path in paths:
        data = json.loads(Path(path).read_text())
        merged["source"].append(str(data.get("source", path.name)))
        merged["cards"].update(data.get("cards", {}))
        merged["figures"] += data.get("figures", [])
    merged["source"] = " ".join(merged["source"]) or "no plugin publishes card figures"
    return merged


@cache
def _data() -> dict[str, Any]:
    return merge_figure_files(figure_files())


def published(model: str, target: str, metric: str, classes: int | None = None) -> Published | None:
    """The vendor's figure for this model, target and metric; the one with the same number of classes first."""
    data = _data()
    matches = [f for f in data["figures"] if (f["model"], f["target"], f["metric"]) == (model, target, metric)]
    if not matches:
        return None
    matches.sort(key=lambda f: (f.get("classes") != classes, f["dataset"]))
    f = matches[0]
    card = data["cards"].get(f["card"], {})
    return Published(card.get("vendor", "vendor"), float(f["value"]), f["unit"], f["dataset"], f.get("classes"),
                     f["card"], card.get("published_with", {}).get(target, ""))


def difference_pct(ours: float, theirs: float) -> float | None:
    """(ours - theirs) / theirs in percent; ``None`` when the published figure is 0."""
    return None if theirs == 0 else 100.0 * (ours - theirs) / theirs


def source_note() -> str:
    return str(_data()["source"])
