"""Cache keys are complete by construction (issue 8): each thing that produced an output is in
its key, so changing it is a miss. Most tests compute keys in process; one runs the CLI with a
plugin installed as a (fake, on-disk) distribution whose version changes."""

from __future__ import annotations

import importlib.util
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest
from zoo_bench import stage_key as stage_key_module
from zoo_bench.components import Runner
from zoo_bench.execute import ExecutionOptions, LocalExecutor
from zoo_bench.options import Option
from zoo_bench.plan import plan_jobs, resolve_models, resolve_targets
from zoo_bench.store import ResultsStore

from tests.conftest import FAKES, run_cli
from tests.framework.test_harness import calls


@pytest.fixture
def keyed(tmp_path, fake_registry):
    """A function giving the key of the fake job's run stage for a component and options."""
    executor = LocalExecutor(fake_registry, ResultsStore(tmp_path / "out"),
                             ExecutionOptions(cache_dir=tmp_path / "cache"))
    (job,) = plan_jobs(resolve_models(["fake_tiny"], fake_registry), resolve_targets(["fake_a"], fake_registry))
    spec = next(s for s in job.stages if s.kind == "run")

    def key(component=None, options=None) -> str:
        comp = component or fake_registry.component("run", spec.component)
        return executor.stage_key(job, spec, comp, dict(options or {}), ["0" * 64])

    return key


def _same_size_same_mtime_edit(path: Path, text: str) -> None:
    """Rewrite ``path`` with ``text`` (same length) and give it back its old mtime: only the
    content differs, which a size+mtime fingerprint would not see."""
    st = path.stat()
    assert len(text.encode()) == st.st_size
    # the kernel's file clock ticks every few ms: let the rewrite get a ctime of its own (the
    # per-process hash memo re-hashes a file whose ctime changed)
    time.sleep(0.05)
    path.write_text(text)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_the_provider_version_is_in_the_key(keyed, fake_registry):
    info = fake_registry.provider_info("run", "fake_numpy")
    assert info is not None and info.name == "fake"
    info.distribution, info.version = "zb-fake", "1.0"
    before = keyed()
    info.version = "1.1"
    assert keyed() != before


def test_the_zoo_bench_version_is_in_the_key(keyed, monkeypatch):
    before = keyed()
    monkeypatch.setattr(stage_key_module, "ZOO_BENCH_VERSION", "999.0")
    assert keyed() != before


def test_an_edited_plugin_without_a_distribution_is_a_miss(tmp_path, keyed, monkeypatch):
    plugin = tmp_path / "edited" / "zb_edited.py"
    plugin.parent.mkdir()
    plugin.write_text(textwrap.dedent('''
        from zoo_bench import Runner

        class EditedRunner(Runner):
            """version A"""
            name = "fake_numpy"
    '''))
    spec = importlib.util.spec_from_file_location("zb_edited", plugin)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "zb_edited", module)  # imported, as a loaded plugin's module is
    spec.loader.exec_module(module)
    component = module.EditedRunner()
    before = keyed(component)
    _same_size_same_mtime_edit(plugin, plugin.read_text().replace("version A", "version B"))
    assert keyed(component) != before


class IniRunner(Runner):
    """Reads a config file by default and a path option."""

    name = "fake_numpy"
    options = {"table": Option("path", help="a lookup table"), "runs": Option("int", default=5)}
    default_ini: Path = Path("/nonexistent")

    def input_files(self, options):
        return [self.default_ini]


def test_a_declared_input_file_enters_by_content(tmp_path, keyed):
    runner = IniRunner()
    runner.default_ini = tmp_path / "board.ini"
    runner.default_ini.write_text("[npu]\nmacs=256\n")
    before = keyed(runner)
    _same_size_same_mtime_edit(runner.default_ini, "[npu]\nmacs=128\n")
    assert keyed(runner) != before


def test_a_path_option_enters_by_content_even_without_a_slash(tmp_path, keyed, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "table.bin").write_bytes(b"\x01\x02\x03\x04")
    before = keyed(IniRunner(), {"table": "table.bin"})
    _same_size_same_mtime_edit(tmp_path / "table.bin", "\x05\x06\x07\x08")
    assert keyed(IniRunner(), {"table": "table.bin"}) != before
    # a plain string option naming a file (no declaration, no separator) is hashed too
    plain = keyed(None, {"sleep_s": "table.bin"})
    _same_size_same_mtime_edit(tmp_path / "table.bin", "\x01\x02\x03\x04")
    assert keyed(None, {"sleep_s": "table.bin"}) != plain


def test_vela_declares_its_default_ini_and_its_content_changes_the_key(tmp_path, keyed):
    pytest.importorskip("zoo_bench_nxp_imx")
    from zoo_bench_nxp_imx.vela import IMX93_VELA_INI, VelaCompiler

    vela = VelaCompiler()
    assert vela.input_files({}) == [IMX93_VELA_INI]
    ini = tmp_path / "my_vela.ini"
    ini.write_text(IMX93_VELA_INI.read_text())
    assert vela.input_files({"vela_config": f"{ini},Arm/vela.ini"}) == [ini]
    before = keyed(vela, {"vela_config": f"{ini},Arm/vela.ini"})
    ini.write_text(IMX93_VELA_INI.read_text() + "\n; edited\n")
    assert keyed(vela, {"vela_config": f"{ini},Arm/vela.ini"}) != before


def test_the_accuracy_evaluator_reports_its_runtime_versions():
    from zoo_bench.builtin.accuracy import AccuracyEvaluator
    from zoo_bench.tools import dist_version

    versions = AccuracyEvaluator().tool_versions()
    assert versions["numpy"] == dist_version("numpy") != "not installed"
    assert {"pillow", "ai-edge-litert", "onnxruntime"} <= set(versions)


def _install_fake_distribution(site: Path, version: str) -> None:
    """A distribution `zb-versioned` on disk (dist-info + entry point) that re-exports the fake plugin."""
    for old in site.glob("zb_versioned-*.dist-info"):
        for f in old.iterdir():
            f.unlink()
        old.rmdir()
    info = site / f"zb_versioned-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: zb-versioned\nVersion: {version}\n")
    (info / "entry_points.txt").write_text("[zoo_bench]\nversioned = zb_versioned_plugin\n")
    (site / "zb_versioned_plugin.py").write_text("from zb_fake_plugin import *  # noqa: F403\n")


def test_upgrading_the_plugin_distribution_re_runs_its_stages(tmp_path, zb_env):
    site = tmp_path / "site"
    _install_fake_distribution(site, "1.0")
    zb_env["PYTHONPATH"] = os.pathsep.join([str(site), str(FAKES), zb_env["PYTHONPATH"]])
    zb_env.pop("ZOO_BENCH_PLUGINS")
    args = ["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(tmp_path / "out")]
    assert run_cli(args, env=zb_env).returncode == 0
    assert run_cli(args, env=zb_env).returncode == 0
    assert calls(zb_env).count("build fake_tiny") == 1  # same version: served from the cache
    _install_fake_distribution(site, "1.1")
    proc = run_cli(args, env=zb_env)
    assert proc.returncode == 0, proc.stderr
    assert calls(zb_env).count("build fake_tiny") == 2
