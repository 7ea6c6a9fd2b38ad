"""The rdk_board runner against the loopback OpenSSH server (tests/fixtures/sshd.py): this machine
plays the RDK X5 and the board-side command is fake_hrt_model_exec.py, a real program that prints in
hrt_model_exec's documented format but is NOT the real tool (which runs only on the board)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from zoo_bench import Artifact
from zoo_bench.board.session import BoardCommandFailed
from zoo_bench_rdk_x5.board_runner import RdkBoardRunner

from .conftest import TARGET

FAKE_TOOL = Path(__file__).with_name("fake_hrt_model_exec.py")


@pytest.fixture
def board_tool(tmp_path: Path) -> Path:
    """The stand-in as an executable (the runner calls it as `TOOL perf ...`, like hrt_model_exec)."""
    tool = tmp_path / "hrt_model_exec"
    tool.write_text(f"#!{sys.executable}\n" + FAKE_TOOL.read_text())
    tool.chmod(0o755)
    return tool


@pytest.fixture
def x5_boards(sshd, tmp_path: Path) -> Path:
    path = tmp_path / "boards.toml"
    path.write_text(sshd.board_table("loopx5", "rdk_x5", bsp="loopback-test", workdir=str(tmp_path / "board-wd"),
                                     retries=1))
    return path


def test_perf_on_the_loopback_board(make_ctx, x5_boards, board_tool, sshd, tmp_path):
    model = tmp_path / "model_224x224_nv12.bin"
    model.write_bytes(b"\0" * 200_000)
    opts = {"boards": str(x5_boards), "threads": 4, "frame_count": 30, "hrt_model_exec": str(board_tool)}
    out = RdkBoardRunner().run(make_ctx(Artifact(model, "hbm-bin", precision="int8"), options=opts))
    figs = {f.metric: f for f in out.figures}
    assert set(figs) == {"latency_mean_ms", "inferences_per_s", "latency_min_ms", "latency_max_ms"}
    mean = figs["latency_mean_ms"]
    assert mean.method == "measured-board" and mean.tool == "hrt_model_exec"
    assert mean.tool_version == "0.0.0_(loopback stand-in)"
    assert figs["latency_min_ms"].value <= mean.value <= figs["latency_max_ms"].value
    assert 0 < mean.value < 1000 and figs["inferences_per_s"].value > 0
    extra = mean.extra
    assert (extra["threads"], extra["frame_count"], extra["board"], extra["target"], extra["runtime"]) == \
        (4, 30, "loopx5", "rdk_x5", "hrt_model_exec")
    stored = json.dumps([f.extra for f in out.figures])
    assert str(sshd.port) not in stored and str(sshd.key_file) not in stored
    assert list((tmp_path / "board-wd").iterdir()) == []  # the run directory was removed from the board


def test_missing_tool_on_the_board_fails_with_its_error(make_ctx, x5_boards, tmp_path):
    model = tmp_path / "m.bin"
    model.write_bytes(b"\0" * 10)
    opts = {"boards": str(x5_boards), "hrt_model_exec": "/nonexistent/hrt_model_exec"}
    with pytest.raises(BoardCommandFailed, match="hrt_model_exec"):
        RdkBoardRunner().run(make_ctx(Artifact(model, "hbm-bin"), options=opts))


def test_without_a_board_the_stage_is_skipped_with_how_to(tmp_path):
    reason = RdkBoardRunner().unavailable_reason(TARGET, {"boards": str(tmp_path / "none.toml")})
    assert "no board for target rdk_x5" in reason and "docs/boards.md" in reason
    other = tmp_path / "boards.toml"
    other.write_text('[boards.evk]\ntarget = "imx93"\nhost = "10.0.0.2"\n')
    assert "no board for target rdk_x5" in RdkBoardRunner().unavailable_reason(TARGET, {"boards": str(other)})
