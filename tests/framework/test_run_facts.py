"""Runs say what they are (issue 21 item 2): label, git commit and branch, machine facts at start and end with a
warning when something else used the CPU, and `compare --baseline RUN|LABEL`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from zoo_bench.run_facts import busy_reasons, end_facts, git_facts, machine_facts, other_processes, start_facts
from zoo_bench.store import ResultsStore

from tests.conftest import run_cli


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t"})


@pytest.fixture
def repo(tmp_path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "nightly")
    (repo / "a.txt").write_text("a")
    git(repo, "add", "a.txt")
    git(repo, "commit", "-q", "-m", "a")
    return repo


def test_git_facts_of_a_repository_and_none_without_one_or_without_git(repo, tmp_path, monkeypatch):
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert git_facts(repo) == {"commit": head, "branch": "nightly", "dirty": False}
    (repo / "a.txt").write_text("changed")
    assert git_facts(repo)["dirty"] is True
    plain = tmp_path / "plain"
    plain.mkdir()
    assert git_facts(plain) is None
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    assert git_facts(repo) is None  # no git on PATH: no facts, no failure


def test_machine_facts_and_busy_rules():
    facts = machine_facts(sample_s=0.1)
    assert facts["cpu_count"] == os.cpu_count() and len(facts["load_avg"]) == 3
    assert isinstance(facts["others_cpu_pct"], float) and isinstance(facts["top_processes"], list)
    quiet = {"cpu_count": 2, "load_avg": [0.1, 0.1, 0.1], "others_cpu_pct": 3.0, "top_processes": []}
    assert busy_reasons(quiet, "start") == []
    loaded = {**quiet, "load_avg": [1.8, 1.0, 1.0]}
    assert busy_reasons(loaded, "start") == ["busy machine at start: load average 1.8 on 2 CPUs"]
    assert busy_reasons(loaded, "end") == []  # the run's own load is in the end's load average
    hog = {**quiet, "others_cpu_pct": 95.0, "top_processes": [{"pid": 1, "name": "gcc", "cpu_pct": 95.0}]}
    assert busy_reasons(hog, "end") == ["busy machine at end: other processes used 95 % of a core (gcc 95 %)"]
    ended = end_facts({"machine": {"start": quiet}, "warnings": busy_reasons(hog, "start")}, sample_s=0.1)
    assert ended["busy"] is True and set(ended["machine"]) == {"start", "end"}


def burner() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time\nt = time.time() + 20\nwhile time.time() < t: pass"])


def test_other_processes_sees_a_cpu_hog_outside_its_tree_and_not_its_own_children():
    own = burner()
    try:
        time.sleep(0.2)
        _, top = other_processes(0.5)
        assert own.pid not in {p["pid"] for p in top}  # our own child is the run itself, not "something else"
    finally:
        own.kill()
        own.wait()
    # a process that is not ours: started by a shell that exits at once (re-parented away from this process)
    proc = subprocess.run(["sh", "-c", f"{sys.executable} -c 'import time\nt = time.time() + 20\n"
                                       "while time.time() < t: pass' >/dev/null 2>&1 & echo $!"],
                          capture_output=True, text=True, timeout=10)
    stranger = int(proc.stdout.strip())
    try:
        time.sleep(0.2)
        total, top = other_processes(0.5)
        hog = [p for p in top if p["pid"] == stranger]
        assert hog and hog[0]["cpu_pct"] >= 10 and total >= hog[0]["cpu_pct"], top
    finally:
        os.kill(stranger, signal.SIGKILL)


def test_start_facts_note_a_governor_that_is_not_performance(monkeypatch):
    import zoo_bench.run_facts as rf

    monkeypatch.setattr(rf, "governor", lambda: "powersave")
    facts = start_facts(sample_s=0.05)
    assert any("CPU governor is powersave" in w for w in facts["warnings"])


# --- the CLI ----------------------------------------------------------------------------------------------------

def fake_run(out: Path, env: dict[str, str], *more: str, cwd: Path | None = None) -> None:
    proc = run_cli(["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(out), "-q", *more], env=env, cwd=cwd)
    assert proc.returncode == 0, proc.stderr


def test_a_run_records_its_label_commit_and_machine(repo, tmp_path, zb_env):
    out = tmp_path / "out"
    fake_run(out, zb_env, "--label", "nightly-7", cwd=repo)
    store = ResultsStore(out)
    m = store.manifest(store.run_ids()[-1])
    assert m["label"] == "nightly-7" and m["git"]["branch"] == "nightly" and len(m["git"]["commit"]) == 40
    for phase in ("start", "end"):
        assert {"cpu_model", "cpu_count", "governor", "load_avg", "others_cpu_pct", "top_processes"} <= set(
            m["machine"][phase])
    assert isinstance(m["busy"], bool) and isinstance(m["warnings"], list)
    fake_run(out, zb_env, cwd=tmp_path)  # not in a repository: no commit, no failure
    assert store.manifest(store.run_ids()[-1])["git"] is None


@pytest.mark.parametrize("label", ["", "two\nlines", "x" * 101])
def test_a_bad_label_is_a_usage_error(tmp_path, zb_env, label):
    proc = run_cli(["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(tmp_path / "o"), "--label", label], env=zb_env)
    assert proc.returncode == 2 and "--label" in proc.stderr and "Traceback" not in proc.stderr


def test_compare_baseline_by_label_or_run_and_first_run_ok(tmp_path, zb_env):
    out = tmp_path / "out"
    first = run_cli(["compare", "-o", str(out), "--first-run-ok", "--baseline", "baseline", "--markdown"], env=zb_env)
    assert first.returncode == 0 and "nothing to compare yet" in first.stderr
    fake_run(out, zb_env, "--label", "baseline")
    alone = run_cli(["compare", "-o", str(out), "--baseline", "baseline"], env=zb_env)
    assert alone.returncode == 2 and "its only run is the run being judged" in alone.stderr
    assert run_cli(["compare", "-o", str(out), "--baseline", "baseline", "--first-run-ok"], env=zb_env).returncode == 0
    fake_run(out, zb_env, "--label", "nightly-1")
    fake_run(out, zb_env, "--label", "nightly-2")
    runs = ResultsStore(out).run_ids()
    pinned = json.loads(run_cli(["compare", "-o", str(out), "--baseline", "baseline", "--json"], env=zb_env).stdout)
    assert (pinned["base"], pinned["new"]) == (runs[0], runs[2])
    by_id = json.loads(run_cli(["compare", "-o", str(out), "--baseline", runs[1][:18], runs[0], "--json"],
                               env=zb_env).stdout)
    assert (by_id["base"], by_id["new"]) == (runs[1], runs[0])
    unknown = run_cli(["compare", "-o", str(out), "--baseline", "nope"], env=zb_env)
    assert unknown.returncode == 2 and "labels in the store: baseline, nightly-1, nightly-2" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1


def test_compare_repeats_busy_machine_warnings_and_results_list_shows_labels(tmp_path, zb_env):
    out = tmp_path / "out"
    fake_run(out, zb_env, "--label", "quiet-night")
    fake_run(out, zb_env, "--label", "busy-night")
    store = ResultsStore(out)
    busy = store.run_ids()[-1]
    store.update_manifest(busy, busy=True, warnings=["busy machine at end: other processes used 180 % of a core (cc1 "
                                                     "180 %)"])
    proc = run_cli(["compare", "-o", str(out)], env=zb_env)
    note = f"run {busy} was timed on a busy machine (at end: other processes used 180 % of a core (cc1 180 %))"
    assert f"machine: {note}" in proc.stdout
    assert f"> ⚠ {note}" in run_cli(["compare", "-o", str(out), "--markdown"], env=zb_env).stdout
    found = json.loads(run_cli(["compare", "-o", str(out), "--json"], env=zb_env).stdout)
    assert note in found["machine_notes"] and "changes" in found
    listing = run_cli(["results", "-o", str(out), "--list"], env=zb_env).stdout
    assert "quiet-night" in listing and re_line(listing, "busy-night").endswith("busy")


def re_line(text: str, needle: str) -> str:
    return next(line.rstrip() for line in text.splitlines() if needle in line)


def test_api_run_records_the_label_and_returns_the_machine_warnings(fake_registry, zb_env, tmp_path, monkeypatch):
    from zoo_bench import api
    from zoo_bench.errors import UsageError

    for name in ("PYTHONPATH", "ZOO_BENCH_PLUGINS"):  # for the stage worker processes
        monkeypatch.setenv(name, zb_env[name])
    with pytest.raises(UsageError, match="--label"):
        api.run("fake_tiny", "fake_a", output=tmp_path / "out", label="a\nb", registry=fake_registry)
    assert not (tmp_path / "out").exists()  # refused before anything was recorded
    result = api.run("fake_tiny", "fake_a", output=tmp_path / "out", label=" nightly-3 ", registry=fake_registry,
                     cache_dir=tmp_path / "cache")
    manifest = result.store.manifest(result.run_id)
    assert manifest["label"] == "nightly-3" and manifest["warnings"] == result.warnings
    assert set(manifest["machine"]) == {"start", "end"}
