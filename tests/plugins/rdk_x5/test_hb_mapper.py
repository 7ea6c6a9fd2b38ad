"""The hb_mapper stages: hb_mapper_setup writes a self-contained project (ONNX copy, YAML, calibration
files) without the toolchain; hb_mapper skips with a reason that says how to provide the toolchain, and
with one drives checker + makertbin. The toolchain cannot run here (CPython 3.10 only): the driving test
uses fake_hb_mapper.py, a stand-in that replays D-Robotics' public logs (labelled in that file)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from zoo_bench import Artifact, ToolUnavailable
from zoo_bench_rdk_x5 import hb_config, toolchain
from zoo_bench_rdk_x5.hb_mapper import HbMapperCompiler, HbMapperSetup

yaml = pytest.importorskip("yaml")
FAKE = Path(__file__).with_name("fake_hb_mapper.py")


@pytest.fixture
def project(tiny_onnx, make_ctx) -> Artifact:
    ctx = make_ctx(Artifact(tiny_onnx, "onnx"), options={"calibration_images": 5}, stage_id="quantize:setup")
    return HbMapperSetup().quantize(ctx).artifact


def test_setup_writes_a_portable_project(project, tiny_onnx):
    root = project.path.parent
    assert project.format == "hb-mapper-project" and all(f.is_file() for f in project.files.values())
    config = yaml.safe_load(project.path.read_text())
    assert config["model_parameters"]["onnx_model"] == "./tiny.onnx"
    # the tiny model is opset 17: relabelled 11 (its operators are the same there), as hb_mapper needs
    import onnx

    assert onnx.load(str(root / "tiny.onnx")).opset_import[0].version == 11
    assert onnx.load(str(root / "tiny.onnx")).graph == onnx.load(str(tiny_onnx)).graph
    assert "relabelled 11" in project.meta["exporter"] and project.meta["onnx_opset"] == 11
    cal = sorted((root / config["calibration_parameters"]["cal_data_dir"]).iterdir())
    assert len(cal) == 5 and project.meta["calibration_images"] == 5
    x = hb_config.read_calibration(cal[0], 16, 16)
    # pixel values before mean/scale (random-pixel fallback: no --dataset)
    assert 0 <= x.min() and x.max() <= 255 and x.max() > 100
    assert "random pixels" in project.meta["calibration"]


def test_setup_calibrates_on_dataset_images(tiny_onnx, make_ctx, tmp_path):
    pil = pytest.importorskip("PIL.Image")
    for label, colour in (("0", (250, 10, 10)), ("1", (10, 10, 250))):
        (tmp_path / "ds" / label).mkdir(parents=True)
        pil.new("RGB", (20, 24), colour).save(tmp_path / "ds" / label / "a.png")
    ctx = make_ctx(Artifact(tiny_onnx, "onnx"), options={"dataset": str(tmp_path / "ds"), "calibration_images": 2})
    art = HbMapperSetup().quantize(ctx).artifact
    files = sorted(f for name, f in art.files.items() if name.startswith("calibration/"))
    red, blue = (hb_config.read_calibration(f, 16, 16)[0] for f in files)
    assert np.allclose(red[0], 250) and np.allclose(red[2], 10)  # RGB order, NCHW, unnormalised
    assert np.allclose(blue[2], 250)


def test_compile_is_skipped_with_how_to_without_the_toolchain(monkeypatch, tmp_path):
    monkeypatch.delenv(toolchain.HORIZON_PYTHON_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    reason = HbMapperCompiler().unavailable_reason(None, {})
    assert "hb_mapper" in reason and "toolchain_python" in reason and "rdkx5-yolo-mapper" in reason
    not_python = tmp_path / "python3.10"
    not_python.write_text("")
    reason = HbMapperCompiler().unavailable_reason(None, {"toolchain_python": str(not_python)})
    assert "not an executable Python interpreter" in reason
    monkeypatch.setenv(toolchain.HORIZON_PYTHON_ENV, str(tmp_path / "missing"))
    assert "$ZOO_BENCH_HORIZON_PYTHON" in HbMapperCompiler().unavailable_reason(None, {})


def test_compile_raises_tool_unavailable_when_called_anyway(project, make_ctx, monkeypatch, tmp_path):
    monkeypatch.delenv(toolchain.HORIZON_PYTHON_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolUnavailable, match="zoo-bench toolchain install horizon"):
        HbMapperCompiler().compile(make_ctx(project, stage_id="compile:hb_mapper"))


def test_compile_drives_checker_and_makertbin(project, make_ctx, monkeypatch, tmp_path):
    bin_dir = tmp_path / "toolchain-bin"
    bin_dir.mkdir()
    exe = bin_dir / "hb_mapper"
    exe.write_text(f"#!{sys.executable}\n" + FAKE.read_text().replace(
        "Path(__file__).resolve().parent / \"data\"", f"Path({str(FAKE.parent / 'data')!r})"))
    exe.chmod(0o755)
    monkeypatch.delenv(toolchain.HORIZON_PYTHON_ENV, raising=False)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    assert HbMapperCompiler().unavailable_reason(None, {}) is None
    out = HbMapperCompiler().compile(make_ctx(project, stage_id="compile:hb_mapper"))
    art = out.artifact
    assert art.format == "hbm-bin" and art.precision == "int8" and art.path.name == "tiny_16x16_nv12.bin"
    assert art.meta["toolchain"]["hb_mapper"] == "1.24.3"
    assert art.meta["checker_cpu_nodes"] == ["/linear/Gemm_reshape_output"]
    run_config = yaml.safe_load(art.files["config"].read_text())
    assert Path(run_config["model_parameters"]["onnx_model"]).is_absolute()
    figs = {f.metric: f for f in out.figures}
    assert figs["latency_mean_ms"].method == "tool-estimate" and figs["latency_mean_ms"].tool_version == "1.24.3"
    assert figs["model_size_kib"].method == "measured-host"
    assert figs["model_size_kib"].value == pytest.approx(1200 / 1024)


def test_a_makertbin_that_outlives_its_timeout_fails_without_a_bin(project, make_ctx, monkeypatch, tmp_path):
    from zoo_bench_rdk_x5.hb_mapper import HbMapperFailed

    bin_dir = tmp_path / "slow-bin"
    bin_dir.mkdir()
    exe = bin_dir / "hb_mapper"
    exe.write_text(f"#!{sys.executable}\nimport sys, time\nprint('started', flush=True)\n"
                   "if sys.argv[1] == 'makertbin':\n    time.sleep(30)\n")
    exe.chmod(0o755)
    monkeypatch.delenv(toolchain.HORIZON_PYTHON_ENV, raising=False)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    ctx = make_ctx(project, stage_id="compile:hb_mapper", options={"hb_mapper_timeout": 1, "run_checker": False})
    with pytest.raises(HbMapperFailed, match="did not finish within 1 s"):
        HbMapperCompiler().compile(ctx)
    assert not list(ctx.workdir.rglob("*.bin"))  # and the stage's staging folder never reaches the cache


def test_a_rejected_model_fails_with_the_toolchains_own_line(project, make_ctx, monkeypatch, tmp_path):
    from zoo_bench_rdk_x5.hb_mapper import HbMapperFailed

    real_log = (FAKE.parent / "data" / "real" / "checker_opset17_rejected.log").read_text()
    bin_dir = tmp_path / "rejecting-bin"
    bin_dir.mkdir()
    exe = bin_dir / "hb_mapper"
    exe.write_text(f"#!{sys.executable}\nimport sys\nfrom pathlib import Path\n"
                   f"Path('hb_mapper_checker.log').write_text({real_log!r})\nsys.exit(255)\n")
    exe.chmod(0o755)
    monkeypatch.delenv(toolchain.HORIZON_PYTHON_ENV, raising=False)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    logged: list[str] = []
    ctx = make_ctx(project, stage_id="compile:hb_mapper")
    monkeypatch.setattr(type(ctx), "log", lambda self, message: logged.append(message))
    with pytest.raises(HbMapperFailed) as exc:
        HbMapperCompiler().compile(ctx)
    assert str(exc.value) == ("hb_mapper checker exited with status 255: *** ERROR-OCCUR-DURING "
                              "{horizon_nn.build_onnx} ***, error message: The opset version of the model is 17, "
                              "the maximum supported version is 11.")
    assert any("hb_mapper checker log:" in m and "Traceback" in m for m in logged)  # the whole log is kept
