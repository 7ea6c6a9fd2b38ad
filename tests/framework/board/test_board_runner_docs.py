"""The board runner of docs/boards.md ("Writing a board runner"), run the way its author would:
its own project, its own tests using zoo_bench.testing's loopback board (a real sshd on
127.0.0.1 and the stand-in benchmark_model of zoo_bench.board.loopback, not the real tool).
The code is taken from the docs, so the docs cannot drift from what works."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
from zoo_bench import Artifact, ModelSpec, UsageError
from zoo_bench.board.inventory import load_boards
from zoo_bench.board.loopback import STAND_IN_INIT_MS, STAND_IN_RUN_US, LoopbackBoard, sshd_missing
from zoo_bench.board.session import BoardTimeout
from zoo_bench.testing import run_stage

DOCS = Path(__file__).resolve().parents[3] / "docs" / "boards.md"


def example(name: str) -> str:
    """The fenced block after ``<!-- example: NAME -->`` in docs/boards.md."""
    match = re.search(rf"<!-- example: {re.escape(name)} -->\n```python\n(.*?)```", DOCS.read_text(), re.S)
    assert match, f"docs/boards.md has no example {name}"
    return match.group(1)


@pytest.fixture(scope="module")
def acme(tmp_path_factory):
    """The docs' plugin module, imported from a file of its own."""
    path = tmp_path_factory.mktemp("acme") / "acme_board.py"
    path.write_text(example("acme_board.py"))
    spec = importlib.util.spec_from_file_location("acme_board", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["acme_board"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("acme_board", None)


def test_the_docs_plugin_passes_its_own_tests_in_a_project_of_its_own(tmp_path, sshd):
    project = tmp_path / "acme-plugin"
    (project / "tests").mkdir(parents=True)
    (project / "acme_board.py").write_text(example("acme_board.py"))
    (project / "tests" / "conftest.py").write_text('pytest_plugins = ["zoo_bench.testing"]\n')
    (project / "tests" / "test_acme_board.py").write_text(example("test_acme_board.py"))
    (project / "pytest.ini").write_text("[pytest]\npythonpath = .\n")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=project,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout


def stage(acme, tmp_path, boards, **options):
    path = tmp_path / "tiny.tflite"
    path.write_bytes(b"not a real model")
    model = ModelSpec(name="tiny", source="test", family="tiny", resolution=8, native_format="tflite")
    target = acme.AcmeTarget(id="acme1", vendor="acme", device_class="NPU")
    return run_stage(acme.AcmeBoardRunner(), model, tmp_path / "stage", target=target,
                     inputs=[Artifact(path=path, format="tflite", precision="int8")],
                     options={"boards": str(boards), "delegate": "none", **options})


def test_declared_board_keys_are_typed_and_a_typo_names_the_close_match(acme, tmp_path, sshd):
    board = LoopbackBoard(sshd, tmp_path / "b")
    assert load_boards(board.boards_toml("acme1"))["loop"].setting("acme_sdk") == "/opt/acme-sdk"  # its default
    assert load_boards(board.boards_toml("acme1", acme_sdk="/x"))["loop"].setting("acme_sdk") == "/x"
    with pytest.raises(UsageError, match=r"unknown key 'acme_skd' \(did you mean acme_sdk\?"):
        load_boards(board.boards_toml("acme1", acme_skd="/x"))
    with pytest.raises(UsageError, match=r"acme_sdk \(declared by acme_board\)"):
        load_boards(board.boards_toml("acme1", acme_sdk=3))


def test_a_hanging_benchmark_is_a_board_timeout_and_the_board_is_cleaned(acme, tmp_path, sshd):
    board = LoopbackBoard(sshd, tmp_path / "b")
    hang = tmp_path / "hang.sh"
    hang.write_text("#!/bin/sh\nsleep 30\n")
    hang.chmod(0o755)
    with pytest.raises(BoardTimeout, match="did not finish within 2 s"):
        stage(acme, tmp_path, board.boards_toml("acme1", benchmark_model=str(hang)), board_timeout=2)
    assert list(board.workdir.iterdir()) == []


def test_sshd_missing_says_how_to_install():
    reason = sshd_missing()
    assert reason is None or "openssh-server" in reason


def test_plugins_verbose_lists_the_keys_a_board_runner_declares(tmp_path):
    from tests.conftest import run_cli

    proc = run_cli(["plugins", "-v"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "boards.toml key xlinuxai_benchmark: str, default x-linux-ai-benchmark" in proc.stdout


def test_loopback_board_without_pytest_fixtures(acme, tmp_path):
    """zoo_bench.testing.loopback_board: a private server for scripts and other test runners."""
    from zoo_bench.testing import loopback_board

    if sshd_missing():
        pytest.skip(sshd_missing())
    with loopback_board(tmp_path / "lb") as board:
        figures = {f.metric: f for f in stage(acme, tmp_path, board.boards_toml("acme1"), warmup=2, runs=10).figures}
        server = board.sshd
    assert server.proc.poll() is not None  # stopped on exit
    assert figures["first_inference_ms"].value == 9.0  # the stand-in's first warm-up run: 9000 us
    assert figures["init_ms"].value == STAND_IN_INIT_MS
    assert figures["latency_min_ms"].value == STAND_IN_RUN_US / 1000
    assert figures["latency_mean_ms"].extra["warmup"] == 2
    assert "--warmup_runs=2" in board.calls()[0]
