"""Figures vendors published in their model cards, to stand beside ours with the difference in %.

The data file ``published_card_figures.json`` (shipped in the package) says where each figure
comes from; it is never used to fit or tune anything, only printed next to our own figures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
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


@cache
def _data() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("published_card_figures.json").read_text()
    return json.loads(text)


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
