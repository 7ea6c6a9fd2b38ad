"""Escaping for what the reports write: JSON inside an HTML ``<script>``, and text inside markdown cells.

Every string that comes from a results store (model names, failure reasons, tool strings) is
untrusted: a store may be someone else's. Both helpers are the one place their output kind is
escaped, so a new table or script block cannot forget a case.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: Characters that could end or confuse a <script> element or a JS string when JSON is inlined.
_SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def script_json(value: Any) -> str:
    """``value`` as JSON that is safe inside ``<script>...</script>``.

    ``<``, ``>`` and ``&`` become ``\\u003c``-style escapes (so ``</script>`` and ``<!--`` cannot
    appear), and U+2028/U+2029 are escaped for older JavaScript parsers. Non-finite numbers
    become ``null`` (JSON has none).
    """
    text = json.dumps(_finite(value), default=str, ensure_ascii=False, allow_nan=False)
    return re.sub("[<>&\u2028\u2029]", lambda m: _SCRIPT_ESCAPES[m.group(0)], text)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and value != value or value in (float("inf"), float("-inf")):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


#: Markdown's inline syntax characters that can start markup in a table cell: backslash, code, emphasis,
#: links and images (``[``, ``]``, ``!``), raw HTML (``<``, ``>``), strike-through and the cell separator.
#: An underscore inside a word cannot start emphasis (CommonMark), so only one at a word's edge is escaped.
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>!|~])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
#: Controls and bidirectional overrides that reorder or hide text.
_INVISIBLE = re.compile("[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069\u200e\u200f]")


def md_text(value: Any) -> str:
    """Untrusted text (a model name, a reason) as literal markdown: no link, emphasis, HTML or table break.

    Markup characters are backslash-escaped, ``&`` becomes ``&amp;`` (so no entity is formed),
    newlines become spaces, and control and bidirectional-override characters are dropped.
    """
    text = _INVISIBLE.sub(lambda m: " " if m.group(0) in "\n\r\t" else "", str(value))
    text = text.replace("&", "&amp;")
    return _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), text)


def md_code(value: Any) -> str:
    """Untrusted text as an inline code span (backticks inside cannot end it; ``|`` cannot split a table cell:
    GitHub's table syntax takes ``\\|`` as a pipe even inside a code span)."""
    text = _INVISIBLE.sub(lambda m: " " if m.group(0) in "\n\r\t" else "", str(value))
    ticks = "`" * (max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text.replace('|', chr(92) + '|')}{pad}{ticks}"
