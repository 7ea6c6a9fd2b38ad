"""A results file of rows only (JSON lines), small enough to commit beside the model cards it makes.

``zoo-bench card --export-rows model_cards/results.jsonl`` writes it from a run; ``zoo-bench card
--rows model_cards/results.jsonl --output-dir model_cards`` makes the cards again from it, byte for
byte. One JSON object per line, keys sorted, rows sorted: a re-export of the same rows gives the
same file, and a diff of it reads like a diff of the results.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..records import COLUMNS

#: what a card needs; artifact hashes, cache keys and host details stay in the store
KEPT = ("run_id", "model", "target", "vendor", "stage", "stage_kind", "component", "variant", "metric", "value",
        "unit", "method", "tool", "tool_version", "status", "reason", "cached", "weights", "classes", "resolution",
        "dataset", "n_images", "samples", "host_cpu", "extra")


def _key(r: dict[str, Any]) -> tuple:
    return (r["model"], r["target"], r["stage"], r["metric"], r["variant"], r.get("extra") or "")


def save_rows(rows: list[dict[str, Any]], path: Path) -> None:
    """Write ``rows`` (dicts of the results schema) as sorted JSON lines with the columns cards use."""
    lines = [json.dumps({k: r.get(k) for k in KEPT}, sort_keys=True, default=str) for r in sorted(rows, key=_key)]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(line + "\n" for line in lines))
    except OSError as exc:
        raise UsageError(f"cannot write rows to {path}: {exc.strerror or exc}") from None


def load_rows(path: Path) -> list[dict[str, Any]]:
    """Rows from a file written by :func:`save_rows`; a line that is not such a row is a usage error."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise UsageError(f"cannot read rows file {path}: {exc.strerror or exc}") from None
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            raise UsageError(f"{path}:{number}: not a JSON row") from None
        if not isinstance(row, dict) or any(k not in row for k in ("model", "target", "stage", "metric", "status")):
            raise UsageError(f"{path}:{number}: not a zoo-bench row (needs model, target, stage, metric, status)")
        rows.append({**{k: None for k in COLUMNS}, "extra": "{}", "reason": "", "dataset": "", **row})
    if not rows:
        raise UsageError(f"rows file {path} holds no rows")
    return rows
