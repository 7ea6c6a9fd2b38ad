"""Vendor toolchains zoo-bench can install: Python environments of their own, in its data folder.

A plugin declares one with the ``zoo_bench_register_toolchains`` hook (a :class:`ToolchainSpec`:
the CPython version it needs, the packages, a pinned constraints file and a command that checks
the result). ``zoo-bench toolchain install NAME`` finds that Python, makes a venv in
``<data>/toolchains/NAME/venv`` (``<data>`` is ``$ZOO_BENCH_DATA``, else
``$XDG_DATA_HOME/zoo-bench``, else ``~/.local/share/zoo-bench``), installs the packages under the
constraints, runs the check and writes ``installed.json`` last: a folder without it is an
interrupted install, removed and made again by the next ``install``. Plugins find an installed
toolchain with :func:`installed_python`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UsageError

DATA_ENV = "ZOO_BENCH_DATA"
MARKER = "installed.json"


@dataclass(frozen=True)
class ToolchainSpec:
    """An installable toolchain.

    ``packages`` are installed with ``pip install -c constraints``; ``check`` is run from the
    venv's ``bin`` (its first item is a program there) and must exit 0; ``python`` is the
    ``major.minor`` the packages' wheels need; ``python_env`` names an environment variable that
    may point at such an interpreter (besides ``--python``).
    """

    name: str
    description: str
    python: str
    packages: tuple[str, ...]
    constraints: Path
    check: tuple[str, ...]
    python_env: str = ""
    docs: str = ""
    pip_args: tuple[str, ...] = field(default_factory=tuple)


def data_dir() -> Path:
    """zoo-bench's data folder (toolchains live here)."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "zoo-bench"


def toolchain_dir(name: str) -> Path:
    return data_dir() / "toolchains" / name


def _venv_python(root: Path) -> Path:
    return root / "venv" / "bin" / "python"


def installed(name: str) -> dict[str, Any] | None:
    """The install record of toolchain ``name`` when it is completely installed, else ``None``."""
    root = toolchain_dir(name)
    try:
        record = json.loads((root / MARKER).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or not _venv_python(root).exists():
        return None
    return record


def installed_python(name: str) -> Path | None:
    """The interpreter of the installed toolchain ``name`` (the venv's own, not resolved), or ``None``."""
    return _venv_python(toolchain_dir(name)) if installed(name) is not None else None


def collect(pm: Any) -> tuple[dict[str, ToolchainSpec], list[str]]:
    """The toolchains the plugins declare, and problems (one line each) with their declarations."""
    found: dict[str, ToolchainSpec] = {}
    problems: list[str] = []

    def register(spec: Any) -> None:
        if not isinstance(spec, ToolchainSpec):
            problems.append(f"zoo_bench_register_toolchains registered {spec!r}, not a ToolchainSpec")
        elif spec.name in found:
            problems.append(f"toolchain {spec.name!r} is registered twice")
        else:
            found[spec.name] = spec

    try:
        pm.hook.zoo_bench_register_toolchains(register=register)
    except Exception as exc:  # a broken plugin must not hide the others' toolchains
        problems.append(f"a zoo_bench_register_toolchains implementation failed: {exc}")
    return found, problems


def constraints_hash(spec: ToolchainSpec) -> str:
    return hashlib.sha256(spec.constraints.read_bytes()).hexdigest()[:16]


def python_version(exe: Path | str) -> str | None:
    """``major.minor`` of an interpreter, or ``None`` when it does not start."""
    try:
        out = subprocess.run([str(exe), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _pyenv_candidates(version: str) -> Iterator[Path]:
    roots = [os.environ.get("PYENV_ROOT", ""), str(Path.home() / ".pyenv")]
    exe = shutil.which("pyenv")
    if exe:
        try:
            roots.insert(0, subprocess.run([exe, "root"], capture_output=True, text=True, timeout=30).stdout.strip())
        except (OSError, subprocess.SubprocessError):
            pass
    seen = set()
    for root in roots:
        if not root or root in seen:
            continue
        seen.add(root)
        folders = sorted(Path(root).glob(f"versions/{version}*"), reverse=True)  # newest patch first
        for folder in folders:
            yield folder / "bin" / f"python{version}"


def _uv_candidate(version: str) -> Iterator[Path]:
    exe = shutil.which("uv")
    if not exe:
        return
    try:
        out = subprocess.run([exe, "python", "find", version], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return
    if out.returncode == 0 and out.stdout.strip():
        yield Path(out.stdout.strip().splitlines()[-1])


def find_python(version: str, given: str | None = None, env_var: str = "") -> tuple[Path | None, list[str]]:
    """A CPython ``version`` interpreter: ``given``, else ``$env_var``, else pyenv's versions, else
    ``uv python find``, else ``pythonX.Y`` on PATH. Returns it (or ``None``) and where it looked.

    A ``given`` interpreter of another version is a usage error (the user asked for it)."""
    if given:
        path = Path(given).expanduser()
        found = python_version(path)
        if found != version:
            what = f"is Python {found}" if found else "does not start as a Python interpreter"
            raise UsageError(f"--python {given} {what}; this toolchain needs CPython {version}")
        return path, [f"--python {given}"]
    looked: list[str] = []
    candidates: list[tuple[str, Iterator[Path]]] = []
    if env_var:
        value = os.environ.get(env_var)
        candidates.append((f"${env_var}", iter([Path(value).expanduser()] if value else [])))
    on_path = shutil.which(f"python{version}")
    candidates += [("pyenv versions", _pyenv_candidates(version)),
                   (f"uv python find {version}", _uv_candidate(version)),
                   (f"python{version} on PATH", iter([Path(on_path)] if on_path else []))]
    for where, paths in candidates:
        looked.append(where)
        for path in paths:
            if path.exists() and python_version(path) == version:
                return path, looked
    return None, looked


def _size(root: Path) -> int:
    total = 0
    for folder, _dirs, files in os.walk(root):
        for f in files:
            try:
                st = os.lstat(os.path.join(folder, f))
            except OSError:
                continue
            total += st.st_size
    return total


def _stream(cmd: list[str], echo: Callable[[str], None], env: dict[str, str] | None = None) -> int:
    """Run ``cmd``, passing each output line to ``echo`` (the progress the user sees)."""
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip()
            if line:
                echo(line)
        return proc.wait()


def check(spec: ToolchainSpec, root: Path) -> tuple[bool, str]:
    """Run the spec's check command from the venv's bin; (ok, its output)."""
    bindir = root / "venv" / "bin"
    env = dict(os.environ, PATH=os.pathsep.join([str(bindir), os.environ.get("PATH", "")]))
    env.pop("PYTHONPATH", None)
    try:
        out = subprocess.run([str(bindir / spec.check[0]), *spec.check[1:]], capture_output=True, text=True,
                             timeout=600, env=env)
    except (OSError, subprocess.SubprocessError) as exc:
        return False, str(exc)
    text = (out.stdout + out.stderr).strip()
    return out.returncode == 0, text


def install(spec: ToolchainSpec, python: Path, echo: Callable[[str], None], force: bool = False) -> dict[str, Any]:
    """Install ``spec`` with ``python``; returns the install record (also written as the marker).

    Idempotent: an existing complete install with the same constraints is kept (``force``
    reinstalls). A folder without the marker (an interrupted install) is removed first."""
    root = toolchain_dir(spec.name)
    record = installed(spec.name)
    if record is not None and not force and record.get("constraints_sha256") == constraints_hash(spec):
        echo(f"{spec.name} is already installed at {root} (remove it or use --force to reinstall)")
        return record
    if root.exists():
        echo(f"removing {'the previous' if record else 'an unfinished'} install at {root}")
        shutil.rmtree(root)
    root.mkdir(parents=True)
    start = time.monotonic()
    venv = root / "venv"
    echo(f"[1/3] creating a Python {spec.python} venv at {venv} with {python}")
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # zoo-bench's own import path must not leak into the toolchain
    if _stream([str(python), "-m", "venv", str(venv)], echo, env) != 0:
        raise UsageError(f"{python} -m venv {venv} failed (see above)")
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
           "-c", str(spec.constraints), *spec.pip_args, *spec.packages]
    echo(f"[2/3] pip install -c {spec.constraints.name} {' '.join(spec.packages)}")
    if _stream(pip, lambda line: echo("    " + line), env) != 0:
        raise UsageError(f"pip could not install the {spec.name} toolchain (see above); re-run to start again")
    echo(f"[3/3] checking: {' '.join(spec.check)}")
    ok, output = check(spec, root)
    if not ok:
        raise UsageError(f"the {spec.name} toolchain installed but `{' '.join(spec.check)}` failed: "
                         f"{output.splitlines()[-1] if output else 'no output'}")
    record = {"name": spec.name, "python": str(python), "python_version": spec.python,
              "check": output.splitlines()[-1] if output else "", "size_bytes": _size(root),
              "install_s": round(time.monotonic() - start, 1), "constraints_sha256": constraints_hash(spec),
              "installed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "zoo_bench_python": sys.version}
    tmp = root / (MARKER + ".tmp")
    tmp.write_text(json.dumps(record, indent=1) + "\n")
    tmp.replace(root / MARKER)  # written last: its presence means the install completed
    return record
