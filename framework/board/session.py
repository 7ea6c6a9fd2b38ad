"""What every SSH board runner shares: its availability check, its failure types and the
life of a run directory on the board.

A vendor's board runner subclasses :class:`SshBoardRunner` and wraps its remote work in
:func:`board_session`, which makes a temporary directory on the board, turns transport errors
into the three board failures below (each a one-line stage reason), and removes the directory
whatever happens.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..components import Runner
from ..options import Option, as_option
from .inventory import boards_file, no_board_reason
from .ssh import SshConnectionError, SshError, SshTimeout

if TYPE_CHECKING:
    from ..components import StageContext, Target
    from .ssh import SshTransport

#: Seconds the set-up commands (mkdir, copy, clean-up) may take on the board.
SETUP_TIMEOUT_S = 120.0
#: The options every board runner takes to choose its board (merge them into ``options``).
BOARD_SELECTION = {
    "boards": Option("path", must_exist=False,
                     help="boards.toml to read (default $ZOO_BENCH_BOARDS, else ~/.config/zoo-bench/boards.toml)"),
    "board": Option("str", help="board id(s) of boards.toml to use, comma separated (default: the first of the "
                                "target)"),
}


class BoardConnectionLost(RuntimeError):
    """The board could not be reached, or the connection dropped beyond the retries."""


class BoardTimeout(RuntimeError):
    """A command on the board did not finish within its limit (it was killed there)."""


class BoardCommandFailed(RuntimeError):
    """A command on the board failed; the message carries the board's own error."""


class SshBoardRunner(Runner):
    """Base of runners that measure on a board over :mod:`zoo_bench.board.ssh`.

    A subclass declares ``options`` (merge :data:`BOARD_SELECTION`: a board option is what makes
    its stages occupy the board, ``board-<id>``) and may declare ``board_keys``, the
    ``boards.toml`` keys its boards take (name -> :class:`~zoo_bench.options.Option`), read with
    ``board.setting(name)``. Its figures are ``measured-board`` (``provenance``).
    """

    provenance = "measured-board"
    #: boards.toml keys this runner's boards take beside the core ones (docs/boards.md).
    board_keys: ClassVar[dict[str, Option]] = {}

    def option(self, ctx: StageContext, name: str) -> Any:
        """The typed value of one of this runner's declared options (its default when unset:
        ``warmup=0`` stays 0)."""
        decl = as_option(self.options[name])
        value = ctx.options.get(name)
        return decl.default if value is None else decl.parse(name, value)

    def input_files(self, options: dict[str, Any]) -> list[Path]:
        """The boards file: a re-flashed board (its ``bsp``) or another host changes the key."""
        path = boards_file(options)
        return [path] if path.is_file() else []

    def unavailable_reason(self, target: Target | None = None, options: dict[str, Any] | None = None) -> str | None:
        reason = no_board_reason(options, target.id if target else "?")
        if reason is None and shutil.which("ssh") is None:
            reason = "the OpenSSH client `ssh` is not installed (e.g. apt-get install openssh-client)"
        return reason


@contextmanager
def board_errors() -> Iterator[None]:
    """Turn transport errors into board failures (the board's own error stays in the message)."""
    try:
        yield
    except SshTimeout as exc:
        raise BoardTimeout(str(exc)) from None
    except SshConnectionError as exc:
        raise BoardConnectionLost(str(exc)) from None
    except SshError as exc:  # RemoteCommandError and the rest
        raise BoardCommandFailed(str(exc)) from None


@contextmanager
def board_session(ctx: StageContext, ssh: SshTransport, workdir: str) -> Iterator[str]:
    """A fresh run directory on the board for one stage; yields its path.

    Errors inside become board failures; the directory is removed afterwards, and the
    transport's log (attempts, retries) goes to the stage log, on failure too.
    """
    remote_dir: str | None = None
    try:
        with board_errors():
            remote_dir = ssh.make_temp_dir(workdir, SETUP_TIMEOUT_S)
            yield remote_dir
    finally:
        if remote_dir is not None:
            cleanup(ctx, ssh, remote_dir)
        for line in getattr(ssh, "log", ()):
            ctx.log(line)


def cleanup(ctx: StageContext, ssh: SshTransport, remote_dir: str) -> None:
    """Remove a run directory on the board; a failure is logged, never raised (the board may
    be gone; the figures stand)."""
    try:
        ssh.remove_dir(remote_dir, SETUP_TIMEOUT_S / 4)
    except (SshError, ValueError) as exc:
        ctx.log(f"could not remove {remote_dir} from the board: {exc}")
