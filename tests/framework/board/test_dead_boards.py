"""Boards given up on, remembered for the rest of a run across stage processes (no network)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import pytest
from zoo_bench.board.dead_boards import RUN_ID_ENV, DeadBoards, run_identity, state_root
from zoo_bench.board.ssh import SshConnectionError, SshTransport


@pytest.fixture
def temp_root(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv(RUN_ID_ENV, raising=False)
    return tmp_path


def test_the_first_failure_of_a_run_is_kept(temp_root):
    store = DeadBoards.for_this_run()
    key = DeadBoards.endpoint_key("10.0.0.7", 22, "root")
    assert store.first_failure(key) is None
    store.mark(key, "first")
    store.mark(key, "second")
    assert DeadBoards.for_this_run().first_failure(key) == "first"
    assert "10.0.0.7" not in str(list(store.directory.iterdir()))  # no address in file names


def test_a_stage_worker_belongs_to_its_parents_run(temp_root, monkeypatch):
    assert run_identity(worker=True).startswith(f"pid-{os.getppid()}-")
    assert run_identity(worker=False).startswith(f"pid-{os.getpid()}-")
    monkeypatch.setenv(RUN_ID_ENV, "nightly/42")
    assert run_identity() == "id-nightly_42"


def test_a_later_process_of_the_run_fails_at_once_with_the_first_message(temp_root, monkeypatch):
    monkeypatch.setenv(RUN_ID_ENV, "run-a")
    ssh = SshTransport(host="127.0.0.1", port=1, ssh_config="none", label="board x", retries=0,
                       dead_boards=DeadBoards.for_this_run())
    with pytest.raises(SshConnectionError, match="not retried"):
        ssh.run(["true"], 5)
    code = ("import sys; from zoo_bench.board.dead_boards import DeadBoards; from zoo_bench.board.ssh import *\n"
            "t = SshTransport(host='127.0.0.1', port=1, ssh_config='none', label='board x', retries=0,"
            " dead_boards=DeadBoards.for_this_run())\n"
            "try:\n    t.run(['true'], 5)\nexcept SshConnectionError as e:\n    print(e)\n")
    env = dict(os.environ, TMPDIR=str(temp_root))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60).stdout
    assert out.startswith("board x is not tried again (earlier in this run: connection to board x failed, not retried")
    env[RUN_ID_ENV] = "run-b"  # another run tries again
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60).stdout
    assert out.startswith("connection to board x failed, not retried")


def test_markers_of_finished_runs_are_pruned(temp_root):
    root = state_root()
    finished = root / "pid-999999999-1"
    finished.mkdir()
    DeadBoards.for_this_run().mark("k", "down")
    assert not finished.exists() and (root / run_identity()).is_dir()


def test_a_marker_directory_others_can_write_is_not_used(temp_root):
    root = state_root()
    root.chmod(0o777)
    assert state_root() is None and DeadBoards.for_this_run().first_failure("k") is None
