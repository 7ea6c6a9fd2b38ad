"""Runs one stage in its own process: ``python -m zoo_bench.worker REQUEST.json``.

The CLI process never imports tensorflow or torch; each stage that needs them gets a fresh
process that returns its memory when it exits, and a stage that aborts (TFLM's ``abort()``)
takes only itself down. The worker writes ``result.json`` into the stage's staging
directory whatever happens: ``ok`` with the artifact and figures, ``skipped`` for
:class:`ToolUnavailable`, ``failed`` with the error otherwise. A process that dies before
writing it is reported as failed by the parent, with the tail of its log.

A worker never outlives its run. It leads its own process group (the parent starts it in a new
session, so that a timeout kills the tools it started too), and so it watches its parent
itself: ``PR_SET_PDEATHSIG`` (Linux) sends it SIGTERM when the parent dies, a watchdog thread
polls the parent pid as a fallback (PDEATHSIG fires on the exit of the parent *thread* that
started it, and is Linux-only), and the same thread ends the stage a little after
``timeout_s``, the stage timeout, had the parent not killed it already. Each way kills the
whole process group, so a tool the stage started (vela, ssh) goes too.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from .components import Compiler, Component, ModelSource, Quantizer, Runner, StageContext, StageOutput
from .errors import ToolUnavailable, UsageError
from .plan import STAGE_KINDS
from .plugins import get_registry
from .provenance import check_figures
from .resources import stage_device
from .serialize import artifact_from_dict, artifact_to_dict, figure_to_dict, spec_from_dict


def call_component(component: Component, kind: str, ctx: StageContext) -> StageOutput:
    if kind == "source":
        assert isinstance(component, ModelSource)
        return component.build(ctx.model, ctx)
    if kind == "export":
        assert isinstance(component, ModelSource)
        return component.export(ctx.options["format"], ctx)
    if kind == "quantize":
        assert isinstance(component, Quantizer)
        return component.quantize(ctx)
    if kind == "compile":
        assert isinstance(component, Compiler)
        return component.compile(ctx)
    assert isinstance(component, Runner)
    return component.run(ctx)


def run_request(request: dict[str, Any]) -> dict[str, Any]:
    workdir = Path(request["workdir"])
    stage = request["stage"]
    registry = get_registry()
    result: dict[str, Any] = {"status": "ok", "reason": "", "figures": [], "artifact": None}
    t0 = time.time()
    try:
        target = registry.targets[request["target"]]
        component = registry.component(STAGE_KINDS[stage["kind"]], stage["component"])
        result["tool_versions"] = component.tool_versions()
        inputs = {k: artifact_from_dict(v, Path("/")) for k, v in request["inputs"].items()}
        ctx = StageContext(
            model=spec_from_dict(request["model"]),
            target=target,
            stage_id=stage["id"],
            options=request["options"],
            inputs=inputs,
            workdir=workdir,
            registry=registry,
        )
        output = call_component(component, stage["kind"], ctx)
        problem = check_figures(component, output.figures, *stage_device(component, target, ctx.options))
        if problem:  # a figure claiming more than its stage did (provenance.py)
            raise UsageError(problem)
        if output.artifact is not None:
            result["artifact"] = artifact_to_dict(output.artifact, workdir)
        result["figures"] = [figure_to_dict(f) for f in output.figures]
    except ToolUnavailable as exc:
        result.update(status="skipped", reason=str(exc))
    except UsageError as exc:
        result.update(status="failed", reason=str(exc))
    except Exception as exc:
        result.update(status="failed", reason=f"{type(exc).__name__}: {exc}".strip())
        traceback.print_exc()
    result["duration_s"] = time.time() - t0
    return result


#: Seconds past the stage timeout before the worker stops itself (the parent normally kills it
#: at the timeout and reports it; this only matters when the parent cannot).
SELF_TIMEOUT_GRACE_S = 5.0
#: How often the watchdog looks at the parent.
WATCH_INTERVAL_S = 0.5
_PR_SET_PDEATHSIG = 1


def _die(why: str) -> None:
    """Kill this worker's process group (itself and every tool it started)."""
    try:
        print(f"zoo-bench worker: {why}; stopping the stage", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass
    try:
        if os.getpgrp() == os.getpid():  # only a group of our own (started in a new session)
            os.killpg(os.getpgrp(), signal.SIGKILL)
    finally:
        os._exit(137)


def _set_parent_death_signal(sig: int) -> bool:
    """Ask the kernel to send ``sig`` when the parent dies (Linux prctl); ``False`` elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def group_rss_mb(root: int | None = None) -> float:
    """Resident memory (MiB) of this process and every process it started, recursively (Linux
    ``/proc``; 0 elsewhere)."""
    total_kb, todo, seen = 0, [root or os.getpid()], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
                    break
            for task in Path(f"/proc/{pid}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return total_kb / 1024.0


#: Where the worker writes why it stopped itself (set by main: the request's result file).
_RESULT_FILE: Path | None = None


def _die_with_result(why: str) -> None:
    """Record ``why`` as the stage's failed result (the parent reports it), then :func:`_die`."""
    if _RESULT_FILE is not None:
        try:
            tmp = _RESULT_FILE.with_suffix(".tmp")
            tmp.write_text(json.dumps({"status": "failed", "reason": why, "figures": [], "artifact": None}))
            tmp.replace(_RESULT_FILE)
        except OSError:
            pass
    _die(why)


def guard_lifetime(parent_pid: int | None, timeout_s: float | None, memory_limit_mb: float | None = None) -> None:
    """Make this process die with ``parent_pid``, after ``timeout_s`` (+ a grace), and when it
    and its tools hold more than ``memory_limit_mb`` of resident memory."""
    if parent_pid:
        signal.signal(signal.SIGTERM, lambda signum, frame: _die("the zoo-bench run that started it ended"))
        _set_parent_death_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout_s + SELF_TIMEOUT_GRACE_S if timeout_s else None
    if parent_pid and os.getppid() != parent_pid:  # the parent died before prctl took effect
        _die(f"its parent {parent_pid} is gone")

    def watch() -> None:
        while True:
            if parent_pid and os.getppid() != parent_pid:
                _die(f"its parent {parent_pid} is gone")
            if deadline is not None and time.monotonic() > deadline:
                _die_with_result(f"the stage ran past its timeout of {timeout_s:g} s")
            if memory_limit_mb:
                used = group_rss_mb()
                if used > memory_limit_mb:
                    _die_with_result(f"the stage used {used:.0f} MiB of memory, more than its limit of "
                                     f"{memory_limit_mb:.0f} MiB, and was killed (raise it with "
                                     "$ZOO_BENCH_STAGE_MEMORY_MB, 0 for no limit)")
            time.sleep(WATCH_INTERVAL_S / 5 if memory_limit_mb else WATCH_INTERVAL_S)

    threading.Thread(target=watch, name="zoo-bench-watchdog", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    global _RESULT_FILE
    request = json.loads(Path(argv[0]).read_text())
    out = Path(request["result"])
    _RESULT_FILE = out
    guard_lifetime(request.get("parent_pid"), request.get("timeout_s"), request.get("memory_limit_mb"))
    result = run_request(request)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, default=str))
    tmp.replace(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
