"""The cache marks its root, and `cache clear` / `cache info` touch nothing that is not a cache (issue 7 item 1)."""

from __future__ import annotations

import json

import pytest
from zoo_bench.cache import CACHE_FORMAT, MARKER, ArtifactCache
from zoo_bench.errors import UsageError

from tests.conftest import run_cli


def _home_like(tmp_path):
    """A directory full of someone's files, as $HOME would be."""
    home = tmp_path / "home"
    (home / "Documents").mkdir(parents=True)
    (home / "Documents" / "thesis.tex").write_text("precious")
    (home / ".bashrc").write_text("export X=1")
    return home


def test_cache_clear_refuses_a_directory_that_is_not_a_cache(tmp_path, zb_env, cli_inproc):
    home = _home_like(tmp_path)
    zb_env["ZOO_BENCH_CACHE"] = str(home)
    proc = cli_inproc(["cache", "clear", "--yes"], env=zb_env)
    assert proc.returncode == 2
    expected = f"zoo-bench: error: {home} is not a zoo-bench cache (no {MARKER}): not deleting anything"
    assert proc.stderr.strip() == expected
    assert (home / "Documents" / "thesis.tex").read_text() == "precious" and (home / ".bashrc").exists()


def test_cache_info_creates_nothing_in_a_directory_that_is_not_a_cache(tmp_path, zb_env, cli_inproc):
    home = _home_like(tmp_path)
    before = sorted(p.name for p in home.rglob("*"))
    proc = cli_inproc(["cache", "info", "--cache-dir", str(home)], env=zb_env)
    assert proc.returncode == 2 and str(home) in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(p.name for p in home.rglob("*")) == before
    missing = tmp_path / "nowhere"
    proc = cli_inproc(["cache", "info", "--cache-dir", str(missing)], env=zb_env)
    assert proc.returncode == 0 and "no cache yet" in proc.stdout and not missing.exists()


def test_a_run_refuses_a_non_empty_foreign_directory_and_makes_an_empty_one_a_cache(tmp_path, zb_env, cli_inproc):
    home = _home_like(tmp_path)
    out = tmp_path / "out"
    proc = cli_inproc(["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(out), "--cache-dir", str(home)], env=zb_env)
    assert proc.returncode == 2 and f"{home} is not empty and not a zoo-bench cache" in proc.stderr
    assert sorted(p.name for p in home.iterdir()) == [".bashrc", "Documents"]
    assert not list(out.glob("runs/*")), "a refused run is not recorded"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli_inproc(["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(out), "--cache-dir", str(empty)],
                   env=zb_env).returncode == 0
    assert json.loads((empty / MARKER).read_text())["format"] == CACHE_FORMAT


# A subprocess: what is tested includes the prompt reading a closed stdin.
def test_clear_prompt_names_the_path_and_keeps_foreign_files(tmp_path, zb_env):
    cache = tmp_path / "cache"
    out = tmp_path / "out"
    assert run_cli(["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(out)], env=zb_env).returncode == 0
    (cache / "notes.txt").write_text("mine")  # something a user put there: not the cache's to delete
    declined = run_cli(["cache", "clear"], env=zb_env)  # no input: the prompt is declined
    assert f"Delete every cached artifact in {cache}?" in declined.stdout
    assert declined.returncode != 0 and ArtifactCache(cache).entries()
    proc = run_cli(["cache", "clear", "--yes"], env=zb_env)
    assert proc.returncode == 0 and f"emptied {cache}" in proc.stdout
    assert not ArtifactCache(cache).entries()
    assert (cache / "notes.txt").read_text() == "mine" and (cache / MARKER).exists()


def test_clear_and_open_in_process(tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "a.txt").write_text("x")
    with pytest.raises(UsageError, match="not a zoo-bench cache"):
        ArtifactCache(foreign).clear()
    with pytest.raises(UsageError, match="not empty and not a zoo-bench cache"):
        ArtifactCache(foreign).open()
    newer = tmp_path / "newer"
    newer.mkdir()
    (newer / MARKER).write_text(json.dumps({"format": CACHE_FORMAT + 1}))
    with pytest.raises(UsageError, match="newer than this zoo-bench"):
        ArtifactCache(newer).open()
    # a cache written before the marker existed (only tmp/, locks/ and key folders) is adopted
    legacy = tmp_path / "legacy"
    for name in ("tmp", "locks", "ab"):
        (legacy / name).mkdir(parents=True)
    assert ArtifactCache(legacy).open().is_cache()
