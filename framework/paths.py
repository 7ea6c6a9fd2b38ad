"""Checks of the folders zoo-bench writes to (``-o``, ``--cache-dir``, ``--cards-dir``) and paths in messages.

A folder that is a file, sits under a file, is read-only, is on a full disk or has a name too
long fails :func:`ensure_writable_dir` before any stage runs: one line, exit 2.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import UsageError


def ensure_writable_dir(path: Path, flag: str, shown: Path | None = None) -> None:
    """Make ``path`` (and parents) if missing and check a file can be created in it, else raise
    :class:`UsageError` naming ``flag`` and ``shown`` (default ``path``): a file in the way, a
    read-only folder or file system, a full disk or a name too long all fail here, before any
    stage runs, instead of as a traceback later."""
    shown = shown or path
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".zoo-bench-probe-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise UsageError(f"cannot write to {short_path(shown)} ({flag}): {path_error(exc, shown)}") from None


def path_error(exc: OSError, path: Path) -> str:
    """Why ``path`` could not be used, in words (a file in the way is named as such)."""
    try:
        if path.exists() and not path.is_dir():
            return "it is a file, not a folder"
    except OSError:
        pass
    return exc.strerror or str(exc)


def short_path(path: Path, limit: int = 120) -> str:
    """A path for a one-line message: a 5,000-character path is cut in the middle."""
    text = str(path)
    return text if len(text) <= limit else f"{text[:limit // 2]}...{text[-limit // 2:]}"
