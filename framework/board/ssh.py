"""The SSH transport every board plugin shares: run a command, push and fetch files, clean up.

It drives the OpenSSH client binary (``ssh``) with argument lists, never a local shell:

- ``BatchMode=yes``: key authentication only, never a password prompt that would hang a run;
- ``ConnectTimeout`` bounds connecting, ``ServerAliveInterval``/``ServerAliveCountMax`` notice a
  connection that dropped while a command runs (ssh then exits with status 255);
- every call has a wall-clock limit: the local ``ssh`` process is killed when it is over, and the
  remote command runs under ``timeout -s KILL`` so that it cannot outlive its limit on the board
  even when the connection to it is gone;
- a call that fails at the connection level (exit status 255) is retried ``retries`` times when
  the failure is transient (the connection dropped or was reset, the key exchange broke off);
  one that cannot succeed on retry (the name does not resolve, nothing listens on the port, the
  host does not answer, the key or host key is refused) fails at once, see :func:`classify`;
  a call that timed out is not retried either (it would hang again);
- a board given up on is remembered: by this transport (its clean-up does not try again) and,
  through :mod:`.dead_boards`, by every later stage of the run.

Files travel through the same ssh connection (``cat > file`` / ``cat file``), so a board needs
nothing but a POSIX shell and an SSH server: no sftp-server (which ``scp`` needs since OpenSSH 9)
and nothing that dropbear lacks. Nothing here prints or records the key file's content.
"""

from __future__ import annotations

import math
import shlex
import subprocess
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from .dead_boards import DeadBoards
from .ssh_options import (
    check_host,
    check_port,
    check_proxy_jump,
    check_retries,
    check_seconds,
    check_user,
    parse_ssh_option,
)

#: ssh's own exit status for errors of the connection (refused, dropped, auth failed).
SSH_CONNECTION_ERROR = 255
#: Host key policies accepted for ``StrictHostKeyChecking``.
HOST_KEY_POLICIES = ("yes", "accept-new", "no")
#: Upper bound of ``retries`` (extra attempts after a transient failure).
MAX_RETRIES = 5
#: ssh errors that a retry cannot cure, as (lower-case text in ssh's message, why). Anything
#: else with status 255 (connection closed or reset, broken pipe, "server not responding",
#: kex_exchange_identification) is taken as transient and retried.
PERMANENT_ERRORS = (
    ("could not resolve hostname", "the host name does not resolve"),
    ("name or service not known", "the host name does not resolve"),
    ("connection refused", "nothing listens on that port: a wrong port, or no SSH server"),
    ("no route to host", "no route to the host"),
    ("network is unreachable", "the network is unreachable"),
    ("connection timed out during banner exchange",
     "the port answers but does not speak SSH within ConnectTimeout"),
    ("connection timed out", "the host does not answer within ConnectTimeout: it is off, or the address is wrong"),
    ("operation timed out", "the host does not answer within ConnectTimeout: it is off, or the address is wrong"),
    ("permission denied", "the board refused the key"),
    ("too many authentication failures", "the board refused the keys"),
    ("host key verification failed", "the host key is unknown or has changed"),
    ("remote host identification has changed", "the host key has changed"),
    ("unable to negotiate", "no algorithm in common with the board's SSH server"),
    ("bad configuration option", "an ssh option is not understood by this ssh client"),
)


def classify(stderr: str) -> str | None:
    """Why a status-255 failure cannot succeed on retry, or ``None`` when it is transient.

    Only ssh's own last lines are read: the remote command's output comes before them."""
    last = "\n".join(stderr.strip().splitlines()[-3:]).lower()
    for needle, why in PERMANENT_ERRORS:
        if needle in last:
            return why
    return None


class SshError(Exception):
    """Base class of the transport's errors; the message is safe to show and store."""


class SshConnectionError(SshError):
    """The board could not be reached, or the connection dropped, on every attempt."""


class SshTimeout(SshError):
    """A remote command ran past its time limit and was stopped."""


class RemoteCommandError(SshError):
    """The remote command ran and exited with a non-zero status."""

    def __init__(self, message: str, returncode: int, stdout: str, stderr: str):
        super().__init__(message)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


@dataclass
class SshResult:
    """What one remote command gave: exit status, output, wall time, attempts it took."""

    returncode: int
    stdout: str
    stderr: str
    duration_s: float
    attempts: int = 1


def tail(text: str, lines: int = 8, chars: int = 800) -> str:
    """The last lines of a command's output, for error messages."""
    kept = "\n".join(text.strip().splitlines()[-lines:])
    return kept[-chars:]


@dataclass
class SshTransport:
    """One board reachable over SSH. Each call opens its own connection (no multiplexing), so a
    dropped connection costs one call, which the retry policy repeats.

    ``ssh_config`` is passed as ``ssh -F`` (``"none"`` ignores ``~/.ssh/config``; ``None`` keeps
    the user's, with its ProxyJump and aliases). ``extra_options`` are more ``-o`` settings.
    """

    host: str
    user: str | None = None
    port: int = 22
    key_file: Path | None = None
    host_key_checking: str = "yes"
    known_hosts: Path | None = None
    ssh_config: str | None = None
    connect_timeout_s: float = 10.0
    server_alive_interval_s: int = 5
    server_alive_count_max: int = 3
    retries: int = 2
    retry_delay_s: float = 1.0
    #: More ``-o Key=value`` options; only those of :data:`.ssh_options.SAFE_SSH_OPTIONS` pass.
    extra_options: tuple[str, ...] = ()
    #: ``ProxyJump`` hops (``[user@]host[:port]``, comma separated), checked like ``host``.
    proxy_jump: str | None = None
    ssh_binary: str = "ssh"
    #: Name used in messages instead of user@host:port (a board id), so results hold no address.
    label: str | None = None
    #: Where boards given up on are remembered for the rest of the run (``None``: this object only).
    dead_boards: DeadBoards | None = field(default=None, repr=False)
    log: list[str] = field(default_factory=list, repr=False)
    #: Set once the board is given up on: the failure's message (later calls fail at once).
    dead: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        check_host(self.host)
        if self.user is not None:
            check_user(self.user)
        check_port(self.port)
        if self.host_key_checking not in HOST_KEY_POLICIES:
            raise ValueError(f"host_key_checking must be one of {HOST_KEY_POLICIES}, not {self.host_key_checking!r}")
        if self.proxy_jump is not None:
            check_proxy_jump(self.proxy_jump)
        check_seconds(self.connect_timeout_s, "connect_timeout_s")
        check_retries(self.retries, MAX_RETRIES)
        if not math.isfinite(self.retry_delay_s) or not 0 <= self.retry_delay_s <= 60:
            raise ValueError(f"retry_delay_s must be from 0 to 60 s, not {self.retry_delay_s!r}")
        self._options = dict(parse_ssh_option(o) for o in self.extra_options)

    # --- command lines -------------------------------------------------------------------
    def ssh_args(self) -> list[str]:
        """The ``ssh`` command line up to (not including) the remote command."""
        args = [self.ssh_binary]
        if self.ssh_config is not None:
            args += ["-F", self.ssh_config]
        opts = {
            "ServerAliveInterval": str(self.server_alive_interval_s),
            "ServerAliveCountMax": str(self.server_alive_count_max),
        }
        if self.key_file is not None:
            opts["IdentitiesOnly"] = "yes"
        # ssh keeps the first value of an option: one merged dict gives each option once, the
        # board's own settings over these defaults and the fixed ones below over everything.
        opts.update(self._options)
        opts.update({
            "BatchMode": "yes",
            "ConnectTimeout": str(max(1, math.ceil(self.connect_timeout_s))),
            "StrictHostKeyChecking": self.host_key_checking,
            "LogLevel": "ERROR",
        })
        if self.known_hosts is not None:
            opts["UserKnownHostsFile"] = str(self.known_hosts)
        if self.proxy_jump is not None:
            opts["ProxyJump"] = self.proxy_jump
        for key, value in opts.items():
            args += ["-o", f"{key}={value}"]  # one argument each: a value cannot become an option
        if self.key_file is not None:
            args += ["-i", str(self.key_file)]
        if self.user:
            args += ["-l", self.user]
        args += ["-p", str(self.port), "-T", "--", self.host]  # after "--" the host is never an option
        return args

    def endpoint_key(self) -> str:
        """What identifies the board's endpoint for :class:`DeadBoards` (never shown)."""
        return DeadBoards.endpoint_key(self.host, self.port, self.user or "", self.proxy_jump or "",
                                       self.ssh_config or "")

    @staticmethod
    def remote_command(argv: Sequence[str], timeout_s: float | None) -> str:
        """The one string ssh hands the remote login shell: every argument quoted, the command
        under ``timeout -s KILL`` so that it dies on the board when its time is up.

        The ``sh -c '"$@"; exit $?'`` wrapper keeps a command that dies of a signal (the timeout's
        KILL, a crash) from ending the remote shell itself: ssh would report that as status 255,
        which is indistinguishable from a dropped connection. With it the status is 128 + signal.
        """
        argv = list(argv)
        if timeout_s is not None:
            argv = ["timeout", "-s", "KILL", str(max(1, int(timeout_s + 0.999))), *argv]
        return shlex.join(["sh", "-c", '"$@"; exit $?', "sh", *argv])

    def destination(self) -> str:
        """The label, else ``user@host:port``, for messages (never the key)."""
        if self.label:
            return self.label
        who = f"{self.user}@" if self.user else ""
        return f"{who}{self.host}:{self.port}"

    def scrub(self, text: str) -> str:
        """``text`` with the host's address replaced by the label (ssh's own errors name it)."""
        return text.replace(self.host, self.label) if self.label else text

    # --- running ---------------------------------------------------------------------------
    def run(self, argv: Sequence[str], timeout_s: float, *, stdin: Path | None = None,
            stdout_path: Path | None = None, check: bool = True, retry: bool = True) -> SshResult:
        """Run ``argv`` on the board and wait at most ``timeout_s`` seconds per attempt.

        ``stdin`` is a local file fed to the command; with ``stdout_path`` the command's output
        goes to that file instead of :attr:`SshResult.stdout`. Raises :class:`SshTimeout`,
        :class:`SshConnectionError` (after the retries) or, with ``check``,
        :class:`RemoteCommandError` for a non-zero exit status.
        """
        self._check_alive()
        args = [*self.ssh_args(), self.remote_command(argv, timeout_s)]
        attempts = 1 + (self.retries if retry else 0)
        started = time.monotonic()
        last_error = ""
        for attempt in range(1, attempts + 1):
            returncode, out, err = self._attempt(args, timeout_s, stdin, stdout_path, argv)
            if returncode != SSH_CONNECTION_ERROR:
                result = SshResult(returncode, out, err, time.monotonic() - started, attempt)
                if check and returncode != 0:
                    raise RemoteCommandError(
                        f"`{shlex.join(argv)}` exited with status {returncode} on {self.destination()}: "
                        f"{self.scrub(tail(err or out)) or 'no output'}", returncode, out, err)
                return result
            last_error = self.scrub(tail(err, lines=3)) or "ssh exited with status 255"
            permanent = classify(err)
            if permanent is not None:
                self.log.append(f"attempt {attempt}/{attempts} of `{argv[0]}` failed, not retried: {last_error}")
                self._give_up(f"connection to {self.destination()} failed, not retried ({permanent}) "
                              f"on `{shlex.join(argv)}`: {last_error}")
            self.log.append(f"attempt {attempt}/{attempts} of `{argv[0]}` lost the connection: {last_error}")
            if attempt < attempts:
                time.sleep(self.retry_delay_s * attempt)
        self._give_up(f"connection to {self.destination()} failed or dropped on all {attempts} attempt(s) "
                      f"of `{shlex.join(argv)}`: {last_error}")

    def _check_alive(self) -> None:
        """Fail at once for a board given up on earlier, by this transport or in this run."""
        if self.dead is None and self.dead_boards is not None:
            earlier = self.dead_boards.first_failure(self.endpoint_key())
            if earlier is not None:
                self.dead = f"earlier in this run: {earlier}"
        if self.dead is not None:
            raise SshConnectionError(f"{self.destination()} is not tried again ({self.dead})")

    def _give_up(self, message: str) -> NoReturn:
        """Remember the board as dead (here and for the run) and raise the connection error."""
        self.dead = message
        if self.dead_boards is not None:
            self.dead_boards.mark(self.endpoint_key(), message)
        raise SshConnectionError(message)

    def _attempt(self, args: list[str], timeout_s: float, stdin: Path | None, stdout_path: Path | None,
                 argv: Sequence[str]) -> tuple[int, str, str]:
        # The remote side kills the command at timeout_s; locally we allow the connection a little
        # longer to report that, then kill our own ssh process.
        local_limit = timeout_s + self.connect_timeout_s + 5.0
        t0 = time.monotonic()
        with ExitStack() as files:
            in_fh = files.enter_context(open(stdin, "rb")) if stdin is not None else subprocess.DEVNULL
            out_fh = files.enter_context(open(stdout_path, "wb")) if stdout_path is not None else subprocess.PIPE
            proc = subprocess.Popen(args, stdin=in_fh, stdout=out_fh, stderr=subprocess.PIPE)
            try:
                out, err = proc.communicate(timeout=local_limit)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                raise SshTimeout(
                    f"`{shlex.join(argv)}` on {self.destination()} did not finish within {timeout_s:g} s "
                    "and was stopped") from None
        text_out = out.decode(errors="replace") if out else ""
        text_err = err.decode(errors="replace") if err else ""
        if proc.returncode == 137 and time.monotonic() - t0 >= timeout_s * 0.95:
            # `timeout -s KILL` ended the command on the board (SIGKILL gives 128 + 9); a 137 that
            # comes early is something else (the OOM killer) and is reported as the exit status.
            raise SshTimeout(
                f"`{shlex.join(argv)}` on {self.destination()} did not finish within {timeout_s:g} s "
                "and was killed on the board")
        return proc.returncode, text_out, text_err

    # --- files -----------------------------------------------------------------------------
    def put(self, local: Path, remote: str, timeout_s: float = 120.0) -> None:
        """Copy a local file to ``remote`` and check that every byte arrived."""
        size = Path(local).stat().st_size
        result = self.run(["sh", "-c", 'cat > "$1" && wc -c < "$1"', "sh", remote], timeout_s, stdin=Path(local))
        lines = result.stdout.strip().splitlines()  # the last line: a chatty rc file may print before it
        got = lines[-1].strip() if lines else ""
        if got != str(size):
            raise SshError(f"copying {Path(local).name} to {self.destination()} wrote {got or '?'} of {size} bytes")

    def get(self, remote: str, local: Path, timeout_s: float = 120.0) -> Path:
        """Copy ``remote`` from the board to the local path ``local``."""
        local = Path(local)
        partial = local.with_name(local.name + ".part")
        self.run(["cat", remote], timeout_s, stdout_path=partial)
        partial.replace(local)
        return local

    def make_temp_dir(self, base: str, timeout_s: float = 60.0) -> str:
        """A new empty directory under ``base`` on the board (created if missing)."""
        result = self.run(["sh", "-c", 'mkdir -p "$1" && mktemp -d "$1/run.XXXXXX"', "sh", base], timeout_s)
        path = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
        if not path.startswith(base.rstrip("/") + "/"):
            raise SshError(f"could not create a directory under {base} on {self.destination()}")
        return path

    def remove_dir(self, path: str, timeout_s: float = 60.0) -> None:
        """Delete a directory this transport made (refuses anything but a ``run.*`` directory)."""
        if "/run." not in path or path.rstrip("/").count("/") < 2:
            raise ValueError(f"refusing to remove {path!r}: not a directory made by make_temp_dir")
        self.run(["rm", "-rf", "--", path], timeout_s)
