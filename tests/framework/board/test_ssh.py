"""The SSH transport against a real OpenSSH server on loopback (tests/fixtures/sshd.py)."""

from __future__ import annotations

import shlex
import threading
import time
from pathlib import Path

import pytest
from zoo_bench.board.ssh import RemoteCommandError, SshConnectionError, SshTimeout, SshTransport

from tests.fixtures.sshd import wait_until


def transport(server, **kw) -> SshTransport:
    kw.setdefault("retry_delay_s", 0.3)
    return SshTransport(host=server.host, port=server.port, user=server.user, key_file=server.key_file,
                        known_hosts=server.known_hosts, ssh_config="none", connect_timeout_s=5, **kw)


def processes_with_args(*argv: str) -> list[int]:
    """Pids whose command line is exactly ``argv`` (to check that nothing was left running)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().split(b"\0")[:-1]
            except OSError:
                continue
            if [c.decode(errors="replace") for c in cmdline] == list(argv):
                found.append(int(proc.name))
    return found


def test_remote_command_quotes_every_argument():
    cmd = SshTransport.remote_command(["printf", "%s|", "a b", "it's", "$HOME", ";rm"], 5)
    assert shlex.split(cmd)[:4] == ["sh", "-c", '"$@"; exit $?', "sh"]
    assert shlex.split(cmd)[4:] == ["timeout", "-s", "KILL", "5", "printf", "%s|", "a b", "it's", "$HOME", ";rm"]


def test_arguments_reach_the_board_unchanged(sshd):
    result = transport(sshd).run(["printf", "%s|", "a b", "it's", "$HOME", "*", ";true"], 20)
    assert result.stdout == "a b|it's|$HOME|*|;true|"
    assert result.returncode == 0 and result.attempts == 1


def test_put_and_get_round_trip(sshd, tmp_path):
    ssh = transport(sshd)
    payload = bytes(range(256)) * 4000
    (tmp_path / "blob.bin").write_bytes(payload)
    remote = ssh.make_temp_dir(str(tmp_path / "board"))
    assert Path(remote).is_dir() and Path(remote).parent == tmp_path / "board"
    ssh.put(tmp_path / "blob.bin", f"{remote}/with space.bin")
    back = ssh.get(f"{remote}/with space.bin", tmp_path / "back.bin")
    assert back.read_bytes() == payload
    ssh.remove_dir(remote)
    assert not Path(remote).exists()
    with pytest.raises(ValueError, match="refusing"):
        ssh.remove_dir("/tmp")


def test_failing_command_raises_with_its_status_and_stderr(sshd):
    with pytest.raises(RemoteCommandError) as err:
        transport(sshd).run(["sh", "-c", "echo broken tool >&2; exit 3"], 20)
    assert err.value.returncode == 3 and "broken tool" in str(err.value)
    assert transport(sshd).run(["sh", "-c", "exit 3"], 20, check=False).returncode == 3


def test_command_past_its_limit_is_killed_on_the_board(sshd):
    ssh = transport(sshd)
    t0 = time.monotonic()
    with pytest.raises(SshTimeout, match="did not finish within 2 s"):
        ssh.run(["sleep", "37.25"], 2)
    assert time.monotonic() - t0 < 10
    assert processes_with_args("sleep", "37.25") == []


def drop_when_started(server, marker: Path, action) -> threading.Thread:
    """Run ``action`` (drop or stop) once the remote command has touched ``marker``."""
    def act():
        wait_until(marker.exists, what="the remote command to start")
        action()

    thread = threading.Thread(target=act)
    thread.start()
    return thread


def test_dropped_connection_is_retried(sshd_factory, tmp_path):
    server = sshd_factory()
    ssh = transport(server, retries=2)
    marker = tmp_path / "started"
    dropper = drop_when_started(server, marker, server.drop_sessions)
    result = ssh.run(["sh", "-c", 'touch "$1"; sleep 2.5; echo survived', "sh", str(marker)], 30)
    dropper.join()
    assert result.stdout.strip() == "survived"
    assert result.attempts == 2
    assert "lost the connection" in ssh.log[0]


def test_board_gone_fails_after_the_retries(sshd_factory, tmp_path):
    server = sshd_factory()
    ssh = transport(server, retries=2, label="board gone")
    marker = tmp_path / "started"
    stopper = drop_when_started(server, marker, server.stop)
    t0 = time.monotonic()
    with pytest.raises(SshConnectionError, match="board gone failed or dropped on all 3 attempt") as err:
        ssh.run(["sh", "-c", 'touch "$1"; sleep 20', "sh", str(marker)], 30)
    stopper.join()
    assert time.monotonic() - t0 < 15
    assert "Connection refused" in str(err.value) and server.host not in str(err.value)


def test_unknown_host_key_is_refused(sshd, tmp_path):
    (tmp_path / "known_hosts").write_text("")
    ssh = SshTransport(host=sshd.host, port=sshd.port, user=sshd.user, key_file=sshd.key_file,
                       known_hosts=tmp_path / "known_hosts", ssh_config="none", retries=0)
    with pytest.raises(SshConnectionError, match="(?i)host key verification failed"):
        ssh.run(["true"], 10)
