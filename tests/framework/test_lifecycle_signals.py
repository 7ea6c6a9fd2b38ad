"""No stage outlives its run (issue 7 item 4): real signals to a real `zoo-bench run`.

SIGTERM takes the Ctrl-C path (stages killed, finished jobs kept, run marked interrupted);
after kill -9 of the CLI, the stage process and the tools it started die with it; a worker
stops itself past the stage timeout even when nobody kills it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.framework.test_harness import _start, _wait_for, calls, rows, stage_status

#: A plugin whose model starts a long `sleep` (a tool the stage runs) and then hangs itself.
SPAWN_PLUGIN = '''
import os, subprocess, time
from zoo_bench import ModelSource, ModelSpec, Target, hookimpl

class SpawnSource(ModelSource):
    """Starts a child tool and hangs (lifecycle tests)."""
    name = "zb_spawn"

    def models(self):
        yield ModelSpec(name="spawn_hang", source="zb_spawn", family="spawn", resolution=8, native_format="npz")

    def build(self, model, ctx):
        child = subprocess.Popen(["sleep", "300"])
        with open(os.environ["ZB_SPAWN_PIDS"], "a") as fh:
            fh.write(f"{os.getpid()} {child.pid}\\n")
        time.sleep(3600)

class SpawnTarget(Target):
    def plan(self, model, p):
        return [p.source()]

@hookimpl
def zoo_bench_register_model_sources(register):
    register(SpawnSource())

@hookimpl
def zoo_bench_register_targets(register):
    register(SpawnTarget(id="spawn_t", vendor="fakes", device_class="CPU"))
'''


def alive(pid: int) -> bool:
    """The process exists and is not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def workers_under(path: Path) -> list[int]:
    """Pids of live stage workers whose request lies under ``path``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "zoo_bench.worker" in cmd and str(path) in cmd and alive(int(proc.name)):
            found.append(int(proc.name))
    return found


def _spawn_env(tmp_path: Path, zb_env: dict[str, str]) -> dict[str, str]:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "zb_spawn_plugin.py").write_text(textwrap.dedent(SPAWN_PLUGIN))
    env = dict(zb_env)
    env["PYTHONPATH"] = os.pathsep.join([str(plugins), env["PYTHONPATH"]])
    env["ZOO_BENCH_PLUGINS"] = "zb_fake_plugin,zb_spawn_plugin"
    env["ZB_SPAWN_PIDS"] = str(tmp_path / "spawn.pids")
    return env


def test_kill_9_of_the_run_takes_its_stage_and_the_stage_tools_down(tmp_path, zb_env):
    env = _spawn_env(tmp_path, zb_env)
    pids_file = Path(env["ZB_SPAWN_PIDS"])
    proc = _start(["run", "-m", "spawn_hang", "-t", "spawn_t", "-o", str(tmp_path / "out")], env)
    _wait_for(lambda: pids_file.exists() and pids_file.read_text().endswith("\n"))
    worker, tool = map(int, pids_file.read_text().split())
    assert alive(worker) and alive(tool)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    _wait_for(lambda: not alive(worker) and not alive(tool), timeout=15)
    assert not workers_under(tmp_path)


def test_sigterm_is_handled_like_ctrl_c(tmp_path, zb_env):
    env = _spawn_env(tmp_path, zb_env)
    pids_file = Path(env["ZB_SPAWN_PIDS"])
    out = tmp_path / "out"
    proc = _start(["run", "-m", "fake_tiny,spawn_hang", "-t", "fake_a", "-o", str(out)], env)
    _wait_for(lambda: pids_file.exists() and pids_file.read_text().endswith("\n"))
    worker, tool = map(int, pids_file.read_text().split())
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    _wait_for(lambda: not alive(worker) and not alive(tool), timeout=15)
    assert not workers_under(tmp_path)
    records = rows(out)
    assert stage_status(records, "fake_tiny@fake_a", "run:fake_numpy:int8")[0] == "ok"  # finished job kept
    assert stage_status(records, "spawn_hang@fake_a", "source") == ("failed", "interrupted")
    (manifest,) = out.glob("runs/*/run.json")
    assert json.loads(manifest.read_text())["status"] == "interrupted"
    assert "build fake_tiny" in calls(env)


def test_a_worker_stops_itself_past_the_stage_timeout(tmp_path, zb_env):
    """Nobody kills this worker: its own watchdog ends it (and its tool) shortly after timeout_s."""
    from zoo_bench.worker import SELF_TIMEOUT_GRACE_S

    env = _spawn_env(tmp_path, zb_env)
    pids_file = Path(env["ZB_SPAWN_PIDS"])
    work = tmp_path / "stage"
    work.mkdir()
    request = {
        "stage": {"id": "source", "kind": "source", "component": "zb_spawn", "inputs": [], "options": {}},
        "model": {"name": "spawn_hang", "source": "zb_spawn", "family": "spawn", "resolution": 8,
                  "native_format": "npz"},
        "target": "spawn_t", "options": {}, "inputs": {}, "workdir": str(work),
        "result": str(work / "result.json"), "parent_pid": os.getpid(), "timeout_s": 1.0,
    }
    (work / "request.json").write_text(json.dumps(request))
    t0 = time.time()
    with open(work / "stage.log", "wb") as log:
        worker = subprocess.Popen([sys.executable, "-m", "zoo_bench.worker", str(work / "request.json")],
                                  env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            worker.wait(timeout=1.0 + SELF_TIMEOUT_GRACE_S + 30)
        finally:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
    assert time.time() - t0 >= 1.0
    assert worker.returncode == -signal.SIGKILL
    assert "ran past its timeout of 1 s" in (work / "stage.log").read_text()
    _, tool = map(int, pids_file.read_text().split())
    _wait_for(lambda: not alive(tool), timeout=10)
