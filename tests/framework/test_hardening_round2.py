"""The adversarial pass of issue 16, re-run: no hang, no escape, no impossible figure served as ok,
one bad file never takes a store down.

Each kind of the issue has a case here asserting what a user sees: the exit code, the one line,
the rows kept, and an end within a timeout (a hang fails the test by ``subprocess`` timeout
instead of blocking the suite). Cases use the fake plugin (tests/framework/fakes): no model is
built. The model-file kinds and the escaping of HTML reports and cards are tested by their
owners' tests.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import FAKES, run_cli
from tests.framework.hardening import make_store
from tests.framework.test_harness import rows

#: Every CLI call here must end well within this (the hangs of issue 16 never ended).
QUICK = 120


@pytest.fixture(scope="module")
def module_env(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("round2")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(FAKES), env.get("PYTHONPATH", "")]))
    env.update(ZOO_BENCH_PLUGINS="zb_fake_plugin", ZOO_BENCH_CACHE=str(root / "cache"),
               ZB_FAKE_LOG=str(root / "calls.log"))
    for name in ("ZOO_BENCH_DISABLE_PLUGINS", "ZOO_BENCH_BOARDS", "ZB_FAKE_BREAK"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="module")
def one_run_store(tmp_path_factory, module_env) -> Path:
    return make_store(tmp_path_factory.mktemp("store") / "store", module_env)


@pytest.fixture
def store(tmp_path, one_run_store) -> Path:
    shutil.copytree(one_run_store, tmp_path / "store")
    return tmp_path / "store"


def _no_traceback(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr


def _job_table(store: Path):
    import pyarrow.parquet as pq

    run = sorted((store / "runs").iterdir())[-1]
    good = next((run / "jobs").glob("*.parquet"))
    return run, pq.read_table(good)


def _write_variant(run: Path, name: str, table, column: str, values) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    i = table.schema.get_field_index(column)
    path = run / "jobs" / f"{name}.parquet"
    pq.write_table(table.set_column(i, table.schema.field(i), pa.array(values, table.schema.field(i).type)), path)
    return path


# --- one bad file never takes the store down, never hangs it ---------------------------------------
@pytest.mark.parametrize("command", [["results"], ["results", "--sql", "select count(*) as n from results"],
                                     ["results", "--list"], ["results", "--json"]])
def test_pipes_deep_and_non_utf8_files_are_skipped_with_a_warning(store, module_env, command, tmp_path):
    run, _ = _job_table(store)
    os.mkfifo(run / "jobs" / "pipe.parquet")  # a named pipe posing as a job file blocked every reader
    for name, data in (("20990101T000001Z-deep", b"[" * 100000 + b"]" * 100000),
                       ("20990101T000002Z-utf8", b'{"status": "finished", "x": "\xff"}')):
        (store / "runs" / name / "jobs").mkdir(parents=True)
        (store / "runs" / name / "run.json").write_bytes(data)
    (store / "runs" / "20990101T000003Z-pipe" / "jobs").mkdir(parents=True)
    os.mkfifo(store / "runs" / "20990101T000003Z-pipe" / "run.json")
    proc = run_cli([*command, "-o", str(store)], env=module_env, timeout=QUICK)
    _no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    warnings = proc.stderr.splitlines()
    if command[1:2] != ["--sql"]:  # --sql reads every run's job files, not the manifests
        assert any("deeper than 64 levels" in w for w in warnings), proc.stderr
        assert any("not UTF-8" in w for w in warnings), proc.stderr
    if command != ["results", "--list"]:
        assert any("pipe.parquet" in w and "named pipe" in w for w in warnings), proc.stderr


@pytest.mark.parametrize("command", [["results"], ["results", "--sql", "select * from results"], ["compare", "--all"],
                                     ["card"], ["report"]])
def test_infinite_far_future_and_nameless_rows_never_crash_a_command(store, module_env, command, tmp_path):
    run, table = _job_table(store)
    n = len(table)
    values = table.column("value").to_pylist()
    _write_variant(run, "inf", table, "value", [math.inf] * n)
    _write_variant(run, "negative", table, "value", [-abs(v) - 1 if v is not None else None for v in values])
    _write_variant(run, "empty_model", table, "model", [""] * n)
    _write_variant(run, "weird_status", table, "status", ["maybe"] * n)
    import pyarrow as pa

    far = pa.array([253402300799 * 1_000_000 + 10**12] * n, pa.int64()).cast(table.schema.field("started_at").type)
    _write_variant(run, "year10000", table, "started_at", far)
    if command[0] == "compare":  # a second, identical run to compare with
        shutil.copytree(run, run.with_name(run.name[:-4] + "ffff"))
    where = {"report": ["-o", str(store), "--html", str(tmp_path / "r.html")],
             "card": ["-o", str(store), "--cards-dir", str(tmp_path / "cards")]}.get(command[0], ["-o", str(store)])
    proc = run_cli([*command, *where], env=module_env, timeout=QUICK)
    _no_traceback(proc)
    assert proc.returncode in (0, 1), proc.stderr  # compare: 1, the copied run's impossible rows broke
    assert "empty_model.parquet: a row has an empty model" in proc.stderr
    assert "year10000.parquet: a row's started_at is outside years 1-9999" in proc.stderr
    assert "inf.parquet" in proc.stderr and "cannot be true shown as failed" in proc.stderr


def test_impossible_rows_are_failed_rows_never_figures(store):
    from zoo_bench.store import read_results

    run, table = _job_table(store)
    values = table.column("value").to_pylist()
    _write_variant(run, "nan", table, "value", [math.nan if v else v for v in values])
    _write_variant(run, "weird_method", table, "method", ["guess"] * len(table))
    warned: list[str] = []
    got = read_results(store, warn=warned.append).to_pylist()
    assert len(got) == 3 * len(table)  # no row lost
    for r in got:
        if r["status"] == "ok":
            assert r["value"] is None or math.isfinite(r["value"]), r
            assert r["method"] != "guess" or r["metric"] == "stage_seconds", r  # a stage row is no figure
    refused = [r for r in got if r["reason"].startswith("refused when read")]
    assert refused and all(r["value"] is None and r["status"] == "failed" for r in refused)
    assert len(warned) == 2


# --- the SQL sandbox has no temp directory ---------------------------------------------------------
@pytest.mark.parametrize("sql", ["select * from read_csv('.tmp/secret.csv')", "COPY (SELECT 42) TO '.tmp/pwn.csv'",
                                 "ATTACH '.tmp/pwn.db' AS p", "select * from glob('.tmp/*')"])
def test_a_planted_tmp_symlink_reaches_nothing(store, module_env, tmp_path, sql):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret.csv").write_text("secret,1\n")
    (tmp_path / ".tmp").symlink_to(elsewhere)  # shipped in a cloned repository
    proc = run_cli(["results", "-o", str(store), "--sql", sql], env=module_env, cwd=tmp_path, timeout=QUICK)
    _no_traceback(proc)
    assert proc.returncode == 2, proc.stdout
    assert "disabled by configuration" in proc.stderr and "secret" not in proc.stdout
    assert sorted(p.name for p in elsewhere.iterdir()) == ["secret.csv"]


@pytest.mark.parametrize("sql", ["select 'infinity'::timestamp as t", "select 1 as a, 2 as a",
                                 "select 'infinity'::date as d, interval 1 day as i", "select 1 where false"])
def test_any_sql_result_prints(store, module_env, sql):
    for extra in ([], ["--json"]):
        proc = run_cli(["results", "-o", str(store), "--sql", sql, *extra], env=module_env, timeout=QUICK)
        _no_traceback(proc)
        assert proc.returncode == 0, proc.stderr


# --- the terminal table cannot be spoofed ---------------------------------------------------------
def test_control_and_bidi_characters_are_shown_escaped(store, module_env):
    run, table = _job_table(store)
    name = "safe\u202egnp.exe\x1b[2J"
    _write_variant(run, "spoof", table, "model", [name] * len(table))
    proc = run_cli(["results", "-o", str(store)], env=module_env, timeout=QUICK)
    assert proc.returncode == 0, proc.stderr
    assert "\u202e" not in proc.stdout and "\x1b" not in proc.stdout
    assert "safe\\u202egnp.exe\\x1b[2J" in proc.stdout


# --- figures that cannot be true fail their stage ---------------------------------------------------
@pytest.mark.parametrize("broken, says", [("figure_nan", "is not finite"), ("figure_zero", "cannot be true"),
                                          ("figure_negative", "cannot be true"),
                                          ("score_over_100", "fake_score = 140 cannot be true")])
def test_a_runner_figure_outside_its_domain_fails_its_stage(tmp_path, module_env, broken, says):
    env = dict(module_env, ZB_FAKE_BREAK=broken, ZOO_BENCH_CACHE=str(tmp_path / "cache"))
    proc = run_cli(["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(tmp_path / "o"), "-q"], env=env,
                   timeout=QUICK)
    _no_traceback(proc)
    assert proc.returncode == 1, proc.stderr
    got = rows(tmp_path / "o")
    runs = [r for r in got if r["stage_kind"] == "run" and r["metric"] == "stage_seconds"]
    assert runs and all(r["status"] == "failed" and says in r["reason"] for r in runs), runs
    assert not [r for r in got if r["stage_kind"] == "run" and r["metric"] != "stage_seconds"]
    assert not list((tmp_path / "cache").glob("??/*/result.json")) or all(
        "nan" not in p.read_text().lower() for p in (tmp_path / "cache").glob("??/*/result.json"))


def _cached_run(tmp_path: Path, env: dict[str, str]) -> tuple[Path, subprocess.CompletedProcess]:
    cache = tmp_path / "cache"
    env = dict(env, ZOO_BENCH_CACHE=str(cache))
    first = run_cli(["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(tmp_path / "o1"), "-q"], env=env,
                    timeout=QUICK)
    assert first.returncode == 0, first.stderr
    return cache, first


def test_the_cache_never_serves_an_impossible_figure(tmp_path, module_env):
    cache, _ = _cached_run(tmp_path, module_env)
    tampered = 0
    for path in cache.glob("??/*/result.json"):
        data = json.loads(path.read_text())
        for fig in data.get("figures", []):
            if fig["metric"].startswith("latency_"):
                fig["value"] = -1.0
                tampered += 1
        path.write_text(json.dumps(data))
    assert tampered
    env = dict(module_env, ZOO_BENCH_CACHE=str(cache))
    proc = run_cli(["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(tmp_path / "o2")], env=env, timeout=QUICK)
    assert proc.returncode == 0, proc.stderr
    assert "cannot be true" in proc.stderr and "evicted, recomputing" in proc.stderr
    lat = [r for r in rows(tmp_path / "o2") if r["metric"].startswith("latency_") and r["status"] == "ok"]
    assert lat and all(r["value"] > 0 and not r["cached"] for r in lat if r["metric"] != "latency_std_ms")


@pytest.mark.parametrize("content", ["pipe", b"[" * 100000 + b"]" * 100000, b'{"status": "ok", "x": "\xff"}'])
def test_a_bad_cache_result_json_is_a_miss_not_a_hang_or_a_failure(tmp_path, module_env, content):
    cache, _ = _cached_run(tmp_path, module_env)
    for path in cache.glob("??/*/result.json"):
        path.unlink()
        if content == "pipe":
            os.mkfifo(path)
        else:
            path.write_bytes(content)
    env = dict(module_env, ZOO_BENCH_CACHE=str(cache))
    proc = run_cli(["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(tmp_path / "o2")], env=env, timeout=QUICK)
    _no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    assert "evicted, recomputing" in proc.stderr
    assert all(r["status"] == "ok" for r in rows(tmp_path / "o2"))


def test_a_planted_lock_link_truncates_nothing(tmp_path, module_env):
    cache, _ = _cached_run(tmp_path, module_env)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    locks = sorted((cache / "locks").glob("*.lock"))
    assert locks
    for lock in locks:
        lock.unlink()
        lock.symlink_to(victim)
    env = dict(module_env, ZOO_BENCH_CACHE=str(cache))
    proc = run_cli(["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(tmp_path / "o2")], env=env, timeout=QUICK)
    assert proc.returncode == 0, proc.stderr
    assert victim.read_text() == "precious\n"
    assert all(not lock.is_symlink() and lock.is_file() for lock in locks)


# --- signals while blocked, cache clear during a run -------------------------------------------------
def test_sigterm_while_waiting_on_another_runs_cache_lock(tmp_path, module_env):
    cache, _ = _cached_run(tmp_path, module_env)
    held = [os.open(p, os.O_RDONLY) for p in sorted((cache / "locks").glob("*.lock"))]
    try:
        for fd in held:  # another run holds every key
            fcntl.flock(fd, fcntl.LOCK_EX)
        env = dict(module_env, ZOO_BENCH_CACHE=str(cache))
        proc = subprocess.Popen([sys.executable, "-m", "zoo_bench.cli", "run", "-m", "fake_tiny", "-t", "fake_a",
                                 "-o", str(tmp_path / "o2"), "-q"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        time.sleep(4)
        assert proc.poll() is None  # waiting, as it should
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    finally:
        for fd in held:
            os.close(fd)
    assert proc.returncode != 0 and "Traceback" not in err, err


def test_cache_clear_during_a_run_keeps_its_working_folder(tmp_path, module_env):
    cache = tmp_path / "cache"
    env = dict(module_env, ZOO_BENCH_CACHE=str(cache), ZB_FAKE_BUILD_SLEEP="4")
    proc = subprocess.Popen([sys.executable, "-m", "zoo_bench.cli", "run", "-m", "fake_tiny", "-t", "fake_a",
                             "-o", str(tmp_path / "o"), "-q"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and not list((cache / "tmp").glob("*/request.json")):
        time.sleep(0.1)
    assert list((cache / "tmp").glob("*/request.json")), "the source stage never started"
    cleared = run_cli(["cache", "clear", "--yes"], env=env, timeout=QUICK)
    assert cleared.returncode == 0, cleared.stderr
    _out, err = proc.communicate(timeout=QUICK)
    assert proc.returncode == 0, err
    assert all(r["status"] == "ok" for r in rows(tmp_path / "o"))


# --- a stage's memory is bounded --------------------------------------------------------------------
@pytest.mark.parametrize("bound_by", ["env", "flag"])
def test_a_stage_past_its_memory_bound_is_killed_and_failed_with_the_reason(tmp_path, module_env, bound_by):
    env = dict(module_env, ZB_FAKE_BREAK="memory_hog", ZB_FAKE_HOG_MB="400", ZOO_BENCH_CACHE=str(tmp_path / "cache"))
    flag = ["--stage-memory", "250"] if bound_by == "flag" else []
    if bound_by == "env":
        env["ZOO_BENCH_STAGE_MEMORY_MB"] = "250"
    t0 = time.time()
    proc = run_cli(["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(tmp_path / "o"), "-q", *flag], env=env,
                   timeout=QUICK)
    _no_traceback(proc)
    assert proc.returncode == 1, proc.stderr
    runs = [r for r in rows(tmp_path / "o") if r["stage_kind"] == "run" and r["metric"] == "stage_seconds"]
    assert runs and all(r["status"] == "failed" for r in runs)
    assert all("more than its limit of 250 MiB" in r["reason"] for r in runs), [r["reason"] for r in runs]
    assert time.time() - t0 < 60


# --- the device-claim folder ---------------------------------------------------------------------------
def test_bad_files_in_the_device_claim_folder_are_replaced_never_waited_on(tmp_path):
    import threading

    from zoo_bench.resources import Claim, MachineLocks

    root = tmp_path / "devices"
    root.mkdir(mode=0o700)
    victim = tmp_path / "victim"
    victim.write_text("keep")
    os.mkfifo(root / "host.count")
    (root / "host.lock").symlink_to(victim)
    (root / "board-x.count").write_text("garbage")
    warned: list[str] = []
    locks = MachineLocks(root, warned.append)
    for device in ("host", "board-x"):
        claim = Claim(device, True, 0)
        assert locks.acquire(claim, threading.Event())
        locks.release(claim)
    assert victim.read_text() == "keep"
    assert len(warned) == 3 and all("device-claim folder" in w for w in warned), warned


def test_a_device_claim_folder_of_someone_else_is_refused(tmp_path):
    from zoo_bench.errors import UsageError
    from zoo_bench.resources import MachineLocks

    root = tmp_path / "devices"
    root.mkdir(mode=0o777)
    os.chmod(root, 0o777)
    with pytest.raises(UsageError, match="others can write to it"):
        MachineLocks(root)
    if os.getuid() == 0:
        os.chmod(root, 0o700)
        os.chown(root, 4242, 4242)
        with pytest.raises(UsageError, match="owned by uid 4242"):
            MachineLocks(root)


# --- Dask ------------------------------------------------------------------------------------------------
def test_dask_worker_values_never_become_options(tmp_path, module_env):
    pytest.importorskip("distributed")
    marker = tmp_path / "ran"
    preload = tmp_path / "preload.py"
    preload.write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    for args in (["--scheduler", f"--preload={preload}"], [f"--scheduler=--preload={preload}"],
                 ["--scheduler", "tcp://127.0.0.1:1", "--resources", f"--preload={preload}=1"]):
        proc = run_cli(["worker", *args], env=module_env, timeout=QUICK)
        assert proc.returncode == 2, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert not marker.exists()


def test_dask_skips_a_stage_no_worker_can_take_instead_of_waiting(tmp_path, module_env):
    pytest.importorskip("distributed")
    env = dict(module_env, ZOO_BENCH_PLUGINS="zb_fake_plugin,zb_fake_board_plugin",
               ZOO_BENCH_CACHE=str(tmp_path / "cache"))
    proc = run_cli(["run", "-m", "fake_tiny", "-t", "fake_board,fake_a", "-o", str(tmp_path / "o"), "-q",
                    "--executor", "dask", "-j", "1"], env=env, timeout=240)
    _no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    stages = {(r["target"], r["stage_kind"]): r for r in rows(tmp_path / "o") if r["metric"] == "stage_seconds"}
    board = stages[("fake_board", "run")]
    assert board["status"] == "skipped"
    assert "no Dask worker of this cluster owns board-lab1=1" in board["reason"]
    assert stages[("fake_a", "run")]["status"] == "ok"


# --- boards.toml, fit and fidelity on odd files ----------------------------------------------------------
@pytest.mark.parametrize("content, says", [(b'[boards.b]\ntarget = "\xff"\n', "not UTF-8"),
                                           (b"x = " + b"[" * 5000 + b"]" * 5000, "too deeply"),
                                           ("pipe", "named pipe"), ("folder", "a folder")])
def test_odd_boards_files_are_one_line(tmp_path, content, says):
    from zoo_bench.board.inventory import load_boards
    from zoo_bench.errors import UsageError

    path = tmp_path / "boards.toml"
    if content == "pipe":
        os.mkfifo(path)
    elif content == "folder":
        path.mkdir()
    else:
        path.write_bytes(content)
    with pytest.raises(UsageError, match=says):
        load_boards(path)


@pytest.mark.parametrize("value", [-5.0, 0, "nan", "12"])
def test_fidelity_refuses_points_that_cannot_be_fitted(tmp_path, module_env, value):
    source = next(Path(__file__).resolve().parents[2].glob("plugins/nxp_imx/published_points.json"))
    data = json.loads(source.read_text())
    data["points"][0]["value"] = float(value) if value == "nan" else value
    path = tmp_path / "points.json"
    path.write_text(json.dumps(data))
    proc = run_cli(["fidelity", "--points", str(path)], env=module_env, timeout=QUICK)
    _no_traceback(proc)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "point 0" in proc.stderr


# --- compare judges by the metric registry ---------------------------------------------------------------
def _row(metric: str, value, status: str = "ok", samples=None) -> dict:
    return {"model": "m", "target": "t", "stage": "run", "metric": metric, "variant": "int8", "value": value,
            "status": status, "reason": "", "method": "measured-board", "extra": "{}", "samples": samples,
            "cached": False, "stage_kind": "run"}


@pytest.mark.parametrize("new", [math.nan, None, 0.0, -2.0])
def test_compare_calls_an_impossible_new_latency_a_failure(new):
    from zoo_bench.reports.compare import compare_rows, is_failure

    (change,) = compare_rows([_row("latency_mean_ms", 10.0)], [_row("latency_mean_ms", new)])
    assert change.verdict == "broken" and is_failure(change)


def test_compare_never_calls_a_negative_size_an_improvement():
    from zoo_bench.reports.compare import compare_rows

    (change,) = compare_rows([_row("model_size_kib", 100.0)], [_row("model_size_kib", -50.0)])
    assert change.verdict == "broken"


def test_compare_single_sample_and_unknown_metrics_are_informational():
    from zoo_bench.reports.compare import compare_rows

    changes = compare_rows([_row("init_ms", 10.0), _row("vendor_thing", 1.0)],
                           [_row("init_ms", 30.0), _row("vendor_thing", 9.0)])
    assert [c.verdict for c in changes] == ["same", "same"]
    assert "single measurement" in changes[0].reason


def test_a_plugin_registers_metrics_and_a_clash_is_reported(fake_registry):
    from zoo_bench.metrics import Metric, MetricRegistry, metrics_for

    metrics = metrics_for(fake_registry.pm)
    assert metrics.get("fake_score").domain == "percent"
    assert metrics.problem("fake_score", 140) and not metrics.problem("fake_score", 40)
    registry = MetricRegistry()
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(Metric("latency_mean_ms", "ms", "higher", "finite"))


def test_progress_and_warning_lines_escape_control_characters(capsys):
    import io

    from zoo_bench.progress import Progress
    from zoo_bench.store import _stderr_warning

    out = io.StringIO()
    Progress(stream=out).warn("model evil\u202etxt.exe\x1b]0;title\x07")
    _stderr_warning("skipped runs/\u2066x\u2069/jobs/a.parquet")
    text = out.getvalue() + capsys.readouterr().err
    assert not any(c in text for c in "\u202e\x1b\x07\u2066\u2069")
    assert "\\u202e" in text and "\\x1b" in text and "\\u2066" in text


def test_a_bad_stage_memory_setting_is_one_line_before_the_run(tmp_path, module_env):
    env = dict(module_env, ZOO_BENCH_STAGE_MEMORY_MB="lots", ZOO_BENCH_CACHE=str(tmp_path / "cache"))
    proc = run_cli(["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(tmp_path / "o")], env=env, timeout=QUICK)
    assert proc.returncode == 2 and proc.stderr.strip().splitlines() == [
        "zoo-bench: error: ZOO_BENCH_STAGE_MEMORY_MB='lots' is not a number of MiB (0: no limit)"]
    assert not list((tmp_path / "o").glob("runs/*"))


@pytest.mark.parametrize("value, says", [(10**400, "too large"), (math.nan, "not finite"), (True, "not a number"),
                                         ("1.5", "not a number"), (-1, "cannot be true"), (2.5, "cannot be true")])
def test_figure_domains_refuse_what_json_can_carry(value, says):
    from zoo_bench.serialize import validate_figure

    fig = {"metric": "params", "value": value, "unit": "count", "method": "measured-host", "tool": "t",
           "tool_version": "1", "extra": {}}
    assert says in (validate_figure(fig) or "")
