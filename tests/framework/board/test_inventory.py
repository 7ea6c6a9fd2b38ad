"""boards.toml parsing and board selection (no network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from zoo_bench import ToolUnavailable, UsageError
from zoo_bench.board.inventory import BOARDS_ENV, boards_file, load_boards, no_board_reason, select_board

FULL = """
[boards.evk93]
target = "imx93"
host = "10.0.0.7"
user = "root"
port = 2222
key_file = "keys/id_ed25519"
bsp = "LF6.6.23_2.0.0"
benchmark_model = "/usr/bin/tensorflow-lite-2.16.2/examples/benchmark_model"
delegates = { ethosu = "/opt/lib/libethosu_delegate.so" }
host_key_checking = "accept-new"

[boards.evk8mp]
target = "imx8mp"
host = "evk8mp.lan"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "boards.toml"
    path.write_text(text)
    return path


def test_full_file_is_parsed_with_paths_relative_to_it(tmp_path):
    boards = load_boards(write(tmp_path, FULL))
    assert list(boards) == ["evk93", "evk8mp"]
    b = boards["evk93"]
    assert (b.target, b.host, b.user, b.port, b.bsp) == ("imx93", "10.0.0.7", "root", 2222, "LF6.6.23_2.0.0")
    assert b.key_file == tmp_path / "keys" / "id_ed25519"
    assert b.delegate_path("ethosu") == "/opt/lib/libethosu_delegate.so"
    assert b.delegate_path("vx", "/usr/lib/libvx_delegate.so") == "/usr/lib/libvx_delegate.so"
    assert b.resolved_runtime() == "benchmark_model"
    assert boards["evk8mp"].resolved_runtime() == "python"
    args = b.transport().ssh_args()
    assert ["-p", "2222"] == args[args.index("-p"):args.index("-p") + 2]
    assert "StrictHostKeyChecking=accept-new" in args and "BatchMode=yes" in args


def test_public_facts_leave_out_host_user_and_key(tmp_path):
    b = load_boards(write(tmp_path, FULL))["evk93"]
    facts = json.dumps(b.public_facts())
    assert "evk93" in facts and "LF6.6.23_2.0.0" in facts
    for secret in ("10.0.0.7", "root", "id_ed25519", "2222"):
        assert secret not in facts


def test_password_is_refused_without_echoing_it(tmp_path):
    path = write(tmp_path, '[boards.b]\ntarget = "imx93"\nhost = "h"\npassword = "hunter2"\n')
    with pytest.raises(UsageError) as err:
        load_boards(path)
    assert "password" in str(err.value) and "hunter2" not in str(err.value)


@pytest.mark.parametrize("text, fragment", [
    ('[boards.b]\ntarget = "imx93"\nhost = "h"\nprot = 22\n', "unknown key 'prot' (did you mean port?"),
    ('[boards.b]\nhost = "h"\n', "'target' is required"),
    ('[boards.b]\ntarget = "imx93"\nhost = "-oProxyCommand=x"\n', "invalid SSH host"),
    ('[boards.b]\ntarget = "imx93"\nhost = "h"\nruntime = "java"\n', "runtime must be one of"),
    ('[board.b]\ntarget = "imx93"\n', "unknown top-level key(s) board"),
    ('[boards.b\n', "not valid TOML"),
])
def test_bad_files_name_the_problem(tmp_path, text, fragment):
    with pytest.raises(UsageError, match="boards") as err:
        load_boards(write(tmp_path, text))
    assert fragment in str(err.value)


def test_file_comes_from_option_then_env_then_user_config(tmp_path, monkeypatch):
    monkeypatch.delenv(BOARDS_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert boards_file({}) == tmp_path / "config" / "zoo-bench" / "boards.toml"
    monkeypatch.setenv(BOARDS_ENV, str(tmp_path / "env.toml"))
    assert boards_file({}) == tmp_path / "env.toml"
    assert boards_file({"boards": str(tmp_path / "opt.toml")}) == tmp_path / "opt.toml"


def test_boards_file_in_the_current_directory_is_not_read_unless_named(tmp_path, monkeypatch):
    """A cloned repository's ./boards.toml must not choose the boards (issue 7, item 3)."""
    monkeypatch.delenv(BOARDS_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)
    write(tmp_path, FULL)
    assert boards_file({}) != Path("boards.toml") and boards_file({}).resolve() != (tmp_path / "boards.toml")
    reason = no_board_reason({}, "imx93")
    assert "./boards.toml is not read unless named" in reason and "--boards boards.toml" in reason
    with pytest.raises(ToolUnavailable, match="not read unless named"):
        select_board({}, "imx93")
    assert select_board({"boards": "boards.toml"}, "imx93").id == "evk93"  # named: used


BOARD = '[boards.b]\ntarget = "imx93"\nhost = "evk"\n'


@pytest.mark.parametrize("line, fragment", [
    ('ssh_options = ["ProxyCommand=sh -c \'touch /tmp/pwn\'"]', "ProxyCommand is never allowed: it runs a local"),
    ('ssh_options = ["PermitLocalCommand=yes", "LocalCommand=touch /tmp/pwn"]', "PermitLocalCommand is never"),
    ('ssh_options = ["KnownHostsCommand=/bin/true"]', "KnownHostsCommand is never allowed"),
    ('ssh_options = ["Match=exec true"]', "Match is never allowed"),
    ('ssh_options = ["proxycommand=x"]', "proxycommand is never allowed"),
    ('ssh_options = ["PKCS11Provider=/tmp/evil.so"]', "loads a library"),
    ('ssh_options = ["Include=/tmp/more"]', "Include is never allowed"),
    ('ssh_options = ["ForwardAgent=yes"]', "ssh agent"),
    ('ssh_options = ["LocalForward=8080 localhost:80"]', "opens a port"),
    ('ssh_options = ["ProxyJump=gw"]', "use proxy_jump = ..."),
    ('ssh_options = ["StrictHostKeyChecking=no"]', "use host_key_checking = ..."),
    ('ssh_options = ["Ciphers=aes128-ctr ProxyCommand=x"]', "list of algorithm names"),
    ('ssh_options = ["ServerAliveInterval=-oProxyCommand=x"]', "whole number from 1 to 3600"),
    ('ssh_options = ["VisualHostKey=yes"]', "not on the list of ssh options zoo-bench allows"),
    ('ssh_options = ["Ciphers=aes128-ctr", "ciphers=aes256-ctr"]', "Ciphers is given twice"),
    ('ssh_config = "repo_ssh_config"', "ssh_config may only be \"none\""),
    ('proxy_jump = "-oProxyCommand=x"', "invalid SSH host"),
    ('proxy_jump = "gw;touch /tmp/x"', "invalid SSH host"),
    ('proxy_jump = "-l@gw"', "invalid SSH user"),
    ('proxy_jump = "gw:99999"', "port must be"),
    ('user = "-oProxyCommand=x"', "invalid SSH user"),
])
def test_ssh_settings_that_could_run_local_commands_are_refused(tmp_path, line, fragment):
    with pytest.raises(UsageError, match="boards") as err:
        load_boards(write(tmp_path, BOARD + line + "\n"))
    assert fragment in str(err.value)


@pytest.mark.parametrize("host", ["evk;touch${IFS}x", "$(id)", "evk 2", "-evk", "a`b`", "evk\\nx"])
def test_hosts_with_shell_or_option_syntax_are_refused(tmp_path, host):
    with pytest.raises(UsageError, match="invalid SSH host"):
        load_boards(write(tmp_path, f'[boards.b]\ntarget = "imx93"\nhost = "{host}"\n'))


def test_safe_ssh_settings_reach_the_command_line(tmp_path):
    text = BOARD + ('ssh_options = ["ServerAliveInterval=7", "kexalgorithms=curve25519-sha256", "TCPKeepAlive=yes"]\n'
                    'proxy_jump = "admin@gw.lan:2200,[fd00::1]:22"\nssh_config = "none"\n')
    args = load_boards(write(tmp_path, text))["b"].transport(remember=False).ssh_args()
    options = [args[i + 1] for i, a in enumerate(args) if a == "-o"]
    for expected in ("ServerAliveInterval=7", "KexAlgorithms=curve25519-sha256", "TCPKeepAlive=yes",
                     "ProxyJump=admin@gw.lan:2200,[fd00::1]:22", "BatchMode=yes"):
        assert expected in options
    assert sum(o.startswith("ServerAliveInterval=") for o in options) == 1
    assert args[args.index("-F") + 1] == "none" and args[-2:] == ["--", "evk"]


@pytest.mark.parametrize("line, fragment", [
    ("retries = 6", "retries must be a whole number from 0 to 5"),
    ("retries = -1", "retries must be a whole number from 0 to 5"),
    ("retries = true", "retries must be a whole number"),
    ("connect_timeout_s = inf", "connect_timeout_s must be a finite number"),
    ("connect_timeout_s = nan", "connect_timeout_s must be a finite number"),
    ("connect_timeout_s = 0", "> 0"),
    ("connect_timeout_s = 3601", "<= 3600"),
    ("port = 0", "port must be a whole number from 1 to 65535"),
    ("port = 65536", "port must be"),
    ('port = "22"', "port must be"),
])
def test_numbers_are_bounded_at_load(tmp_path, line, fragment):
    with pytest.raises(UsageError) as err:
        load_boards(write(tmp_path, BOARD + line + "\n"))
    assert fragment in str(err.value)


def test_skip_reasons_when_no_board_fits(tmp_path):
    missing = {"boards": str(tmp_path / "none.toml")}
    assert "not found" in no_board_reason(missing, "imx93") and "docs/boards.md" in no_board_reason(missing, "imx93")
    with pytest.raises(ToolUnavailable, match="not found"):
        select_board(missing, "imx93")
    only93 = {"boards": str(write(tmp_path, FULL.split("[boards.evk8mp]")[0]))}
    assert no_board_reason(only93, "imx93") is None
    assert no_board_reason(only93, "imx8mp") == f"no board for target imx8mp in {tmp_path / 'boards.toml'} " \
                                                "(see docs/boards.md)"


def test_board_option_picks_the_board_of_each_target(tmp_path):
    opts = {"boards": str(write(tmp_path, FULL)), "board": "evk8mp,evk93"}
    assert select_board(opts, "imx93").id == "evk93"
    assert select_board(opts, "imx8mp").id == "evk8mp"
    assert "among the boards evk8mp" in no_board_reason(dict(opts, board="evk8mp"), "imx93")
    with pytest.raises(UsageError, match="no board 'nope'"):
        select_board(dict(opts, board="nope"), "imx93")
    assert no_board_reason(dict(opts, board="nope"), "imx93") is None  # fails at run time, loudly
