"""Helpers of the hardening tests: run the CLI with a simulated file-system fault, build bad stores.

The tests run as root here, and root writes into a ``chmod 555`` folder, so a read-only folder
or a full disk cannot be made with permissions. Instead the CLI runs in a subprocess whose
``os.mkdir``, ``os.open`` and ``open`` raise the chosen ``OSError`` (``EROFS``, ``ENOSPC``, ...)
for paths matching given globs, exactly as the kernel would; everything else is untouched.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import run_cli

#: Installed before ``zoo_bench.cli.main`` in the child: writes to paths matching $ZB_FAULT_GLOBS
#: (os.pathsep separated fnmatch globs) fail with errno $ZB_FAULT_ERRNO.
FAULT_PREAMBLE = r'''
import builtins, errno, fnmatch, io, os, sys
_GLOBS = [g for g in os.environ["ZB_FAULT_GLOBS"].split(os.pathsep) if g]
_ERRNO = int(os.environ["ZB_FAULT_ERRNO"])
_mkdir, _open, _io_open = os.mkdir, os.open, io.open

def _hit(path):
    try:
        name = os.path.abspath(os.fsdecode(path))
    except (TypeError, ValueError):
        return False
    return any(fnmatch.fnmatchcase(name, g) for g in _GLOBS)

def _fail(path):
    raise OSError(_ERRNO, os.strerror(_ERRNO), os.fsdecode(path))

def mkdir(path, mode=0o777, *args, **kwargs):
    if _hit(path):
        if os.path.exists(path):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), os.fsdecode(path))
        _fail(path)
    return _mkdir(path, mode, *args, **kwargs)

def os_open(path, flags, mode=0o777, *args, **kwargs):
    if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and _hit(path):
        _fail(path)
    return _open(path, flags, mode, *args, **kwargs)

def io_open(file, mode="r", *args, **kwargs):
    if isinstance(file, (str, bytes, os.PathLike)) and any(c in mode for c in "wax+") and _hit(file):
        _fail(file)
    return _io_open(file, mode, *args, **kwargs)

os.mkdir, os.open, io.open, builtins.open = mkdir, os_open, io_open, io_open
from zoo_bench.cli import main
main(sys.argv[1:])
'''


def run_cli_with_fault(args: list[str], globs: list[str | Path], err: int, env: dict[str, str],
                       cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``zoo-bench ARGS`` where creating or writing any path matching ``globs`` fails with ``err``."""
    env = dict(env, ZB_FAULT_GLOBS=os.pathsep.join(str(g) for g in globs), ZB_FAULT_ERRNO=str(err))
    return subprocess.run([sys.executable, "-c", FAULT_PREAMBLE, *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=600)


def read_only(folder: Path) -> list[str]:
    """Globs that make ``folder`` (existing or not) and everything under it read-only."""
    return [str(folder), f"{folder}/*"]


EROFS = errno.EROFS
ENOSPC = errno.ENOSPC

INJECTION_DIR = "z\"']); COPY (SELECT 42) TO $$pwn.csv$$; --"


def make_store(root: Path, env: dict[str, str]) -> Path:
    """A store with one real run of the fake plugin (fake_tiny on fake_a): 2 latency rows and more."""
    proc = run_cli(["run", "-m", "fake_tiny", "-t", "fake_a", "-o", str(root), "-q"], env=env)
    assert proc.returncode == 0, proc.stderr
    return root


def spoil_store(root: Path) -> dict[str, Path]:
    """Add one of each kind of bad file a shared store may hold; return them by kind."""
    run_dir = sorted((root / "runs").iterdir())[-1]  # the latest run, which every command reads
    jobs = run_dir / "jobs"
    bad = {"empty": jobs / "empty.parquet", "corrupt": jobs / "corrupt.parquet",
           "foreign": jobs / "foreign.parquet", "string_value": jobs / "string_value.parquet"}
    bad["empty"].write_bytes(b"")
    good = next(p for p in jobs.glob("*.parquet") if p not in bad.values()).read_bytes()
    bad["corrupt"].write_bytes(good[: len(good) // 2])  # truncated: the footer is gone
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"a": [1, 2]}), bad["foreign"])
    pq.write_table(pa.table({"run_id": ["r"], "model": ["m"], "target": ["t"], "stage": ["s"], "metric": ["x"],
                             "value": ["1.5"], "status": ["ok"]}), bad["string_value"])
    other = root / "runs" / "20990101T000000Z-dead"  # a later run whose manifest is not JSON
    (other / "jobs").mkdir(parents=True)
    (other / "run.json").write_text("{not json")
    bad["run_json"] = other / "run.json"
    listed = root / "runs" / "20990101T000001Z-list"  # valid JSON of the wrong shape
    (listed / "jobs").mkdir(parents=True)
    (listed / "run.json").write_text(json.dumps(["a", "list"]))
    bad["run_json_list"] = listed / "run.json"
    return bad


def tiny_onnx(path: Path, dims: list, all_initializers: bool = False) -> Path:
    """A 3-channel classifier (GlobalAveragePool -> Gemm, 5 classes) with input dims ``dims``
    (strings are symbolic, i.e. dynamic); ``all_initializers`` also lists the input as a weight."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32), "w")
    inits = [weight]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)]
    if all_initializers:
        inits.append(numpy_helper.from_array(np.zeros([d if isinstance(d, int) else 1 for d in dims], np.float32), "x"))
    nodes = [helper.make_node("GlobalAveragePool", ["x"], ["p"]), helper.make_node("Flatten", ["p"], ["f"]),
             helper.make_node("Gemm", ["f", "w"], ["y"], transB=1)]
    graph = helper.make_graph(nodes, "tiny", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT,
                                                                                     [dims[0], 5])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)
    return path
