"""What a run says about itself: the git commit it measured and the machine it ran on.

Written into the run's manifest (``run.json``) at start and end, so that `zoo-bench history`
and `zoo-bench compare` can say *what changed* between two runs, and a timing taken while
something else ate the CPU is flagged instead of trusted.

The machine checks follow the spirit of pyperf's ``system show`` (docs:
https://pyperf.readthedocs.io/en/latest/system.html): the CPU frequency governor, the load
average, and, beyond pyperf, which other processes used the CPU while we sampled (the run's own
process tree excluded). Nothing here needs git, psutil or root: what cannot be read is left out.
"""

from __future__ import annotations

import os
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import UsageError

#: another process using more than this share of one core while we sample makes the machine busy
BUSY_OTHERS_PCT = 50.0
#: a 1-minute load average above this fraction of the CPU count at start makes the machine busy
BUSY_LOAD_PER_CPU = 0.75
#: seconds over which other processes' CPU use is sampled
SAMPLE_S = 0.25  # twice per run: long enough to see a process that keeps a core busy
TOP_PROCESSES = 5


def check_label(label: str | None) -> str | None:
    """A run label: one line of 1 to 100 printable characters (surrounding spaces dropped)."""
    if label is None:
        return None
    if not isinstance(label, str) or not label.strip() or len(label) > 100 or not label.isprintable():
        raise UsageError(f"--label {str(label)[:40]!r}: expected one line of 1 to 100 printable characters")
    return label.strip()


def git_facts(cwd: Path | None = None) -> dict[str, Any] | None:
    """Commit, branch and dirtiness of the repository holding ``cwd``; ``None`` without git or a repository.

    The repository is not trusted: fsmonitor hooks are switched off and nothing is executed from it.
    """
    where = str(cwd or Path.cwd())

    def git(*args: str) -> str | None:
        try:
            proc = subprocess.run(["git", "-c", "core.fsmonitor=false", "-C", where, *args], capture_output=True,
                                  text=True, timeout=10, env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
        except (OSError, subprocess.SubprocessError):
            return None
        return proc.stdout.strip() if proc.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if not commit:
        return None
    branch = git("rev-parse", "--abbrev-ref", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "branch": None if branch in (None, "HEAD") else branch,
            "dirty": None if status is None else bool(status)}


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None


def cpu_model() -> str | None:
    for line in (_read("/proc/cpuinfo") or "").splitlines():
        if line.startswith(("model name", "Model", "Hardware")):
            return line.split(":", 1)[1].strip()
    return None


def governor() -> str | None:
    """The CPU frequency governor(s), e.g. ``performance`` or ``powersave,performance``; ``None`` when not exposed."""
    found = {g for p in sorted(Path("/sys/devices/system/cpu").glob("cpu[0-9]*/cpufreq/scaling_governor"))
             if (g := _read(str(p)))}
    return ",".join(sorted(found)) or None


def _cpu_ticks() -> dict[int, tuple[str, int, int]]:
    """pid -> (command name, parent pid, utime + stime in clock ticks) of every readable process."""
    out = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        text = _read(f"/proc/{entry.name}/stat")
        if not text or ")" not in text:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        try:  # fields after the name: state ppid ... utime(12th) stime(13th), counted from state = 0
            out[int(entry.name)] = (name, int(fields[1]), int(fields[11]) + int(fields[12]))
        except (IndexError, ValueError):
            continue
    return out


def _own_tree(procs: dict[int, tuple[str, int, int]]) -> set[int]:
    own = {os.getpid()}
    grew = True
    while grew:
        grew = False
        for pid, (_name, ppid, _t) in procs.items():
            if ppid in own and pid not in own:
                own.add(pid)
                grew = True
    return own


def other_processes(sample_s: float = SAMPLE_S) -> tuple[float, list[dict[str, Any]]] | None:
    """(CPU % of one core used by processes outside this one's tree, the top ones) over ``sample_s`` seconds."""
    if not Path("/proc/self/stat").exists():
        return None
    hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    before = _cpu_ticks()
    time.sleep(sample_s)
    after = _cpu_ticks()
    own = _own_tree(after) | _own_tree(before)
    used = []
    for pid, (name, _ppid, ticks) in after.items():
        if pid in own or pid not in before:
            continue
        pct = 100.0 * (ticks - before[pid][2]) / hz / sample_s
        if pct > 0:
            used.append({"pid": pid, "name": name, "cpu_pct": round(pct, 1)})
    used.sort(key=lambda p: -p["cpu_pct"])
    return round(sum(p["cpu_pct"] for p in used), 1), used[:TOP_PROCESSES]


def machine_facts(sample_s: float = SAMPLE_S) -> dict[str, Any]:
    """CPU model and count, governor, load average and what else used the CPU, now."""
    facts: dict[str, Any] = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "cpu_model": cpu_model(),
                             "cpu_count": os.cpu_count(), "governor": governor()}
    try:
        facts["load_avg"] = [round(v, 2) for v in os.getloadavg()]
    except OSError:
        facts["load_avg"] = None
    others = other_processes(sample_s)
    if others is not None:
        facts["others_cpu_pct"], facts["top_processes"] = others
        facts["sample_s"] = sample_s
    return facts


def busy_reasons(facts: dict[str, Any], phase: str) -> list[str]:
    """Why timings taken around ``facts`` are suspect (empty when the machine looked quiet)."""
    reasons = []
    others = facts.get("others_cpu_pct")
    if isinstance(others, (int, float)) and others >= BUSY_OTHERS_PCT:
        top = ", ".join(f"{p['name']} {p['cpu_pct']:g} %" for p in facts.get("top_processes") or [])
        reasons.append(f"busy machine at {phase}: other processes used {others:g} % of a core ({top})")
    load, cpus = facts.get("load_avg"), facts.get("cpu_count") or 1
    # at the end the load average counts the run itself: only the start's says what else ran
    if phase == "start" and load and load[0] >= BUSY_LOAD_PER_CPU * cpus:
        reasons.append(f"busy machine at start: load average {load[0]:g} on {cpus} CPUs")
    return reasons


def start_facts(cwd: Path | None = None, sample_s: float = SAMPLE_S) -> dict[str, Any]:
    """Manifest fields written when a run starts: ``git``, ``machine.start``, ``warnings``."""
    machine = machine_facts(sample_s)
    warnings = busy_reasons(machine, "start")
    gov = machine.get("governor")
    if gov and gov != "performance":
        warnings.append(f"CPU governor is {gov}, not performance: clock speed may vary between runs")
    return {"git": git_facts(cwd), "machine": {"start": machine}, "warnings": warnings}


def end_facts(start: dict[str, Any], sample_s: float = SAMPLE_S) -> dict[str, Any]:
    """Manifest fields written when a run ends: ``machine`` with ``end`` added, ``warnings``, ``busy``."""
    machine = machine_facts(sample_s)
    warnings = [*start.get("warnings", []), *busy_reasons(machine, "end")]
    return {"machine": {**start.get("machine", {}), "end": machine}, "warnings": warnings,
            "busy": any(w.startswith("busy machine") for w in warnings)}
