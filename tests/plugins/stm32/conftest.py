"""Fixtures of the STM32 plugin tests: report files, a tiny int8 model, a StageContext factory and
a fake ``stedgeai`` that replays a public report.

The report files in ``reports/`` follow public stedgeai reports (each test module cites its
source); the numbers in them are those reports' numbers unless a test says otherwise.
"""

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
from zoo_bench_stm32.targets import stm32_targets

HERE = Path(__file__).resolve().parent
REPORTS = HERE / "reports"
TINY_MODELS = HERE.parent / "nxp_imx" / "tiny_models.py"
TARGETS = {t.id: t for t in stm32_targets()}

#: A stand-in for the proprietary ``stedgeai``: prints the banner of ST's doc ("setting_env") for
#: --version, and for ``generate`` copies the report files named by $FAKE_STEDGEAI_REPORTS into
#: --output, as the real tool writes them there (network_generate_report.txt, network_c_info.json).
FAKE_STEDGEAI = """#!{python}
import os, shutil, sys
args = sys.argv[1:]
with open(os.environ.get("FAKE_STEDGEAI_LOG", os.devnull), "a") as log:
    log.write(" ".join(args) + "\\n")
if args[:1] == ["--version"]:
    print("ST Edge AI Core v2.0.0-A1")
    print("    ISPU 1.1.0")
    print("    MLC 1.1.0")
    print("    StellarStudioAI 2.0.0")
    print("    STM32CubeAI 10.0.0")
    print("    STM32MP2 1.0")
    sys.exit(0)
out = args[args.index("--output") + 1]
os.makedirs(out, exist_ok=True)
for item in os.environ["FAKE_STEDGEAI_REPORTS"].split(os.pathsep):
    src, _, name = item.partition("=")
    shutil.copyfile(src, os.path.join(out, name))
print("elapsed time (generate): 1.0s")
"""


@pytest.fixture
def fake_stedgeai(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, str]], Path]:
    """Put an executable ``stedgeai`` on PATH that replays ``{written name: report file}``."""

    def install(reports: dict[str, str]) -> Path:
        bindir = tmp_path / "bin"
        bindir.mkdir(exist_ok=True)
        exe = bindir / "stedgeai"
        exe.write_text(FAKE_STEDGEAI.format(python=sys.executable))
        exe.chmod(0o755)
        monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
        monkeypatch.delenv("STEDGEAI", raising=False)
        monkeypatch.setenv("FAKE_STEDGEAI_REPORTS",
                           os.pathsep.join(f"{REPORTS / src}={name}" for name, src in reports.items()))
        monkeypatch.setenv("FAKE_STEDGEAI_LOG", str(tmp_path / "stedgeai_calls.log"))
        return exe

    return install


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``tiny_int8`` and ``tiny_int8_float_out`` (.tflite) from the NXP tests' builder."""
    pytest.importorskip("tensorflow", reason="building the test models needs tensorflow (zoo-bench[host])")
    out = tmp_path_factory.mktemp("stm32_tiny_models")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, str(TINY_MODELS), str(out)], capture_output=True, text=True,
                          timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {p.stem: p for p in out.glob("*.tflite")}


@pytest.fixture
def make_ctx(tmp_path: Path) -> Callable[..., StageContext]:
    """A StageContext for one stage of the ``tiny`` model on an STM32 target."""

    def make(artifact_path: Path, *, target: str = "stm32h7", fmt: str = "tflite",
             options: dict[str, Any] | None = None, stage_id: str = "stage") -> StageContext:
        spec = ModelSpec(name="tiny", source="test", family="tiny", resolution=32, native_format="keras", classes=10)
        artifact = Artifact(path=artifact_path, format=fmt, precision="int8")
        return make_context(spec, tmp_path / "work" / stage_id.replace(":", "_"), inputs={"upstream": artifact},
                            options=options, target=TARGETS[target], stage_id=stage_id)

    return make
