"""``zoo-bench plugin new``: the generated plugin project installs, passes its own tests, runs
through ``zoo-bench run`` (ok rows) and adds its command to ``zoo-bench --help``.

The project is installed with ``pip install --target`` (no dependencies: this venv has them) and
found through PYTHONPATH, so its entry point is read from its own dist-info like any installed
third-party plugin's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from zoo_bench.cli import main
from zoo_bench.cli.plugin_new import TEMPLATE, write_plugin

from tests.conftest import run_cli


def cli_in_process(args: list[str], capsys) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("template")
    project = root / "zoo-bench-acme-npu"
    write_plugin("acme_npu", project)
    site = root / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--disable-pip-version-check", "--target", str(site), str(project)],
                   check=True, capture_output=True, timeout=300)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])),
               ZOO_BENCH_CACHE=str(root / "cache"), ZOO_BENCH_PLUGINS="")
    env.pop("ZOO_BENCH_DISABLE_PLUGINS", None)
    return project, env


def test_the_generated_plugin_passes_its_own_tests(installed):
    project, env = installed
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=project,
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "6 passed" in done.stdout and "failed" not in done.stdout and "skipped" not in done.stdout


def test_the_generated_plugin_runs_and_adds_its_command(installed, tmp_path):
    _, env = installed
    out, boards = tmp_path / "out", tmp_path / "boards.toml"
    boards.write_text("# no boards here\n")
    ran = run_cli(["run", "-m", "acme_npu_tiny", "-t", "acme_npu_cpu,acme_npu_board", "-o", str(out), "-q"],
                  env=dict(env, ZOO_BENCH_BOARDS=str(boards)))
    assert ran.returncode == 0, ran.stderr
    rows = [r for f in out.glob("runs/*/jobs/*.parquet") for r in pq.read_table(f).to_pylist()]
    cpu = [r for r in rows if r["target"] == "acme_npu_cpu"]
    assert {r["status"] for r in cpu} == {"ok"}
    assert [r["value"] > 0 for r in cpu if r["metric"] == "latency_p50_ms"] == [True]
    skipped = [r for r in rows if r["target"] == "acme_npu_board" and r["status"] == "skipped"]
    assert skipped and all("no board for target acme_npu_board" in r["reason"] for r in skipped)
    listed = run_cli(["plugins"], env=env)
    assert any(line.split()[:3] == ["acme_npu", "zoo-bench-acme-npu", "0.1.0"] for line in listed.stdout.splitlines())
    helped = run_cli(["--help"], env=env)
    assert any(line.split()[:1] == ["acme_npu"] for line in helped.stdout.splitlines()), helped.stdout
    page = tmp_path / "report.html"
    reported = run_cli(["report", "-o", str(out), "--html", str(page)], env=env)
    assert reported.returncode == 0, reported.stderr
    html = page.read_text()
    assert "acme_npu latencies" in html and "acme_npu_tiny on acme_npu_cpu" in html


def test_every_template_file_is_filled(tmp_path):
    written = write_plugin("x9", tmp_path / "p")
    assert len(written) == len(list(TEMPLATE.rglob("*.tmpl")))
    for path in written:
        assert "@@" not in str(path) and "@@" not in path.read_text(), path
    compile_ok = [compile(p.read_text(), str(p), "exec") for p in written if p.suffix == ".py"]
    assert len(compile_ok) == 7


@pytest.mark.parametrize("name, problem", [("Acme", "not a lowercase"), ("acme-npu", "not a lowercase"),
                                           ("a__b", "not a lowercase"), ("taken", "already exists")])
def test_bad_names_and_used_folders_are_one_line_exit_2(name, problem, tmp_path, capsys):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    code, _, err = cli_in_process(["plugin", "new", name, "--dir", str(tmp_path / name)], capsys)
    assert code == 2 and problem in err and len(err.strip().splitlines()) == 1, err
    assert (tmp_path / "taken" / "keep.txt").read_text() == "mine"


def test_the_generated_board_runner_measures_on_a_loopback_board(installed, sshd, board_python, tmp_path):
    """Its board runner against a real OpenSSH server on loopback (tests/fixtures/sshd.py): this
    machine plays the board, with a plain Python as the board's."""
    _, env = installed
    boards, workdir = tmp_path / "boards.toml", tmp_path / "board-workdir"
    boards.write_text(sshd.board_table("lab1", "acme_npu_board", python=board_python, workdir=str(workdir),
                                       retries=1))
    out = tmp_path / "out"
    ran = run_cli(["run", "-m", "acme_npu_tiny", "-t", "acme_npu_board", "-o", str(out), "-q", "-s", "runs=5"],
                  env=dict(env, ZOO_BENCH_BOARDS=str(boards)))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    rows = [r for f in out.glob("runs/*/jobs/*.parquet") for r in pq.read_table(f).to_pylist()]
    assert {r["status"] for r in rows} == {"ok"}, [(r["stage"], r["reason"]) for r in rows if r["status"] != "ok"]
    (p50,) = [r for r in rows if r["metric"] == "latency_p50_ms"]
    assert p50["value"] > 0 and p50["method"] == "measured-board" and p50["stage"].startswith("run:acme_npu_board")
    assert not list(workdir.glob("*/*")), "the run directory on the board is removed after the stage"
