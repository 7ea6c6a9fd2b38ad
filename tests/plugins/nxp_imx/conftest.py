"""Fixtures of the NXP plugin tests: small int8 models, a StageContext factory, a loopback board."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from zoo_bench import Artifact, ModelSpec, StageContext
from zoo_bench.testing import make_context
from zoo_bench_nxp_imx.targets import imx_targets

HERE = Path(__file__).resolve().parent
TARGETS = {t.id: t for t in imx_targets()}


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``tiny_int8`` (int8 in and out) and ``tiny_int8_float_out`` (.tflite files)."""
    pytest.importorskip("tensorflow", reason="building the test models needs tensorflow (zoo-bench[host])")
    out = tmp_path_factory.mktemp("tiny_models")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, str(HERE / "tiny_models.py"), str(out)], capture_output=True,
                          text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {p.stem: p for p in out.glob("*.tflite")}


@pytest.fixture
def make_ctx(tmp_path: Path) -> Callable[..., StageContext]:
    """A StageContext for one stage of the ``tiny`` model on an i.MX target."""

    def make(artifact_path: Path, *, target: str = "imx93", fmt: str = "tflite", options: dict[str, Any] | None = None,
             stage_id: str = "stage") -> StageContext:
        spec = ModelSpec(name="tiny", source="test", family="tiny", resolution=32, native_format="keras", classes=10)
        artifact = Artifact(path=artifact_path, format=fmt, precision="int8")
        return make_context(spec, tmp_path / "work" / stage_id.replace(":", "_"), inputs={"upstream": artifact},
                            options=options, target=TARGETS[target], stage_id=stage_id)

    return make


@pytest.fixture
def loopback_boards(sshd, tmp_path: Path, board_python: str) -> Path:
    """boards.toml with this machine, reached over the loopback sshd, as an i.MX 93 and an i.MX 8M Plus
    whose runtime is the Python of the test run (it has LiteRT)."""
    path = tmp_path / "boards.toml"
    workdir = tmp_path / "board-workdir"
    common = {"bsp": "loopback-test", "python": board_python, "workdir": str(workdir), "retries": 1}
    path.write_text(sshd.board_table("loop93", "imx93", **common) + "\n"
                    + sshd.board_table("loop8mp", "imx8mp", **common))
    return path
