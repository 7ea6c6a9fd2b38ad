"""The adversarial pass of issue 7, re-run: each kind of bad input the CLI may meet, once.

Every case runs ``zoo-bench`` in a subprocess, as a user would, and asserts: no Python traceback,
the documented exit code (2 for bad input, 0 when bad files in a shared store are skipped with a
warning), one line per error on stderr, the expected message, and no file written where none
should be (injections). Read-only folders are simulated with a file-system fault in the child
process (tests/framework/hardening.py: the tests run as root, which writes into ``chmod 555``).
Counts of a run of this module are the counts reported for issue 7 (tracebacks, data lost,
injections); cases owned by other engineers' items (cache, boards over SSH, stage lifetime) are
in their own tests.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import FAKES, run_cli
from tests.framework.hardening import (
    EROFS,
    INJECTION_DIR,
    make_store,
    read_only,
    run_cli_with_fault,
    spoil_store,
    tiny_onnx,
)

LONG = "x" * 5000


@dataclass
class Case:
    """``args(tmp)`` builds the command line (and any files it needs) in the folder ``tmp``."""

    args: Callable[[Path], list[str]]
    code: int
    says: str
    #: globs of paths the child may not write (read-only), relative to tmp
    read_only: tuple[str, ...] = ()
    #: the case reads a store made by a real run (copied into tmp/store)
    store: bool = False
    #: names of files that must not exist in tmp afterwards (injections)
    not_created: tuple[str, ...] = ()
    #: stderr lines allowed besides the error (warnings of skipped files)
    warnings: int = 0
    env: dict[str, str] = field(default_factory=dict)


def _file(tmp: Path, name: str = "a_file", data: bytes = b"x") -> str:
    (tmp / name).write_bytes(data)
    return str(tmp / name)


def _boards(tmp: Path, target: str) -> str:
    (tmp / "boards.toml").write_text(f'[boards.b1]\ntarget = "{target}"\nhost = "192.0.2.1"\n')
    return str(tmp / "boards.toml")


def _onnx(tmp: Path, dims: list, **kw) -> str:
    pytest.importorskip("onnx")
    return str(tiny_onnx(tmp / "model.onnx", dims, **kw))


RUN = ["run", "-t", "fake_a"]

CASES: dict[str, Case] = {
    # item 11: empty selections and boards files
    "model-empty": Case(lambda t: RUN + ["-m", "", "-o", str(t / "o")], 2, "--model names nothing"),
    "model-comma": Case(lambda t: RUN + ["-m", ",", "-o", str(t / "o")], 2, "--model names nothing"),
    "target-empty": Case(lambda t: ["run", "-m", "fake_tiny", "-t", "", "-o", str(t / "o")], 2,
                         "--target names nothing"),
    "target-comma": Case(lambda t: ["run", "-m", "fake_tiny", "-t", " , ", "-o", str(t / "o")], 2,
                         "--target names nothing"),
    "boards-missing": Case(lambda t: RUN + ["-m", "fake_tiny", "--boards", str(t / "nope.toml")], 2,
                           "nope.toml (--boards) does not exist"),
    "boards-is-a-folder": Case(lambda t: RUN + ["-m", "fake_tiny", "--boards", str(t)], 2, "is not a file"),
    "boards-env-missing": Case(lambda t: RUN + ["-m", "fake_tiny", "-o", str(t / "o")], 2,
                               "($ZOO_BENCH_BOARDS) does not exist", env={"ZOO_BENCH_BOARDS": "/nonexistent.toml"}),
    "boards-unknown-target": Case(lambda t: RUN + ["-m", "fake_tiny", "--boards", _boards(t, "imx95")], 2,
                                  "names target 'imx95', which no installed plugin provides (known targets:"),
    # item 9: where results, cache and cards go
    "output-is-a-file": Case(lambda t: RUN + ["-m", "fake_tiny", "-o", _file(t)], 2, "it is a file, not a folder"),
    "output-under-a-file": Case(lambda t: RUN + ["-m", "fake_tiny", "-o", _file(t) + "/sub"], 2, "(-o)"),
    "output-read-only": Case(lambda t: RUN + ["-m", "fake_tiny", "-o", str(t / "ro")], 2,
                             "(-o): Read-only file system", read_only=("ro",)),
    "output-5000-chars": Case(lambda t: RUN + ["-m", "fake_tiny", "-o", str(t / LONG)], 2, "File name too long"),
    "cache-is-a-file": Case(lambda t: RUN + ["-m", "fake_tiny", "-o", str(t / "o"), "--cache-dir", _file(t)], 2,
                            "it is a file, not a folder"),
    "cache-read-only": Case(lambda t: RUN + ["-m", "fake_tiny", "-o", str(t / "o"), "--cache-dir", str(t / "ro")], 2,
                            "Read-only file system", read_only=("ro",)),
    "cache-env-5000-chars": Case(lambda t: RUN + ["-m", "fake_tiny", "-o", str(t / "o")], 2, "File name too long",
                                 env={"ZOO_BENCH_CACHE": "/tmp/" + LONG}),
    "model-path-5000-chars": Case(lambda t: RUN + ["-m", str(t / LONG) + ".onnx", "-o", str(t / "o")], 2,
                                  "File name too long"),
    "dataset-5000-chars": Case(lambda t: RUN + ["-m", "fake_tiny", "--dataset", str(t / LONG)], 2, "--dataset"),
    "boards-5000-chars": Case(lambda t: RUN + ["-m", "fake_tiny", "--boards", str(t / LONG)], 2,
                              "(--boards) cannot be read: File name too long"),
    "cards-dir-is-a-file": Case(lambda t: ["card", "-o", str(t / "store"), "--cards-dir", _file(t)], 2,
                                "(--cards-dir): it is a file, not a folder", store=True),
    "cards-dir-read-only": Case(lambda t: ["card", "-o", str(t / "store"), "--cards-dir", str(t / "ro")], 2,
                                "(--cards-dir): Read-only file system", store=True, read_only=("ro",)),
    "card-model-empty": Case(lambda t: ["card", "-o", str(t / "store"), "-m", ""], 2, "--model names nothing",
                             store=True),
    # item 9 / 13: model files
    "onnx-0-bytes": Case(lambda t: ["run", "-t", "cpu", "-m", _file(t, "m.onnx", b""), "-o", str(t / "o")], 2,
                         "is not an ONNX model"),
    "onnx-inputs-all-initializers": Case(lambda t: ["run", "-t", "cpu", "-m", _onnx(t, [1, 3, 8, 8],
                                                                                    all_initializers=True)], 2,
                                         "every graph input is an initializer"),
    "onnx-dynamic-hw": Case(lambda t: ["run", "-t", "cpu", "-m", _onnx(t, ["N", 3, "H", "W"])], 2,
                            "dynamic; give --resolution N"),
    "resolution-for-nothing": Case(lambda t: RUN + ["-m", "fake_tiny", "--resolution", "64"], 2,
                                   "no chosen model has one"),
    "onnx-garbage": Case(lambda t: ["run", "-t", "cpu", "-m", _file(t, "g.onnx", b"\x08\x01garbage" * 50)], 2,
                         "g.onnx"),
    # item 2: SQL
    "sql-read-file": Case(lambda t: ["results", "-o", str(t / "store"), "--sql",
                                     "select * from read_csv('/etc/passwd')"], 2, "disabled by configuration",
                          store=True),
    "sql-copy-to": Case(lambda t: ["results", "-o", str(t / "store"), "--sql", "COPY (SELECT 42) TO 'pwn.csv'"], 2,
                        "disabled by configuration", store=True, not_created=("pwn.csv",)),
    "sql-attach": Case(lambda t: ["results", "-o", str(t / "store"), "--sql", "ATTACH 'pwn.db' AS p"], 2,
                       "disabled by configuration", store=True, not_created=("pwn.db",)),
    "sql-unlock": Case(lambda t: ["results", "-o", str(t / "store"), "--sql", "SET lock_configuration = false"], 2,
                       "locked", store=True),
    "sql-injection-folder": Case(lambda t: _injected(t) + ["--sql", "select count(*) as n from results"], 0, "",
                                 store=True, not_created=("pwn.csv",)),
    # item 10: bad files in a shared store (skipped with one warning each, exit 0)
    "store-bad-files-results": Case(lambda t: _spoiled(t) + [], 0, "", store=True, warnings=6),
    "store-bad-files-sql": Case(lambda t: _spoiled(t) + ["--sql", "select count(*) from results"], 0, "",
                                store=True, warnings=4),
    "store-bad-files-list": Case(lambda t: _spoiled(t) + ["--list"], 0, "", store=True, warnings=2),
    "store-bad-files-card": Case(lambda t: ["card", *_spoiled(t)[1:], "--cards-dir", str(t / "cards")], 0, "",
                                 store=True, warnings=6),
    "store-bad-files-compare": Case(lambda t: ["compare", *_spoiled(t, runs=2)[1:], "--all"], 0, "", store=True,
                                    warnings=6),
    "results-output-5000-chars": Case(lambda t: ["results", "-o", str(t / LONG)], 2, "File name too long"),
}


def _injected(tmp: Path) -> list[str]:
    source = next((tmp / "store" / "runs").iterdir())
    shutil.copytree(source, tmp / "store" / "runs" / INJECTION_DIR)
    return ["results", "-o", str(tmp / "store")]


def _spoiled(tmp: Path, runs: int = 1) -> list[str]:
    if runs == 2:  # a copy of the run as a later one, for compare
        source = next((tmp / "store" / "runs").iterdir())
        shutil.copytree(source, source.with_name(source.name[:-4] + "ffff"))
    spoil_store(tmp / "store")
    return ["results", "-o", str(tmp / "store")]


@pytest.fixture(scope="module")
def module_env(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("matrix")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(FAKES), env.get("PYTHONPATH", "")]))
    env.update(ZOO_BENCH_PLUGINS="zb_fake_plugin", ZOO_BENCH_CACHE=str(root / "cache"),
               ZB_FAKE_LOG=str(root / "calls.log"))
    for name in ("ZOO_BENCH_DISABLE_PLUGINS", "ZOO_BENCH_BOARDS"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="module")
def one_run_store(tmp_path_factory, module_env) -> Path:
    """A store with one real run of the fake plugin, made once and copied by each case."""
    return make_store(tmp_path_factory.mktemp("store") / "store", module_env)


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_gives_one_line_and_its_exit_code(name, tmp_path, module_env, one_run_store):
    case = CASES[name]
    if case.store:
        shutil.copytree(one_run_store, tmp_path / "store")
    args = case.args(tmp_path)
    env = dict(module_env, **case.env)
    if case.read_only:
        globs = [g for rel in case.read_only for g in read_only(tmp_path / rel)]
        proc = run_cli_with_fault(args, globs, EROFS, env, cwd=tmp_path)
    else:
        proc = run_cli(args, env=env, cwd=tmp_path)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == case.code, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if not line.startswith("zoo-bench: warning: skipped")]
    assert len(errors) == (1 if case.code == 2 else 0), proc.stderr
    assert len(lines) - len(errors) == case.warnings, proc.stderr
    if case.says:
        assert case.says in errors[0], errors[0]
    for created in case.not_created:
        assert not list(tmp_path.rglob(created)), created
