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
    ('[boards.b]\ntarget = "imx93"\nhost = "h"\nprot = 22\n', "unknown key(s) prot"),
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


def test_file_comes_from_option_then_env_then_cwd(tmp_path, monkeypatch):
    monkeypatch.delenv(BOARDS_ENV, raising=False)
    assert boards_file({}) == Path("boards.toml")
    monkeypatch.setenv(BOARDS_ENV, str(tmp_path / "env.toml"))
    assert boards_file({}) == tmp_path / "env.toml"
    assert boards_file({"boards": str(tmp_path / "opt.toml")}) == tmp_path / "opt.toml"


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
