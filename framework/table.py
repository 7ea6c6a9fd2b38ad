"""Plain-text tables for the terminal (no dependency, right-aligned numbers).

Text in a cell comes from a results store someone else may have written (model names, failure
reasons): control and format characters (bidirectional overrides such as U+202E, escape
sequences, zero-width characters, line breaks) are shown as ``\\uXXXX`` escapes
(:func:`terminal_safe`), so a name cannot reorder, hide or recolour what the table shows.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from typing import Any

#: Unicode categories never printed raw: controls, format (bidi, zero-width), separators of
#: lines and paragraphs, surrogates, private use, unassigned.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def terminal_safe(text: str) -> str:
    """``text`` with every control or format character replaced by a visible escape."""
    if text.isascii() and text.isprintable():
        return text
    out = []
    for ch in text:
        if unicodedata.category(ch) in _UNSAFE_CATEGORIES:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)


def fmt_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if not math.isfinite(value):  # NaN or infinite: not a figure (the store refuses them)
            return ""
        if value == int(value) and abs(value) >= 1000:
            return f"{int(value):,}"
        return f"{value:.4g}" if abs(value) < 1000 else f"{value:,.1f}"
    return terminal_safe(str(value))


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], max_width: int = 70) -> str:
    cells = [[fmt_value(v) for v in row] for row in rows]
    cells = [[c if len(c) <= max_width else c[: max_width - 3] + "..." for c in row] for row in cells]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    numeric = [all(_is_number(r[i]) for r in rows if r[i] not in (None, "")) and rows for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        parts = [c.rjust(w) if numeric[i] else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        return "  ".join(parts).rstrip()

    headers = [terminal_safe(str(h)) for h in headers]
    widths = [max(w, len(h)) for w, h in zip(widths, headers, strict=True)]
    out = [line(list(headers)), line(["-" * w for w in widths])]
    out += [line(r) for r in cells]
    return "\n".join(out)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
