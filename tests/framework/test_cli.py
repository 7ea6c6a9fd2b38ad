"""The command line as users meet it: help, listings, bad input (exit 2, one line).

Called in-process (``cli_inproc``, tests/inprocess.py): what is tested is what the commands do;
the one test of how the process starts (no TensorFlow or torch imported) runs a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.mark.parametrize("args, expected", [
    (["run", "--model", "fake_tiyn", "--target", "fake_a"], "unknown model 'fake_tiyn'; did you mean fake_tiny"),
    (["run", "--model", "fake_tiny", "--target", "fake_c"], "unknown target 'fake_c'; did you mean fake_b, fake_a"),
    (["run", "--model", "nothing_like_it*", "--target", "fake_a"], "unknown model 'nothing_like_it*'"),
    (["run", "--model", "does/not/exist.tflite", "--target", "fake_a"],
     "model file 'does/not/exist.tflite' does not exist"),
    (["results", "--run", "nope"], "no runs in"),
    (["run", "--model", "fake_tiny", "--target", "fake_a", "-s", "novalue"], "option 'novalue' is not KEY=VALUE"),
])
def test_bad_input_is_one_line_and_exit_2(args, expected, zb_env, tmp_path, cli_inproc):
    proc = cli_inproc(args + (["-o", str(tmp_path / "o")] if args[0] == "results" else []), env=zb_env, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_corrupt_model_file_is_a_usage_error(tmp_path, zb_env, cli_inproc):
    bad = tmp_path / "broken.tflite"
    bad.write_bytes(b"this is not a flatbuffer")
    proc = cli_inproc(["run", "--model", str(bad), "--target", "cpu", "-o", str(tmp_path / "o")], env=zb_env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "broken.tflite" in line and "Traceback" not in proc.stderr


def test_family_name_glob_and_all_select_models(fake_registry):
    from zoo_bench.plan import resolve_models, resolve_targets

    assert [m.name for m in resolve_models(["fake"], fake_registry)] == ["fake_tiny"]
    assert [m.name for m in resolve_models(["fake_t*,fake_o*"], fake_registry)] == ["fake_tiny", "fake_other"]
    assert len(resolve_models(["all"], fake_registry)) == 5
    assert [t.id for t in resolve_targets(["all"], fake_registry)] == ["fake_a", "fake_b"]
    assert [t.id for t in resolve_targets(["fake_b", "fake_*"], fake_registry)] == ["fake_b", "fake_a"]
    (m,) = resolve_models(["fake_tiny"], fake_registry, classes=5)
    assert m.classes == 5 and m.params is None


def test_list_models_json_is_machine_readable(zb_env, cli_inproc):
    proc = cli_inproc(["list", "models", "fake_*", "--json"], env=zb_env)
    assert proc.returncode == 0
    models = {m["name"]: m for m in json.loads(proc.stdout)}
    assert models["fake_tiny"]["default_in_family"] is True and models["fake_tiny"]["resolution"] == 8


def test_run_json_summary(tmp_path, zb_env, cli_inproc):
    proc = cli_inproc(["run", "-m", "fake_tiny", "-t", "fake_b", "-o", str(tmp_path / "o"), "--json", "-q"], env=zb_env)
    assert proc.returncode == 0 and proc.stderr == ""
    summary = json.loads(proc.stdout)
    assert summary["counts"] == {"ok": 1, "failed": 0, "skipped": 0}
    assert summary["jobs"][0]["stages"]["compile:fake_missing_tool"] == "skipped"


def test_help_teaches_the_pipeline_and_examples(cli_inproc):
    proc = cli_inproc(["--help"])
    assert "source -> export -> quantize -> compile -> run" in proc.stdout
    run_help = cli_inproc(["run", "--help"]).stdout
    assert "zoo-bench run --model mobilenet_v2_0.35_128 --target cpu" in run_help and "--rerun" in run_help


def test_cli_process_never_imports_tensorflow_or_torch(zb_env):
    code = ("import sys; from zoo_bench.cli import main\n"
            "for args in (['list', 'models'], ['list', 'targets'], ['plugins']):\n"
            "    try: main(args)\n"
            "    except SystemExit: pass\n"
            "heavy = [m for m in ('tensorflow', 'torch', 'timm', 'onnxruntime', 'keras') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    proc = subprocess.run([sys.executable, "-c", code], env=zb_env, capture_output=True, text=True, timeout=120)
    assert "HEAVY []" in proc.stdout, proc.stdout[-500:] + proc.stderr[-500:]


def test_dry_run_prints_the_stage_graph_and_runs_nothing(tmp_path, zb_env, cli_inproc):
    proc = cli_inproc(["run", "-m", "fake_tiny", "-t", "fake_b", "-o", str(tmp_path / "o"), "--dry-run", "--json"],
                   env=zb_env)
    assert proc.returncode == 0
    (job,) = json.loads(proc.stdout)
    assert [s["id"] for s in job["stages"]] == ["source", "quantize:fake_int8", "compile:fake_missing_tool",
                                                "run:fake_numpy:float32", "run:fake_numpy:int8"]
    assert job["stages"][-1]["inputs"] == ["compile:fake_missing_tool"] and job["stages"][-1]["variant"] == "int8"
    assert not (tmp_path / "o").exists()


def test_cache_info_and_clear(tmp_path, zb_env, cli_inproc):
    ran = cli_inproc(["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(tmp_path / "o"), "-q"], env=zb_env)
    assert ran.returncode == 0
    info = cli_inproc(["cache", "info"], env=zb_env)
    assert info.returncode == 0 and " 4 stage outputs" in info.stdout
    assert cli_inproc(["cache", "clear", "--yes"], env=zb_env).returncode == 0
    assert " 0 stage outputs" in cli_inproc(["cache", "info"], env=zb_env).stdout
