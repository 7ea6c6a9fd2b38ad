"""Content-addressed cache of stage outputs.

A stage's key is the sha256 of everything its output depends on (built in ``execute.py``):
stage kind, component, the plugin that provides it (distribution and version), zoo-bench's
version, tool versions, options (with the content of every path they name), the content of
every file the component declares as an input, the model spec, the sha256 of every input
artifact, and the host for components whose output is a measurement of this machine.

An entry is a directory ``<root>/<key[:2]>/<key>/`` holding the stage's files and
``result.json``; it is built in ``<root>/tmp/`` and renamed into place, so a reader never sees
half an entry, and a kill -9 leaves at most a stale staging folder (removed by the next run
once it is old and unlocked). A per-key file lock makes two jobs that need the same stage wait
for one another instead of doing it twice.

The root carries a marker file (:data:`MARKER`, with the format version): ``cache clear``
deletes nothing in a directory without it, and a run refuses to fill a non-empty directory
that is not a cache. What the cache serves is checked first: ``result.json`` against its
schema and every artifact file against its recorded sha256; an entry that fails is evicted
(see docs/security.md, "Cache").
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import stat
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .components import file_sha256
from .errors import UsageError
from .safe_io import UnsafeFile, load_json, open_regular, write_bytes
from .serialize import validate_stored_result

RESULT_FILE = "result.json"
MARKER = "ZOO_BENCH_CACHE.json"
#: Bump to invalidate every entry when the entry layout or the key's payload changes meaning.
CACHE_FORMAT = 2
#: A staging folder older than this and not locked by a live run is a leftover (kill -9).
STALE_STAGING_S = 3600.0
_KEY_DIR = re.compile(r"^[0-9a-f]{2}$")
_STAGING = re.compile(r"^(?:old-|evicted-)?([0-9a-f]{64})-")


def default_cache_dir() -> Path:
    env = os.environ.get("ZOO_BENCH_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "zoo-bench"


# --- content hashes (memoised per process by the file's identity) ---------------------------
_HASHES: dict[tuple[str, int, int, int, int, int], str] = {}


def file_digest(path: Path) -> str:
    """sha256 of a file's content, memoised by (path, inode, size, mtime, ctime).

    ``ctime`` cannot be set by a user, so a file replaced or rewritten in place gets a new
    identity and is hashed again; an unchanged file is hashed once per process.
    """
    st = path.stat()
    if not stat.S_ISREG(st.st_mode):  # a pipe or a device in an entry would block the read forever
        raise UnsafeFile(errno.EINVAL, "not a regular file", str(path))
    ident = (str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    digest = _HASHES.get(ident)
    if digest is None:
        digest = _HASHES[ident] = file_sha256(path)
    return digest


def content_hash(path: Path) -> str | None:
    """sha256 of a file's content, or of a folder's (relative names and file hashes);
    ``None`` when the path does not exist."""
    if path.is_file():
        return file_digest(path)
    if not path.is_dir():
        return None
    h = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        if p.is_file():
            h.update(f"{p.relative_to(path)}\0{file_digest(p)}\n".encode())
    return h.hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, Path):
        return {"path": str(value), "sha256": content_hash(value)}
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def cache_key(payload: dict[str, Any]) -> str:
    """sha256 of ``payload``; :class:`~pathlib.Path` values enter by the content they name."""
    blob = json.dumps(_canonical(payload), sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def files_sha256(entry: Path, paths: list[Path]) -> dict[str, str]:
    """``{path relative to entry: sha256}`` of an artifact's files, recorded at commit."""
    return {str(p.resolve().relative_to(entry.resolve())): file_digest(p) for p in paths}


class ArtifactCache:
    """The cache directory. Creating the object touches nothing on disk: :meth:`open`
    makes (or adopts) the directory for a run, and the read-only methods never create folders."""

    def __init__(self, root: Path, warn: Callable[[str], None] | None = None):
        self.root = Path(root)
        self.warn = warn or (lambda text: None)
        #: the metric registry figures served from here are checked against (None: the default)
        self.metrics: Any = None

    # --- what the directory is ----------------------------------------------------------
    def marker_format(self) -> int | None:
        """The format recorded in the root's marker, or ``None`` without a valid marker."""
        try:
            data = load_json(self.root / MARKER, 1 << 16, nofollow=True)
        except (OSError, ValueError):
            return None
        fmt = data.get("format") if isinstance(data, dict) else None
        return fmt if isinstance(fmt, int) and not isinstance(fmt, bool) else None

    def is_cache(self) -> bool:
        return self.marker_format() is not None

    def _is_unmarked_cache(self) -> bool:
        """A cache written before the marker existed: only ``tmp``, ``locks`` and key folders."""
        names = [p.name for p in self.root.iterdir()]
        return bool(names) and all(n in ("tmp", "locks") or _KEY_DIR.match(n) for n in names)

    def open(self) -> ArtifactCache:
        """Make the directory usable by a run: a missing or empty directory becomes a cache,
        a directory that is neither empty nor a cache is refused (:class:`UsageError`)."""
        fmt = self.marker_format()
        if fmt is not None and fmt > CACHE_FORMAT:
            raise UsageError(f"cache {self.root} has format {fmt}, newer than this zoo-bench reads "
                             f"({CACHE_FORMAT}): upgrade zoo-bench or use another --cache-dir")
        if fmt is None and self.root.is_dir() and any(self.root.iterdir()) and not self._is_unmarked_cache():
            raise UsageError(f"{self.root} is not empty and not a zoo-bench cache (no {MARKER}): "
                             "give an empty or new folder with --cache-dir or ZOO_BENCH_CACHE")
        if self.root.exists() and not self.root.is_dir():
            raise UsageError(f"cache directory {self.root} is a file")
        try:
            (self.root / "tmp").mkdir(parents=True, exist_ok=True)
            (self.root / "locks").mkdir(parents=True, exist_ok=True)
            if fmt != CACHE_FORMAT:  # written beside and renamed: never through a planted link
                write_bytes(self.root / MARKER, (json.dumps({
                    "format": CACHE_FORMAT,
                    "what": "zoo-bench artifact cache; `zoo-bench cache clear` empties it"}) + "\n").encode())
        except OSError as exc:
            raise UsageError(f"cannot use {self.root} as the cache: {exc.strerror or exc}") from None
        return self

    def entry_dir(self, key: str) -> Path:
        return self.root / key[:2] / key

    # --- reading ----------------------------------------------------------------------------
    def lookup(self, key: str) -> dict[str, Any] | None:
        """The stored result of a stage (with ``entry`` = its directory), or ``None``.

        An entry whose ``result.json`` is unreadable or of the wrong shape, or whose artifact
        files no longer match their recorded sha256, is evicted with a warning: a miss.
        """
        entry = self.entry_dir(key)
        try:  # a named pipe, a link, a huge, non-UTF-8 or deeply nested file: a miss, never a hang
            result = load_json(entry / RESULT_FILE, nofollow=True)
        except FileNotFoundError:
            return None
        except OSError as exc:
            return self._reject(key, f"unreadable result.json ({exc.strerror or exc})")
        except ValueError as exc:
            return self._reject(key, f"result.json is not JSON ({exc})")
        problem = validate_stored_result(result, self.metrics) or self.verify(entry, result)
        if problem:
            return self._reject(key, problem)
        result["entry"] = str(entry)
        return result

    def verify(self, entry: Path, result: dict[str, Any]) -> str | None:
        """``None`` when every recorded artifact file has its recorded sha256, else what differs."""
        for rel, expected in result.get("files_sha256", {}).items():
            path = entry / rel
            try:
                resolved = path.resolve()
                if not resolved.is_relative_to(entry.resolve()):
                    return f"artifact file {rel!r} is outside its entry"
                actual = file_digest(resolved)
            except OSError:
                return f"artifact file {rel} is missing"
            if actual != expected:
                return f"artifact file {rel} does not match its recorded sha256 (changed on disk)"
        return None

    def _reject(self, key: str, problem: str) -> None:
        self.warn(f"cache entry {key[:12]} ({self.entry_dir(key)}) is invalid: {problem}; evicted, recomputing")
        self.evict(key)
        return None

    def evict(self, key: str) -> None:
        """Remove an entry (renamed away first, so no reader sees half of it)."""
        entry = self.entry_dir(key)
        if not entry.exists():
            return
        trash = self.root / "tmp" / f"evicted-{key}-{uuid.uuid4().hex[:8]}"
        try:
            os.replace(entry, trash)
        except OSError:
            trash = entry
        shutil.rmtree(trash, ignore_errors=True)

    # --- writing ----------------------------------------------------------------------------
    def _lock_fd(self, key: str) -> int:
        """The key's lock file, opened read-only (a lock needs no write, so nothing is ever
        truncated or written through it) and never through a link: a planted link, pipe or
        device in ``locks/`` is moved out of the way once, with a warning."""
        path = self.root / "locks" / f"{key}.lock"
        try:
            return open_regular(path, os.O_RDONLY | os.O_CREAT, 0o644, nofollow=True)
        except UnsafeFile as exc:
            self.warn(f"cache lock {path} is {exc.strerror}: replaced")
            trash = self.root / "tmp" / f"badlock-{key}-{uuid.uuid4().hex[:8]}"
            os.replace(path, trash)  # renames the link itself, never what it points to
            try:
                os.unlink(trash)
            except IsADirectoryError:
                shutil.rmtree(trash, ignore_errors=True)
            return open_regular(path, os.O_RDONLY | os.O_CREAT, 0o644, nofollow=True)

    @contextmanager
    def lock(self, key: str, cancelled: Any = None) -> Iterator[bool]:
        """Hold the key's lock; yields ``True``, or ``False`` when ``cancelled`` (a
        ``threading.Event``) was set while waiting for another run to release it (so SIGTERM
        and Ctrl-C are honoured while a run waits on another run's lock)."""
        fd = self._lock_fd(key)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | (fcntl.LOCK_NB if cancelled is not None else 0))
                    break
                except BlockingIOError:
                    if cancelled.is_set():
                        yield False
                        return
                    cancelled.wait(0.1)
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

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

    # --- staging leftovers ------------------------------------------------------------------
    def _locked(self, key: str) -> bool:
        """Whether a live process holds the key's lock (it is then building that staging folder)."""
        try:
            fd = open_regular(self.root / "locks" / f"{key}.lock", os.O_RDONLY, nofollow=True)
        except FileNotFoundError:
            return False
        except OSError:  # a planted non-file: nobody holds a lock on it
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                return True
            raise
        finally:
            os.close(fd)  # closing also drops the probe's own lock
        return False

    def stale_staging(self, max_age_s: float = STALE_STAGING_S) -> list[Path]:
        """Staging folders left by dead runs: older than ``max_age_s`` and not locked."""
        tmp = self.root / "tmp"
        if not tmp.is_dir():
            return []
        now = time.time()
        stale = []
        for path in tmp.iterdir():
            try:
                age = now - path.lstat().st_mtime
            except FileNotFoundError:
                continue
            match = _STAGING.match(path.name)
            if age > max_age_s and not (match and self._locked(match.group(1))):
                stale.append(path)
        return stale

    def clean_staging(self, max_age_s: float = STALE_STAGING_S) -> int:
        """Remove leftover staging folders; returns how many."""
        stale = self.stale_staging(max_age_s)
        for path in stale:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        return len(stale)

    # --- info and clear ----------------------------------------------------------------------
    def entries(self) -> list[Path]:
        return [p for p in self.root.glob("??/*") if _KEY_DIR.match(p.parent.name) and p.is_dir()]

    def size_bytes(self, under: Path | None = None) -> int:
        base = under or self.root
        return sum(p.lstat().st_size for p in base.rglob("*") if p.is_file() and not p.is_symlink())

    def clear(self) -> int:
        """Delete every entry, staging folder and lock, keeping the marker; returns how many
        entries went. Only a marked cache is touched, and only the cache's own folders."""
        if not self.is_cache():
            raise UsageError(f"{self.root} is not a zoo-bench cache (no {MARKER}): not deleting anything")
        count = len(self.entries())
        for path in self.root.iterdir():
            if not path.is_dir() or path.is_symlink():
                continue
            if path.name == "tmp":  # a running stage's working folder stays (its key is locked)
                for child in path.iterdir():
                    match = _STAGING.match(child.name)
                    if not (match and self._locked(match.group(1))):
                        _remove(child)
            elif path.name == "locks":  # a held lock stays, so that runs still exclude each other
                for child in path.iterdir():
                    if not (child.name.endswith(".lock") and self._locked(child.name[:-5])):
                        _remove(child)
            elif _KEY_DIR.match(path.name):
                shutil.rmtree(path, ignore_errors=True)
        (self.root / "tmp").mkdir(exist_ok=True)
        (self.root / "locks").mkdir(exist_ok=True)
        return count


def _remove(path: Path) -> None:
    """Delete a file, link or folder (a link itself, never what it points to)."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass
