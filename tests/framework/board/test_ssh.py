"""The SSH transport against a real OpenSSH server on loopback (tests/fixtures/sshd.py)."""

from __future__ import annotations

import contextlib
import shlex
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from zoo_bench.board.ssh import RemoteCommandError, SshConnectionError, SshTimeout, SshTransport, classify

from tests.fixtures.sshd import free_port, wait_until


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


def test_board_gone_fails_once_its_port_refuses(sshd_factory, tmp_path):
    """The dropped connection is retried; the retry finds the port closed, which no further retry
    can cure: the call fails then, after 2 of its 3 allowed attempts."""
    server = sshd_factory()
    ssh = transport(server, retries=2, label="board gone")
    marker = tmp_path / "started"
    stopper = drop_when_started(server, marker, server.stop)
    t0 = time.monotonic()
    with pytest.raises(SshConnectionError, match="board gone failed, not retried") as err:
        ssh.run(["sh", "-c", 'touch "$1"; sleep 20', "sh", str(marker)], 30)
    stopper.join()
    assert time.monotonic() - t0 < 15
    assert "Connection refused" in str(err.value) and server.host not in str(err.value)
    assert [line.split(" of ")[0] for line in ssh.log] == ["attempt 1/3", "attempt 2/3"]
    assert "lost the connection" in ssh.log[0] and "not retried" in ssh.log[1]


def test_unknown_host_key_is_refused(sshd, tmp_path):
    (tmp_path / "known_hosts").write_text("")
    ssh = SshTransport(host=sshd.host, port=sshd.port, user=sshd.user, key_file=sshd.key_file,
                       known_hosts=tmp_path / "known_hosts", ssh_config="none", retries=0)
    with pytest.raises(SshConnectionError, match="(?i)host key verification failed"):
        ssh.run(["true"], 10)


@contextlib.contextmanager
def silent_port():
    """A TCP port that accepts connections and never says a word (not an SSH server)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()


def other_key(tmp_path: Path) -> Path:
    key = tmp_path / "other_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, timeout=30)
    return key


@pytest.mark.parametrize("case", ["refused port", "unresolvable name", "wrong key", "changed host key"])
def test_errors_a_retry_cannot_cure_fail_at_once(case, sshd, tmp_path):
    kw: dict = {"retries": 5, "retry_delay_s": 1.0}
    host, port, key, known = sshd.host, sshd.port, sshd.key_file, sshd.known_hosts
    if case == "refused port":
        port = free_port()  # nothing listens there
    elif case == "unresolvable name":
        host = "no-such-board.invalid"
    elif case == "wrong key":
        key = other_key(tmp_path)
    else:
        known = tmp_path / "known_hosts"
        known.write_text(f"[127.0.0.1]:{sshd.port} {other_key(tmp_path).with_suffix('.pub').read_text()}")
    ssh = SshTransport(host=host, port=port, user=sshd.user, key_file=key, known_hosts=known, ssh_config="none",
                       connect_timeout_s=5, label="board b", **kw)
    t0 = time.monotonic()
    with pytest.raises(SshConnectionError, match="board b failed, not retried"):
        ssh.run(["true"], 10)
    # before the classification: 6 attempts with 1+2+3+4+5 s of pauses
    assert time.monotonic() - t0 < 4 and len(ssh.log) == 1
    t1 = time.monotonic()
    with pytest.raises(SshConnectionError, match="board b is not tried again"):
        ssh.run(["true"], 10)
    assert time.monotonic() - t1 < 0.5


def test_silent_port_costs_one_connect_timeout(tmp_path):
    with silent_port() as port:
        ssh = SshTransport(host="127.0.0.1", port=port, ssh_config="none", connect_timeout_s=2, retries=2,
                           retry_delay_s=1.0, label="board quiet")
        t0 = time.monotonic()
        with pytest.raises(SshConnectionError, match="does not speak SSH") as err:
            ssh.run(["true"], 10)
        elapsed = time.monotonic() - t0
    assert 1.5 < elapsed < 4.5, elapsed  # one ConnectTimeout; before: 3 of them and 3 s of pauses
    assert "banner exchange" in str(err.value) and "127.0.0.1" not in str(err.value)


@pytest.mark.parametrize("stderr, permanent", [
    ("ssh: connect to host b port 22: Connection refused", True),
    ("ssh: Could not resolve hostname b: Name or service not known", True),
    ("ssh: connect to host 10.1.2.3 port 22: Connection timed out", True),
    ("ssh: connect to host 10.1.2.3 port 22: No route to host", True),
    ("root@b: Permission denied (publickey).", True),
    ("@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@\nHost key verification failed.", True),
    ("Unable to negotiate with b port 22: no matching key exchange method found.", True),
    ("Connection to b closed by remote host.", False),
    ("client_loop: send disconnect: Broken pipe", False),
    ("Timeout, server b not responding.", False),
    ("kex_exchange_identification: read: Connection reset by peer", False),
    ("kex_exchange_identification: Connection closed by remote host", False),
    # the remote command's own words, before ssh's last line, do not count
    ("tool: permission denied\nline\nline\nConnection to b closed by remote host.", False),
    ("", False),
])
def test_classify_reads_sshs_own_last_lines(stderr, permanent):
    assert (classify(stderr) is not None) == permanent


def test_options_are_bounded():
    for bad in ({"retries": 6}, {"retries": -1}, {"connect_timeout_s": float("inf")},
                {"connect_timeout_s": float("nan")}, {"connect_timeout_s": 0}, {"connect_timeout_s": 3601},
                {"port": 0}, {"port": 65536}):
        with pytest.raises(ValueError):
            SshTransport(host="b", **bad)


def test_ssh_arguments_give_each_option_once_and_the_host_after_a_double_dash():
    ssh = SshTransport(host="evk", user="root", port=2222, proxy_jump="me@gw.lan:2200",
                       extra_options=("ServerAliveInterval=9", "Ciphers=aes128-ctr"))
    args = ssh.ssh_args()
    options = [args[i + 1] for i, a in enumerate(args) if a == "-o"]
    keys = [o.split("=")[0] for o in options]
    assert len(keys) == len(set(keys))
    assert {"ServerAliveInterval=9", "Ciphers=aes128-ctr", "ProxyJump=me@gw.lan:2200", "BatchMode=yes"} <= set(options)
    assert args[-2:] == ["--", "evk"]
