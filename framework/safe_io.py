"""Opening files that someone else may have planted: one helper for every reader and writer.

A results store, a cache and the device-claim folder may be shared, copied or tampered with, so
a name in them may be a named pipe (an ``open`` that never returns), a device, a huge file, or
a symbolic link to a file of the user's (a write through it truncates that file). Every file
zoo-bench reads from or writes into such a folder goes through :func:`open_regular`:

- ``O_NONBLOCK`` on open, so a FIFO or a device cannot block the ``open`` itself, then an
  ``fstat`` check that the descriptor is a regular file (the check is on what was opened,
  not on the name, so a swap between check and open changes nothing);
- ``O_NOFOLLOW`` where the folder is shared (the cache, the device claims): a planted link is
  refused (``ELOOP``), never followed;
- optionally, the owner: a file in a per-user folder must belong to this user;
- a size cap for whole-file reads (:func:`read_bytes`), and :func:`load_json` with a nesting
  limit (a deeply nested document is refused, not a ``RecursionError``).

Every refusal is an :class:`UnsafeFile` (an ``OSError``), so callers that already treat an
unreadable file as "skip it with a warning" or "a cache miss" need nothing new.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path
from typing import Any

#: Cap of a JSON file read whole (run.json, result.json, request.json, markers).
JSON_MAX_BYTES = 16 * 1024 * 1024
#: Deepest nesting of a JSON document zoo-bench accepts (its own files nest 4-5 levels).
JSON_MAX_DEPTH = 64


class UnsafeFile(OSError):
    """A path that is not a regular file (a FIFO, a device, a folder, a link where none may
    be), too large, or owned by someone else."""


def _describe(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def open_regular(path: str | os.PathLike, flags: int = os.O_RDONLY, mode: int = 0o600, *,
                 nofollow: bool = False, owner: int | None = None) -> int:
    """An fd of ``path`` opened with ``flags``, refused unless it is a regular file.

    ``nofollow``: refuse a symbolic link as the last component (for shared folders).
    ``owner``: refuse a file whose owner is not this uid. Never ``O_TRUNC`` through a name you
    have not checked: pass ``O_TRUNC`` only together with ``nofollow``.
    """
    extra = os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | (getattr(os, "O_NOFOLLOW", 0) if nofollow else 0)
    try:
        fd = os.open(path, flags | extra, mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP and nofollow:
            raise UnsafeFile(errno.ELOOP, "a symbolic link where zoo-bench does not follow links", str(path)) from None
        if exc.errno == errno.ENXIO:  # a FIFO opened for writing without a reader
            raise UnsafeFile(errno.ENXIO, "a named pipe, not a regular file", str(path)) from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeFile(errno.EINVAL, f"{_describe(st.st_mode)}, not a regular file", str(path))
        if owner is not None and st.st_uid != owner:
            raise UnsafeFile(errno.EPERM, f"owned by uid {st.st_uid}, not by this user ({owner})", str(path))
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_bytes(path: str | os.PathLike, max_bytes: int = JSON_MAX_BYTES, *, nofollow: bool = False,
               owner: int | None = None) -> bytes:
    """The whole content of a regular file of at most ``max_bytes`` (else :class:`UnsafeFile`)."""
    fd = open_regular(path, os.O_RDONLY, nofollow=nofollow, owner=owner)
    try:
        size = os.fstat(fd).st_size
        if size > max_bytes:
            raise UnsafeFile(errno.EFBIG, f"{size} bytes, more than the {max_bytes} zoo-bench reads", str(path))
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > max_bytes:  # grew while being read
                raise UnsafeFile(errno.EFBIG, f"more than the {max_bytes} bytes zoo-bench reads", str(path))
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def open_binary(path: str | os.PathLike, *, nofollow: bool = False):
    """A read-only binary file object of a regular file (for pyarrow and other readers)."""
    return os.fdopen(open_regular(path, os.O_RDONLY, nofollow=nofollow), "rb")


def check_depth(value: Any, limit: int = JSON_MAX_DEPTH) -> None:
    """Raise ``ValueError`` when ``value`` (parsed JSON) nests deeper than ``limit``."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                raise ValueError(f"nested deeper than {limit} levels")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


def parse_json(data: bytes | str, max_depth: int = JSON_MAX_DEPTH) -> Any:
    """JSON text (UTF-8) as Python values; ``ValueError`` for anything else, including text
    that is not UTF-8 and documents nested deeper than ``max_depth``."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value = json.loads(text)
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except RecursionError:
        raise ValueError(f"nested deeper than {max_depth} levels") from None
    check_depth(value, max_depth)
    return value


def load_json(path: str | os.PathLike, max_bytes: int = JSON_MAX_BYTES, *, nofollow: bool = False,
              owner: int | None = None) -> Any:
    """A JSON file read with :func:`read_bytes` and parsed with :func:`parse_json`; an unsafe
    file is an :class:`UnsafeFile` (``OSError``), bad content a ``ValueError``."""
    return parse_json(read_bytes(path, max_bytes, nofollow=nofollow, owner=owner))


def write_bytes(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to a fresh file beside ``path`` (``O_EXCL|O_NOFOLLOW``) and rename it into
    place: nothing is ever written through a link, and a reader sees the old or the new file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                 | getattr(os, "O_CLOEXEC", 0), mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def check_private_dir(path: Path, uid: int | None = None) -> str | None:
    """Why ``path`` is not a folder of this user's that only they can write (``None`` when it
    is): a per-user folder in a shared place (``/tmp``) may have been made by someone else."""
    uid = os.getuid() if uid is None else uid
    try:
        st = os.lstat(path)
    except OSError as exc:
        return exc.strerror or str(exc)
    if stat.S_ISLNK(st.st_mode):
        return "it is a symbolic link"
    if not stat.S_ISDIR(st.st_mode):
        return "it is not a folder"
    if st.st_uid != uid:
        return f"it is owned by uid {st.st_uid}, not by this user ({uid})"
    if st.st_mode & 0o022:
        return f"others can write to it (mode {stat.S_IMODE(st.st_mode):o})"
    return None
