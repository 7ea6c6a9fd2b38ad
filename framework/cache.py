"""Content-addressed cache of stage outputs.

A stage's key is the sha256 of everything its output depends on: stage kind, component,
tool versions, options, the model spec (for a source stage), the sha256 of every input
artifact, and the host (for components whose output is a measurement of this machine).
An entry is a directory ``<root>/<key[:2]>/<key>/`` holding the stage's files and
``result.json``; it is built in ``<root>/tmp/`` and renamed into place, so a reader never sees
half an entry, and a kill -9 leaves at most a stale temporary directory. A per-key file lock
makes two jobs that need the same stage wait for one another instead of doing it twice.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

RESULT_FILE = "result.json"


def default_cache_dir() -> Path:
    env = os.environ.get("ZOO_BENCH_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "zoo-bench"


def fingerprint_path(path: Path) -> str:
    """Cheap identity of a file or directory tree (names, sizes, mtimes) for cache keys."""
    h = hashlib.sha256()
    if path.is_file():
        st = path.stat()
        h.update(f"{path.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    else:
        for p in sorted(path.rglob("*")):
            if p.is_file():
                st = p.stat()
                h.update(f"{p.relative_to(path)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, Path):
        return {"path": str(value), "fingerprint": fingerprint_path(value) if value.exists() else None}
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def cache_key(payload: dict[str, Any]) -> str:
    blob = json.dumps(_canonical(payload), sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


class ArtifactCache:
    def __init__(self, root: Path):
        self.root = Path(root)
        (self.root / "tmp").mkdir(parents=True, exist_ok=True)
        (self.root / "locks").mkdir(parents=True, exist_ok=True)

    def entry_dir(self, key: str) -> Path:
        return self.root / key[:2] / key

    def lookup(self, key: str) -> dict[str, Any] | None:
        """The stored result of a stage (with ``entry`` = its directory), or ``None``."""
        entry = self.entry_dir(key)
        try:
            result = json.loads((entry / RESULT_FILE).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        result["entry"] = str(entry)
        return result

    @contextmanager
    def lock(self, key: str) -> Iterator[None]:
        with open(self.root / "locks" / f"{key}.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def staging(self, key: str) -> Path:
        path = self.root / "tmp" / f"{key}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        path.mkdir(parents=True)
        return path

    def commit(self, key: str, staging: Path) -> Path:
        """Move a finished staging directory into place (atomic rename)."""
        final = self.entry_dir(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():  # forced re-run: replace the old entry
            trash = self.root / "tmp" / f"old-{key}-{uuid.uuid4().hex[:8]}"
            os.replace(final, trash)
            shutil.rmtree(trash, ignore_errors=True)
        os.replace(staging, final)
        return final

    def discard(self, staging: Path) -> None:
        shutil.rmtree(staging, ignore_errors=True)

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file())

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        self.__init__(self.root)
