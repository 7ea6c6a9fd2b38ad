"""A board on loopback for tests: a real OpenSSH server on 127.0.0.1 and a stand-in
``benchmark_model``, so that a board runner's tests exercise the real transport (keys, time
limits, the run directory, clean-up) with this machine playing the board.

:func:`start_sshd` starts ``/usr/sbin/sshd -D`` (Debian package ``openssh-server``) on a free
port with a host key, a client key and an ``authorized_keys`` of its own in a directory;
:meth:`LoopbackSshd.board_table` writes the ``[boards.<id>]`` table that reaches it.
:func:`install_stand_in_benchmark_model` installs a Python program that prints what TFLite's
``benchmark_model`` prints (the format of TensorFlow's sources, cited in
:mod:`.tflite_report`) with synthetic times; it is **not** the real tool, and every row it gives
says ``tool = benchmark_model`` only because the runner believes it ran that tool.

Plugin authors use it through :mod:`zoo_bench.testing` (the ``zoo_bench_board`` fixture, or
:func:`zoo_bench.testing.loopback_board` without pytest). Nothing here needs pytest.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SSHD = Path("/usr/sbin/sshd")
INSTALL_HINT = "apt-get install -y openssh-server"


def sshd_missing() -> str | None:
    """Why a loopback server cannot start here (a skip reason), or ``None``."""
    if SSHD.exists() and shutil.which("ssh") and shutil.which("ssh-keygen"):
        return None
    return f"OpenSSH server/client not installed ({INSTALL_HINT})"


def toml_value(value: object) -> str:
    """A TOML literal of a str, number, bool, list or inline table."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value))  # a TOML basic string is a JSON string


@dataclass
class LoopbackSshd:
    """One running sshd and the files a client needs to log in to it."""

    port: int
    user: str
    key_file: Path
    known_hosts: Path
    directory: Path
    proc: subprocess.Popen
    host: str = "127.0.0.1"

    @property
    def log(self) -> str:
        path = self.directory / "sshd.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def board_table(self, board_id: str, target: str, **keys: object) -> str:
        """A ``[boards.<id>]`` table of boards.toml for this server (``keys`` as TOML values)."""
        lines = [f"[boards.{board_id}]", f'target = "{target}"', f'host = "{self.host}"', f"port = {self.port}",
                 f'user = "{self.user}"', f"key_file = {toml_value(self.key_file)}",
                 f"known_hosts = {toml_value(self.known_hosts)}", 'ssh_config = "none"', "connect_timeout_s = 5"]
        lines += [f"{key} = {toml_value(value)}" for key, value in keys.items()]
        return "\n".join(lines) + "\n"

    def descendants(self) -> list[int]:
        """Process ids below the listener: one sshd per connection and what it runs."""
        found: list[int] = []
        todo = [self.proc.pid]
        while todo:
            pid = todo.pop()
            try:
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                found.append(child)
                todo.append(child)
        return found

    def drop_sessions(self) -> int:
        """Kill every open connection (and its commands) but keep listening; returns how many
        processes were killed, all started by this server. Call it once the remote command runs:
        a login shell killed while it reads its rc files can leave their state half-done."""
        pids = self.descendants()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return len(pids)

    def stop(self) -> None:
        """Stop the server and every connection it has."""
        self.drop_sessions()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "zoo-bench-test", "-f", str(path)],
                   check=True, capture_output=True, timeout=30)


def _wait_for_banner(port: int, proc: subprocess.Popen, deadline_s: float = 15.0) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd exited with status {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0) as s:
                if s.recv(64).startswith(b"SSH-"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"sshd did not answer on port {port} within {deadline_s:g} s")


def start_sshd(directory: Path) -> LoopbackSshd:
    """Start an sshd on a free loopback port with keys and config under ``directory`` (stop it
    with :meth:`LoopbackSshd.stop`). Raises :class:`RuntimeError` with its log if it does not answer."""
    directory.mkdir(parents=True, exist_ok=True)
    host_key, client_key = directory / "host_ed25519", directory / "client_ed25519"
    _keygen(host_key)
    _keygen(client_key)
    (directory / "authorized_keys").write_text((directory / "client_ed25519.pub").read_text())
    user = getpass.getuser()
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    port = free_port()
    config = directory / "sshd_config"
    config.write_text("\n".join([
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {host_key}", f"PidFile {directory / 'sshd.pid'}",
        f"AuthorizedKeysFile {directory / 'authorized_keys'}", "StrictModes no", "PubkeyAuthentication yes",
        "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no",
        "PermitRootLogin prohibit-password", f"AllowUsers {user}", "MaxStartups 100", "MaxSessions 100",
        "LogLevel VERBOSE",
    ]) + "\n")
    log = open(directory / "sshd.log", "wb")  # noqa: SIM115 - the server writes it until stopped
    proc = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    log.close()
    try:
        _wait_for_banner(port, proc)
    except RuntimeError as exc:
        proc.kill()
        proc.wait(timeout=10)
        raise RuntimeError(f"{exc}; log:\n{(directory / 'sshd.log').read_text(errors='replace')}") from None
    host_pub = (directory / "host_ed25519.pub").read_text().split()
    known_hosts = directory / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {host_pub[0]} {host_pub[1]}\n")
    return LoopbackSshd(port, user, client_key, known_hosts, directory, proc)


# The stand-in for TFLite's benchmark_model. It is NOT the real tool: it prints in the format of
# TensorFlow's sources (benchmark_model.cc `BenchmarkModel::Run` and
# `BenchmarkLoggingListener::OnBenchmarkEnd`, stats_calculator.h `Stat::OutputToStream`,
# benchmark_tflite_model.cc's delegate lines) and counts its runs the way `BenchmarkModel::Run`
# does: at least N iterations and at least S seconds, each synthetic run taking RUN_US
# microseconds (the first warm-up run 9000 us). A missing delegate library fails as the tool does.
STAND_IN_BENCHMARK_MODEL = '''#!{python}
"""Stand-in for TFLite's benchmark_model (zoo-bench tests): documented output format, synthetic times."""
import json, math, os, sys

flags = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--") and "=" in a)
with open({argv_log!r}, "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
RUN_US = 2500


def count(min_runs, min_secs):
    return max(min_runs, math.ceil(min_secs * 1e6 / RUN_US)) if min_secs > 0 else min_runs


def stat(times):
    if not times:
        return "count=0"
    avg = sum(times) / len(times)
    std = int(math.sqrt(sum(t * t for t in times) / len(times) - avg * avg))
    return (f"count={{len(times)}} first={{times[0]}} curr={{times[-1]}} min={{min(times)}} max={{max(times)}} "
            f"avg={{avg:.6g}} std={{std}}")


graph = flags["graph"]
print("INFO: STARTING!")
print(f"INFO: Num threads: [{{flags.get('num_threads', '-1')}}]")
print(f"INFO: Graph: [{{graph}}]")
delegate = flags.get("external_delegate_path")
if delegate:
    print(f"INFO: External delegate path: [{{delegate}}]")
    if not os.path.exists(delegate):
        print(f"ERROR: Failed to load external delegate from {{delegate}}")
        sys.exit(1)
if not os.path.getsize(graph):
    print(f"ERROR: Could not build model from {{graph}}")
    sys.exit(1)
print(f"INFO: Loaded model {{graph}}")
if delegate:
    print("INFO: EXTERNAL delegate created.")
    print("INFO: Explicitly applied EXTERNAL delegate, and the model graph will be completely executed by "
          "the delegate.")
print(f"INFO: The input model file size (MB): {{os.path.getsize(graph) / 1e6:g}}")
print("INFO: Initialized session in 12.5ms.")
sections = []
for runs_key, runs_default, secs_key, secs_default, first in (
        ("warmup_runs", 1, "warmup_min_secs", 0.5, 9000), ("num_runs", 50, "min_secs", 1.0, None)):
    n, secs = int(flags.get(runs_key, runs_default)), float(flags.get(secs_key, secs_default))
    print(f"INFO: Running benchmark for at least {{n}} iterations and at least {{secs:g}} seconds but terminate "
          "if exceeding 150 seconds.")
    times = [RUN_US + (i % 7) * 10 for i in range(count(n, secs))]
    if times and first:
        times[0] = first
    print(f"INFO: {{stat(times)}}")
    print()
    sections.append(times)
warm, timed = sections
wavg = sum(warm) / len(warm) if warm else 0
print(f"INFO: Inference timings in us: Init: 12500, First inference: {{warm[0] if warm else 0}}, "
      f"Warmup (avg): {{wavg:.6g}}, Inference (avg): {{sum(timed) / len(timed):.6g}}")
'''
#: The stand-in's synthetic run time and init time (what a test may expect in the rows).
STAND_IN_RUN_US = 2500
STAND_IN_INIT_MS = 12.5


def install_stand_in_benchmark_model(path: Path, argv_log: Path, python: str | None = None) -> Path:
    """Write the stand-in ``benchmark_model`` at ``path`` (its ``tensorflow-lite-X.Y.Z`` folder, if
    any, is the version the rows get); every call appends its argv to ``argv_log`` as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(STAND_IN_BENCHMARK_MODEL.format(python=python or sys.executable, argv_log=str(argv_log)))
    path.chmod(0o755)
    return path


@dataclass
class LoopbackBoard:
    """This machine as a board over a loopback sshd, with the stand-in ``benchmark_model``.

    ``boards_toml(target)`` writes a boards.toml whose board reaches it; ``calls()`` are the
    argument lists the stand-in was run with; ``workdir`` is the board's run-directory root
    (empty again after each stage: the runner cleans up).
    """

    sshd: LoopbackSshd
    directory: Path
    tool: Path = field(init=False)
    argv_log: Path = field(init=False)
    workdir: Path = field(init=False)

    def __post_init__(self) -> None:
        self.argv_log = self.directory / "benchmark_model_argv.jsonl"
        self.tool = install_stand_in_benchmark_model(
            self.directory / "usr/bin/tensorflow-lite-2.16.2/examples/benchmark_model", self.argv_log)
        self.workdir = self.directory / "board-workdir"
        self.workdir.mkdir(parents=True, exist_ok=True)

    def install_tool(self, path: Path) -> Path:
        """Another copy of the stand-in ``benchmark_model`` at ``path`` (same argv log)."""
        return install_stand_in_benchmark_model(path, self.argv_log)

    def delegate(self, name: str) -> Path:
        """A stand-in delegate library file (the stand-in checks only that it exists)."""
        path = self.directory / "usr/lib" / f"lib{name}_delegate.so"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"stand-in delegate: only its existence is checked")
        return path

    def boards_toml(self, target: str, board_id: str = "loop", **keys: Any) -> Path:
        """``boards.toml`` with one board of ``target`` on this server; ``keys`` are more keys
        of its table (``benchmark_model`` defaults to the stand-in, ``workdir`` to :attr:`workdir`;
        a key given as ``None`` is left out)."""
        keys = {"benchmark_model": str(self.tool), "workdir": str(self.workdir), "retries": 1, **keys}
        keys = {k: v for k, v in keys.items() if v is not None}
        path = self.directory / f"boards-{board_id}.toml"
        path.write_text(self.sshd.board_table(board_id, target, **keys))
        return path

    def calls(self) -> list[list[str]]:
        """The argument lists the stand-in ``benchmark_model`` was called with, in order."""
        if not self.argv_log.exists():
            return []
        return [json.loads(line) for line in self.argv_log.read_text().splitlines()]
