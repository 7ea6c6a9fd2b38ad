"""What a card prints once instead of in every cell: footnotes for "not measured" reasons, one
version per tool, and the vendor's figure for the same class count (cards and the HTML report).

Vendor figures come from two places: the card figures of :mod:`.published`, and the points files
the estimators are fitted on (``published_points.json`` of the plugins, whose model definitions
name the catalog model they are, with their class count). A figure with the model's own class
count is preferred; the name of the point travels with it, so a figure an estimator was fitted on
is said to be one.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from .escape import md_text
from .published import Published, published


class Footnotes:
    """Numbered footnotes of one card: each distinct text once, numbered in order of first use."""

    def __init__(self) -> None:
        self.texts: dict[str, int] = {}

    def ref(self, text: str) -> str:
        """The markdown reference (``[^n]``) of ``text`` (already escaped markdown)."""
        if text not in self.texts:
            self.texts[text] = len(self.texts) + 1
        return f"[^{self.texts[text]}]"

    def lines(self) -> list[str]:
        return [f"[^{n}]: {text}" for text, n in sorted(self.texts.items(), key=lambda kv: kv[1])]


def tool_versions(rows: list[dict[str, Any] | None]) -> str:
    """The tools behind ``rows`` with one version each: ``a 1.0, b 2.3``.

    A combined tool name (``tflm-planner+tflite-flatbuffer``) is left out when each of its tools has
    a row of its own in the same list (their versions say more); otherwise it stays whole, with its
    own version. A tool seen with two versions lists both (``x 1 / 2``): rare, and not hidden.
    """
    own: dict[str, set[str]] = {}
    combined: dict[tuple[str, ...], set[str]] = {}
    for r in rows:
        if r is None or not r.get("tool"):
            continue
        parts = tuple(p.strip() for p in str(r["tool"]).split("+") if p.strip())
        version = str(r.get("tool_version") or "").strip()
        if len(parts) == 1:
            own.setdefault(parts[0], set()).add(version)
        else:
            combined.setdefault(parts, set()).add(version)
    for parts, versions in combined.items():
        if not all(p in own for p in parts):  # its version is the combination's, not each tool's
            own.setdefault("+".join(parts), set()).update(versions)
    out = []
    for name in sorted(own):
        versions = sorted(v for v in own[name] if v)
        out.append(md_text(f"{name} {' / '.join(versions)}".strip()))
    return ", ".join(out) or "-"


@cache
def _points() -> tuple[tuple[str, Published, str], ...]:
    """(catalog model, figure, point model name) of every published point of the installed plugins."""
    try:
        from ..estimate.data import load_points, points_files
    except ImportError:  # pragma: no cover - the estimate package is part of the core
        return ()
    out = []
    for path in points_files():
        try:
            pf = load_points(path)
        except Exception:  # a broken points file costs only its figures here (fit/fidelity report it)
            continue
        for p in pf.points:
            definition = pf.models.get(p["model"], {})
            catalog = definition.get("catalog")
            if not catalog:
                continue
            source = pf.sources.get(p["source"], {})
            where = "/".join(str(x) for x in (source.get("repo"), p.get("path")) if x)
            fig = Published(vendor=str(pf.targets.get(p["target"], {}).get("vendor") or _vendor(source)),
                            value=float(p["value"]), unit=str(p["unit"]),
                            dataset=_dataset(p["model"], catalog), classes=definition.get("classes"),
                            card=where or str(p["source"]), published_with=str(p.get("tool_version") or ""))
            out.append((f"{catalog}|{p['target']}|{p['metric']}", fig, str(p["model"])))
    return tuple(out)


def _vendor(source: dict[str, Any]) -> str:
    repo = str(source.get("repo") or "")
    return repo.split("/", 1)[0] if "/" in repo else "vendor"


def _dataset(point_model: str, catalog: str) -> str:
    suffix = point_model[len(catalog):].strip("_") if point_model.startswith(catalog) else ""
    return suffix or "published"


def vendor_figure(model: str, target: str, metric: str, classes: int | None) -> tuple[Published | None, str]:
    """The vendor's figure to print beside ours, and the name of its point in the points files
    (``""`` for a card figure): one with the model's class count first, then a card figure."""
    card = published(model, target, metric, classes)
    if card is not None and card.classes in (None, classes):
        return card, ""
    key = f"{model}|{target}|{metric}"
    for _, fig, point in sorted((x for x in _points() if x[0] == key), key=lambda x: (x[1].classes != classes,
                                                                                        x[2])):
        if fig.classes == classes:
            return fig, point
    return card, ""


def fitted_on(row: dict[str, Any], point: str, extra: dict[str, Any]) -> bool:
    """Whether the estimate ``row`` was fitted on the published point ``point``."""
    if row.get("method") != "model-estimate" or not point:
        return False
    names = extra.get("fitted_on")
    return isinstance(names, list) and point in names and extra.get("in_fit") is not False
