"""What the command modules share: the registry with its load warnings, option parsing."""

from __future__ import annotations

import math
from typing import Any

import click

from ..errors import UsageError

DEFAULT_MODEL = "mobilenet_v2_0.35_128"
DEFAULT_TARGET = "cpu"


def _registry():
    from ..plugins import get_registry

    registry = get_registry()
    for err in registry.errors:
        click.echo(f"zoo-bench: warning: {err}", err=True)
    return registry


def _parse_kv(values: tuple[str, ...]) -> dict[str, str]:
    """``-s KEY=VALUE`` items as raw strings: the declaring components' options type them."""
    out: dict[str, str] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"option {item!r} is not KEY=VALUE")
        out[key.strip()] = raw
    return out


def _timeout(ctx: click.Context, param: click.Parameter, value: str) -> float:
    """Seconds per stage: a finite number >= 1 (nan or inf would turn the timeout off)."""
    try:
        seconds = float(value)
    except ValueError:
        raise UsageError(f"--timeout {value!r}: expected a number of seconds") from None
    if not math.isfinite(seconds) or seconds < 1:
        raise UsageError(f"--timeout {value!r}: expected a finite number of seconds >= 1")
    return seconds


def _joined(value: Any) -> str:
    """A manifest's list of names as text (a shared store may hold a run.json of another shape)."""
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)


def _one_line(text: str) -> str:
    """A message on one line (a path or tool output may hold newlines)."""
    return " | ".join(line.strip() for line in text.strip().splitlines() if line.strip())
