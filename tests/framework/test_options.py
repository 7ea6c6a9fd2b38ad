"""Typed options: declarations, parsing, the stage's merged options, and the CLI's checks."""

from __future__ import annotations

import json

import pytest
from zoo_bench.components import Runner
from zoo_bench.errors import UsageError
from zoo_bench.options import CLI_OPTIONS, Option, check_jobs, parse_options, stage_options
from zoo_bench.plan import StageSpec
from zoo_bench.tools import missing_module


class TimedRunner(Runner):
    name = "timed"
    options = {
        "runs": Option("int", default=50, min=1, help="timed inferences"),
        "mode": Option("choice", choices=("fast", "slow"), default="fast"),
        "scale": Option("float", default=1.0),
        "legacy": "a bare help string: untyped",
    }


@pytest.mark.parametrize("value, expected", [("3", 3), (7, 7), (" 12 ", 12), (4.0, 4)])
def test_int_options_parse(value, expected):
    assert Option("int").parse("runs", value) == expected


@pytest.mark.parametrize("value", ["0", "1.5", "true", True, "abc", "", 2.5])
def test_bad_int_values_are_usage_errors(value):
    with pytest.raises(UsageError, match="option runs="):
        Option("int", min=1).parse("runs", value)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "x"])
def test_floats_must_be_finite_numbers(value):
    with pytest.raises(UsageError):
        Option("float").parse("scale", value)


def test_bool_choice_and_path(tmp_path):
    assert Option("bool").parse("b", "no") is False and Option("bool").parse("b", "ON") is True
    with pytest.raises(UsageError, match="expected true or false"):
        Option("bool").parse("b", "maybe")
    with pytest.raises(UsageError, match="expected one of fast, slow"):
        TimedRunner.options["mode"].parse("mode", "medium")
    (tmp_path / "f.ini").write_text("x")
    assert Option("path").parse("config", str(tmp_path / "f.ini")) == str((tmp_path / "f.ini").resolve())
    with pytest.raises(UsageError, match="no such file"):
        Option("path").parse("config", str(tmp_path / "missing.ini"))


def test_stage_options_fill_defaults_and_type_every_layer():
    merged = stage_options(TimedRunner(), {"runs": 20, "other": 1}, {"scale": "2.5", "nope": 3}, {"mode": "slow"})
    assert merged == {"runs": 20, "mode": "slow", "scale": 2.5}  # legacy absent when unset
    assert stage_options(TimedRunner(), {}, {"runs": "9", "legacy": 5}, {})["legacy"] == "5"
    assert stage_options(TimedRunner(), {}, {}, {})["runs"] == 50


def test_a_plan_option_the_component_does_not_declare_is_named():
    with pytest.raises(UsageError, match="the plan sets option 'delegate', which run:timed does not declare"):
        stage_options(TimedRunner(), {}, {}, {"delegate": "npu"})
    assert stage_options(TimedRunner(), {}, {}, {"label": "npu"})["label"] == "npu"  # the planner's own


def test_unknown_keys_name_close_matches_and_the_components():
    with pytest.raises(UsageError) as err:
        parse_options({"rnus": "3"}, [TimedRunner()], CLI_OPTIONS)
    assert "did you mean runs" in str(err.value) and "run:timed" in str(err.value)


def test_a_value_must_parse_for_every_component_declaring_it():
    class Other(Runner):
        name = "other"
        options = {"scale": Option("int", min=0)}

    assert parse_options({"scale": "2"}, [TimedRunner(), Other()]) == {"scale": 2.0}
    with pytest.raises(UsageError, match="expected an integer"):
        parse_options({"scale": "2.5"}, [TimedRunner(), Other()])


class _Target:
    def __init__(self, **defaults):
        self.defaults = tuple(defaults.items())


class _Job:
    def __init__(self, stages, target):
        self.stages, self.target, self.plan_error, self.skip_reason = stages, target, None, None


def test_check_jobs_fails_only_the_job_with_a_bad_plan_or_target_default():
    good = _Job([StageSpec("run:timed:x", "run", "timed", options=(("mode", "slow"),))], _Target(runs=3))
    bad_default = _Job([StageSpec("run:timed:y", "run", "timed")], _Target(runs=0))
    bad_plan = _Job([StageSpec("run:timed:z", "run", "timed", options=(("mode", "turbo"),))], _Target())
    typed = check_jobs([good, bad_default, bad_plan], lambda spec: TimedRunner(), {"runs": "4"}, CLI_OPTIONS)
    assert typed == {"runs": 4}
    assert good.plan_error is None
    assert "must be >= 1" in bad_default.plan_error and "stage run:timed:y" in bad_default.plan_error
    assert "expected one of fast, slow" in bad_plan.plan_error


def test_describe_is_what_plugins_v_prints():
    assert TimedRunner.options["runs"].describe() == "int, default 50, >= 1: timed inferences"
    assert TimedRunner.options["mode"].describe() == "fast|slow, default fast"


def test_missing_module_takes_one_name_or_several():
    assert missing_module("json") is None
    assert missing_module("zz_no_such_module") == "zz_no_such_module"  # not its first character
    assert missing_module("json", "zz_nope", "zz_later") == "zz_nope"
    assert missing_module(["json", "zz_nope"]) == "zz_nope"
    assert missing_module("zz_nope_pkg.sub") == "zz_nope_pkg.sub"


BAD_INPUT = [
    (["-s", "runs=0"], "option runs='0': must be >= 1"),
    (["-s", "threads=abc"], "option threads='abc': expected an integer"),
    (["-s", "runs=1.5"], "option runs='1.5': expected an integer"),
    (["-s", "runs=true"], "option runs='true': expected an integer"),
    (["-s", "rnus=3"], "unknown option 'rnus'; did you mean runs?"),
    (["-s", "sleep_s=x", "-s", "=3"], "option '=3' is not KEY=VALUE"),
    (["--timeout", "nan"], "--timeout 'nan': expected a finite number of seconds >= 1"),
    (["--timeout", "inf"], "--timeout 'inf': expected a finite number of seconds >= 1"),
    (["--timeout", "0"], "--timeout '0': expected a finite number of seconds >= 1"),
]


@pytest.mark.parametrize("args, message", BAD_INPUT, ids=[" ".join(a) for a, _ in BAD_INPUT])
def test_bad_options_are_one_line_and_exit_2_before_anything_runs(args, message, tmp_path, zb_env, cli_inproc):
    out = tmp_path / "out"
    proc = cli_inproc(["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(out), *args], env=zb_env)
    assert proc.returncode == 2
    assert len(proc.stderr.splitlines()) == 1 and proc.stderr.startswith(f"zoo-bench: error: {message}")
    assert not out.exists()  # validated before the store or any stage was touched


def test_unknown_option_names_the_components_that_take_options(tmp_path, zb_env, cli_inproc):
    proc = cli_inproc(["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(tmp_path), "-s", "sleep=1"], env=zb_env)
    assert proc.returncode == 2
    assert "did you mean sleep_s" in proc.stderr and "run:fake_numpy" in proc.stderr


def test_plugins_v_lists_options_with_type_default_and_help(zb_env, cli_inproc):
    proc = cli_inproc(["plugins", "-v"], env=zb_env)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    block = lines[lines.index("run:litert (host)"):]
    assert "  runs: int, default 50, >= 1: timed inferences" in block
    assert "  input_type: uint8|int8, default int8: type of the model's input" in lines
    as_json = json.loads(cli_inproc(["plugins", "-v", "--json"], env=zb_env).stdout)
    host = next(p for p in as_json if p.get("name") == "host")
    assert host["options"]["run:onnxruntime"]["warmup"] == "int, default 5, >= 0: untimed inferences before timing"
