"""The board inventory: ``boards.toml``, the boards zoo-bench can reach over SSH.

One table per board, keyed by its id (docs/boards.md has the full reference)::

    [boards.imx93-evk]
    target = "imx93"                 # the zoo-bench target it is an instance of
    host = "192.168.1.50"
    user = "root"
    key_file = "~/.ssh/id_ed25519"   # key authentication only: passwords are refused
    bsp = "LF6.6.23_2.0.0"
    benchmark_model = "/usr/bin/tensorflow-lite-2.16.2/examples/benchmark_model"
    delegates = { ethosu = "/usr/lib/libethosu_delegate.so" }

The file is found from the run option ``boards`` (``--boards``), else ``$ZOO_BENCH_BOARDS``,
else the user's ``~/.config/zoo-bench/boards.toml`` (``$XDG_CONFIG_HOME``). A ``boards.toml`` in
the current directory is never read unless named: a cloned repository must not pick the boards
(and ssh settings) of a run. Its ssh settings are checked against an allow-list
(:mod:`.ssh_options`). What a result row may carry about a board is :meth:`Board.public_facts`:
its id, target and BSP, never the host, user or key (the runtime is the runner's to say: it
knows which tool it ran).

Besides the keys of :class:`Board`, a board runner declares the keys its boards take as typed
options (``SshBoardRunner.board_keys``, e.g. where its board tool lives); they are validated
here like the core's and read with :meth:`Board.setting`. An unknown key is refused in one
line naming the closest known ones.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ToolUnavailable, UsageError
from ..options import Option
from .dead_boards import DeadBoards
from .ssh import HOST_KEY_POLICIES, MAX_RETRIES, SshTransport
from .ssh_options import check_port, check_proxy_jump, check_retries, check_seconds, parse_ssh_options

BOARDS_ENV = "ZOO_BENCH_BOARDS"
DEFAULT_BOARDS_FILE = "boards.toml"
RUNTIMES = ("auto", "benchmark_model", "python")
#: Keys that would hold a secret: refused, so that no password ever sits in the file.
SECRET_KEYS = ("password", "passphrase", "pass", "secret")


@dataclass(frozen=True)
class Board:
    """One board of the inventory (see the module docstring and docs/boards.md)."""

    id: str
    target: str
    host: str
    user: str | None = None
    port: int = 22
    key_file: Path | None = None
    bsp: str = ""
    workdir: str = "/tmp/zoo-bench"
    python: str = "python3"
    benchmark_model: str | None = None
    runtime: str = "auto"
    delegates: tuple[tuple[str, str], ...] = ()
    host_key_checking: str = "yes"
    known_hosts: Path | None = None
    ssh_config: str | None = None
    ssh_options: tuple[str, ...] = ()
    proxy_jump: str | None = None
    connect_timeout_s: float = 10.0
    retries: int = 2
    description: str = ""
    #: Values of the keys board runners declare (``SshBoardRunner.board_keys``), typed.
    settings: tuple[tuple[str, Any], ...] = ()
    source: Path | None = field(default=None, compare=False)

    def setting(self, name: str) -> Any:
        """The value of a plugin-declared key on this board, else its declared default."""
        values = dict(self.settings)
        if name in values:
            return values[name]
        declared = declared_board_keys().get(name)
        if declared is None:
            raise KeyError(f"no board runner declares the boards.toml key {name!r}")
        return declared[0][1].default

    def delegate_path(self, name: str, default: str | None = None) -> str | None:
        """Library path of the delegate ``name`` (e.g. ``ethosu``) on this board."""
        return dict(self.delegates).get(name, default)

    def resolved_runtime(self) -> str:
        """``benchmark_model`` when the board names the tool, else its Python runtime."""
        if self.runtime != "auto":
            return self.runtime
        return "benchmark_model" if self.benchmark_model else "python"

    def transport(self, retries: int | None = None, remember: bool = True) -> SshTransport:
        """The SSH transport to this board; with ``remember`` it shares the run's memory of
        boards given up on (:mod:`.dead_boards`)."""
        return SshTransport(
            host=self.host, user=self.user, port=self.port, key_file=self.key_file,
            host_key_checking=self.host_key_checking, known_hosts=self.known_hosts,
            ssh_config=self.ssh_config, connect_timeout_s=self.connect_timeout_s,
            retries=self.retries if retries is None else retries, extra_options=self.ssh_options,
            proxy_jump=self.proxy_jump, label=f"board {self.id}",
            dead_boards=DeadBoards.for_this_run() if remember else None,
        )

    def public_facts(self) -> dict[str, Any]:
        """What results may record about the board: no host, user, port or key."""
        facts: dict[str, Any] = {"board": self.id, "target": self.target}
        if self.bsp:
            facts["bsp"] = self.bsp
        return facts


#: Largest boards file read (a few boards take a few KiB).
BOARDS_MAX_BYTES = 1 << 20


#: Keys of :class:`Board` itself (what every SSH board has).
CORE_KEYS = frozenset(f for f in Board.__dataclass_fields__ if f not in ("id", "source", "settings"))


def declared_board_keys() -> dict[str, list[tuple[str, Option]]]:
    """Keys board runners declare (``board_keys`` of every loaded ``SshBoardRunner`` subclass):
    key -> ``[(runner name, Option), ...]``."""
    from .session import SshBoardRunner

    found: dict[str, list[tuple[str, Option]]] = {}
    todo = list(SshBoardRunner.__subclasses__())
    seen: set[type] = set()
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        todo += cls.__subclasses__()
        for key, decl in (cls.__dict__.get("board_keys") or {}).items():
            found.setdefault(key, []).append((cls.name or cls.__name__, decl))
    return found


def _unknown_key(where: str, key: str, known: set[str]) -> UsageError:
    close = difflib.get_close_matches(key, sorted(known), n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(close)}?" if close else f"known: {', '.join(sorted(known))}"
    return UsageError(f"{where}: unknown key {key!r} ({hint}; a board runner declares its own keys, "
                      "see docs/boards.md)")


#: The TOML value types each option type takes in boards.toml (a file, not a command line: no
#: string "3" for an int).
_TOML_TYPES: dict[str, type | tuple[type, ...]] = {
    "int": int, "float": (int, float), "bool": bool, "str": str, "path": str, "choice": str}


def _plugin_settings(table: dict[str, Any], declared: dict[str, list[tuple[str, Option]]],
                     where: str) -> tuple[tuple[str, Any], ...]:
    """The plugin-declared keys of a board table, parsed by every runner that declares them."""
    values = []
    for key in sorted(set(table) & set(declared)):
        parsed = None
        for owner, decl in declared[key]:
            wanted = _TOML_TYPES[decl.type]
            value = table[key]
            if not isinstance(value, wanted) or (isinstance(value, bool) and decl.type != "bool"):
                raise UsageError(f"{where}: {key} (declared by {owner}) must be a {decl.type}, "
                                 f"not {type(value).__name__}")
            try:
                parsed = decl.parse(key, table[key])
            except UsageError as exc:
                raise UsageError(f"{where}: {key} (declared by {owner}): {exc}") from None
        values.append((key, parsed))
    return tuple(values)


def user_boards_file() -> Path:
    """``$XDG_CONFIG_HOME/zoo-bench/boards.toml`` (``~/.config/...`` when unset)."""
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config).expanduser() / "zoo-bench" / DEFAULT_BOARDS_FILE


def boards_file(options: Mapping[str, Any] | None = None) -> Path:
    """Where the inventory is: option ``boards``, else ``$ZOO_BENCH_BOARDS``, else the user's
    config file (:func:`user_boards_file`). Never ``./boards.toml`` unless it is named."""
    value = (options or {}).get("boards") or os.environ.get(BOARDS_ENV)
    return _expand(Path(str(value)), "--boards") if value else user_boards_file()


def _not_found(path: Path) -> str:
    hint = ""
    if Path(DEFAULT_BOARDS_FILE).is_file() and Path(DEFAULT_BOARDS_FILE).resolve() != path.resolve():
        hint = (f"; ./{DEFAULT_BOARDS_FILE} is not read unless named (it may come with a cloned repository): "
                f"pass --boards {DEFAULT_BOARDS_FILE} to use it")
    return (f"boards file {path} not found (give --boards PATH, set ${BOARDS_ENV} or write "
            f"{user_boards_file()}; see docs/boards.md){hint}")


def _expand(path: Path, what: str) -> Path:
    """``~`` and ``~user`` expanded; an unknown user is a :class:`UsageError`, not a traceback."""
    try:
        return path.expanduser()
    except RuntimeError:
        raise UsageError(f"{what}: {path} names a home folder that does not exist") from None


def _path(value: Any, base: Path, key: str, where: str) -> Path:
    if not isinstance(value, str) or not value or "\x00" in value:
        raise UsageError(f"{where}: {key} must be a path string")
    path = _expand(Path(value), f"{where}: {key}")
    return path if path.is_absolute() else (base / path)


def _check_ssh_settings(data: dict[str, Any], where: str) -> None:
    """Bounds and the ssh allow-list; raises UsageError naming the key (values are not secret)."""
    options = data.get("ssh_options", [])
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
        raise UsageError(f"{where}: ssh_options must be a list of \"Key=value\" strings")
    config = data.get("ssh_config")
    if config is not None and config != "none":
        # an ssh config file can run commands (ProxyCommand, Match exec): the user's own
        # ~/.ssh/config is used when the key is absent; no other file is taken from here
        raise UsageError(f"{where}: ssh_config may only be \"none\" (ignore ssh config files); leave it out "
                         "to use your own ~/.ssh/config (see docs/boards.md, Security)")
    checks = (
        ("ssh_options", lambda v: parse_ssh_options(v)),
        ("proxy_jump", check_proxy_jump),
        ("port", check_port),
        ("retries", lambda v: check_retries(v, MAX_RETRIES)),
        ("connect_timeout_s", lambda v: check_seconds(v, "connect_timeout_s")),
    )
    for key, check in checks:
        if key in data:
            try:
                check(data[key])
            except ValueError as exc:
                raise UsageError(f"{where}: {exc}") from None


def _board(board_id: str, table: Any, file: Path) -> Board:
    where = f"{file}: board {board_id!r}"
    if not isinstance(table, dict):
        raise UsageError(f"{where} must be a table ([boards.{board_id}])")
    secret = [k for k in table if k.lower() in SECRET_KEYS]
    if secret:  # never echo the value
        raise UsageError(f"{where} has a {secret[0]!r} entry: zoo-bench logs in with keys only "
                         "(BatchMode); remove it and set key_file (see docs/boards.md)")
    declared = declared_board_keys()
    known = set(CORE_KEYS) | set(declared)
    unknown = sorted(set(table) - known)
    if unknown:
        raise _unknown_key(where, unknown[0], known)
    settings = _plugin_settings(table, {k: v for k, v in declared.items() if k not in CORE_KEYS}, where)
    for required in ("target", "host"):
        if not isinstance(table.get(required), str) or not table[required]:
            raise UsageError(f"{where}: {required!r} is required (a string)")
    data = {k: v for k, v in table.items() if k in CORE_KEYS}
    data["settings"] = settings
    _check_ssh_settings(data, where)
    base = file.resolve().parent
    for key in ("key_file", "known_hosts"):
        if key in data:
            data[key] = _path(data[key], base, key, where)
    delegates = data.get("delegates", {})
    if not isinstance(delegates, dict) or not all(isinstance(v, str) for v in delegates.values()):
        raise UsageError(f"{where}: delegates must be a table of name = \"library path\"")
    data["delegates"] = tuple(sorted(delegates.items()))
    data["ssh_options"] = tuple(data.get("ssh_options", []))
    if data.get("runtime", "auto") not in RUNTIMES:
        raise UsageError(f"{where}: runtime must be one of {', '.join(RUNTIMES)}")
    if data.get("host_key_checking", "yes") not in HOST_KEY_POLICIES:
        raise UsageError(f"{where}: host_key_checking must be one of {', '.join(HOST_KEY_POLICIES)}")
    for key in ("user", "bsp", "workdir", "python", "benchmark_model", "description"):
        if key in data and not isinstance(data[key], str):
            raise UsageError(f"{where}: {key} must be a string")
    try:
        board = Board(id=board_id, source=file, **data)
        board.transport(remember=False)  # validates host, user and the ssh settings
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{where}: {exc}") from None
    return board


def load_boards(path: Path) -> dict[str, Board]:
    """Every board of an inventory file, by id. Raises :class:`UsageError` naming the problem."""
    from ..safe_io import read_bytes

    path = Path(path)
    try:  # a named pipe, a folder, a huge file: refused, never a hang (safe_io)
        data = tomllib.loads(read_bytes(path, BOARDS_MAX_BYTES).decode("utf-8"))
    except FileNotFoundError:
        raise UsageError(f"boards file {path} does not exist (see docs/boards.md)") from None
    except OSError as exc:
        raise UsageError(f"boards file {path} cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"boards file {path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"boards file {path} is not valid TOML: {exc}") from None
    except RecursionError:
        raise UsageError(f"boards file {path} nests arrays or tables too deeply") from None
    extra = sorted(set(data) - {"boards"})
    if extra:
        raise UsageError(f"boards file {path}: unknown top-level key(s) {', '.join(extra)}; boards go in "
                         "[boards.<id>] tables")
    tables = data.get("boards", {})
    if not isinstance(tables, dict):
        raise UsageError(f"boards file {path}: 'boards' must hold [boards.<id>] tables")
    return {board_id: _board(board_id, table, path) for board_id, table in tables.items()}


def wanted_boards(options: Mapping[str, Any] | None) -> list[str]:
    """Board ids named by the option ``board`` (a comma list: one board per target)."""
    value = (options or {}).get("board") or ""
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    return [str(v).strip() for v in items if str(v).strip()]


def no_board_reason(options: Mapping[str, Any] | None, target_id: str) -> str | None:
    """Why no board of ``target_id`` can be used (a skip reason), or ``None`` if one may be.

    Cheap on purpose (it runs for every stage before anything starts): it reads the file and
    nothing else. A malformed file, or a board id that is not in it, returns ``None``: the stage
    then fails with that error (:func:`select_board`).
    """
    path = boards_file(options)
    if not path.exists():  # a pipe or a folder: select_board says what it is
        return f"no board for target {target_id}: {_not_found(path)}"
    try:
        boards = load_boards(path)
    except UsageError:
        return None
    wanted = wanted_boards(options)
    if any(w not in boards for w in wanted):
        return None
    candidates = [boards[w] for w in wanted] if wanted else list(boards.values())
    if not any(b.target == target_id for b in candidates):
        named = f" among the boards {', '.join(wanted)}" if wanted else ""
        return f"no board for target {target_id}{named} in {path} (see docs/boards.md)"
    return None


def select_board(options: Mapping[str, Any] | None, target_id: str) -> Board:
    """The board to run on: the board of this target named by the option ``board``, else the
    first board of the target in the file.

    Raises :class:`ToolUnavailable` when there is none and :class:`UsageError` for a malformed
    file or an unknown board id.
    """
    path = boards_file(options)
    reason = no_board_reason(options, target_id)
    if reason:
        raise ToolUnavailable(reason)
    boards = load_boards(path)  # raises the parse error of a malformed file
    wanted = wanted_boards(options)
    unknown = [w for w in wanted if w not in boards]
    if unknown:
        raise UsageError(f"no board {unknown[0]!r} in {path} (known: {', '.join(boards) or 'none'})")
    candidates = [boards[w] for w in wanted] if wanted else list(boards.values())
    return next(b for b in candidates if b.target == target_id)
