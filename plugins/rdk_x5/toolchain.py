"""Where the Horizon toolchain (``hb_mapper``) is, and which version it is, without running it.

The toolchain is CPython 3.10 only (registry packages ``rdkx5-yolo-mapper``, ``dgdk``,
``dg-nn-toolkit``) while zoo-bench runs on 3.11, so zoo-bench drives it as a subprocess, found as:

1. the option ``toolchain_python`` (a Python 3.10 interpreter with the packages installed; the
   path is kept as given, never resolved: a venv's ``bin/python`` is a symlink to the base
   interpreter, which does not see the venv's packages),
2. else ``$ZOO_BENCH_HORIZON_PYTHON`` (the same, from the environment),
3. else the toolchain ``zoo-bench toolchain install horizon`` made (:data:`SPEC`),
4. else an ``hb_mapper`` executable on PATH (e.g. inside D-Robotics' OpenExplorer docker image).

With an interpreter, ``hb_mapper`` runs as ``PYTHON -c 'from horizon_tc_ui.hb_mapper import main;
main()'`` and the interpreter's ``bin`` directory goes first on PATH: hb_mapper calls the
``hbdk-cc``/``hbdk-perf`` console scripts of the ``dgdk`` package installed there.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo_bench.toolchains import ToolchainSpec, installed_python

HORIZON_PYTHON_ENV = "ZOO_BENCH_HORIZON_PYTHON"
TOOLCHAIN = "horizon"
HOW_TO = (f"run `zoo-bench toolchain install {TOOLCHAIN}` (needs a CPython 3.10), or pass "
          f"-s toolchain_python=ENV/bin/python (or set ${HORIZON_PYTHON_ENV}) for a Python 3.10 environment with "
          "rdkx5-yolo-mapper, or put hb_mapper on PATH; see docs/rdk_x5.md")
CONSTRAINTS = Path(__file__).with_name("horizon_constraints.txt")
#: What `zoo-bench toolchain install horizon` installs (declared by the plugin's hook).
SPEC = ToolchainSpec(
    name=TOOLCHAIN,
    description="D-Robotics Horizon toolchain for the RDK X5 (hb_mapper 1.24.3, hbdk 3.49.15, hmct): "
                "rdkx5-yolo-mapper, dgdk, dg-nn-toolkit, torch 1.12.1 (CUDA inside its own wheel, no nvidia-* "
                "wheels)",
    python="3.10",
    packages=("rdkx5-yolo-mapper", "dgdk", "dg-nn-toolkit", "torch", "setuptools"),
    constraints=CONSTRAINTS,
    check=("hb_mapper", "--version"),
    python_env="ZOO_BENCH_PYTHON310",
    docs="docs/rdk_x5.md",
)
LAUNCH = "import sys; sys.argv[0] = 'hb_mapper'; from horizon_tc_ui.hb_mapper import main; main()"
#: version files of the three packages, relative to site-packages
_VERSION_FILES = {
    "hb_mapper": ("horizon_tc_ui/version.py", r"__version__\s*=\s*r?[\"']([^\"']+)"),
    "hbdk": ("hbdk/__init__.py", r"__version__\s*=\s*r?[\"']([^\"']+)"),
    "hmct": ("hmct/version.py", r"__version__\s*=\s*r?[\"']([^\"']+)"),
}


@dataclass(frozen=True)
class Toolchain:
    """How to start ``hb_mapper``: the argv prefix, the directory to put first on PATH, and where
    it was found (for messages)."""

    command: tuple[str, ...]
    bin_dir: Path | None
    origin: str

    def env(self) -> dict[str, str]:
        """The environment for hb_mapper: PATH led by the toolchain's bin directory."""
        env = dict(os.environ)
        if self.bin_dir is not None:
            env["PATH"] = os.pathsep.join([str(self.bin_dir), env.get("PATH", "")])
        return env

    def site_packages(self) -> list[Path]:
        """Candidate site-packages of the toolchain's environment (venv or conda layout)."""
        if self.bin_dir is None:
            return []
        root = self.bin_dir.parent
        return sorted(root.glob("lib/python3*/site-packages"))

    def versions(self) -> dict[str, str]:
        """Installed versions read from the packages' files (no process started)."""
        found: dict[str, str] = {}
        for name, (rel, pattern) in _VERSION_FILES.items():
            for site in self.site_packages():
                path = site / rel
                if path.is_file():
                    match = re.search(pattern, path.read_text(errors="replace"))
                    if match:
                        found[name] = match.group(1)
                        break
        return found or {"hb_mapper": "unknown"}


def _python_option(options: dict[str, Any] | None) -> tuple[str | None, str]:
    value = (options or {}).get("toolchain_python")
    if value:
        return str(value), "option toolchain_python"
    value = os.environ.get(HORIZON_PYTHON_ENV)
    if value:
        return value, f"${HORIZON_PYTHON_ENV}"
    installed = installed_python(TOOLCHAIN)
    return (str(installed), f"zoo-bench toolchain {TOOLCHAIN}") if installed else (None, "")


def _interpreter(python: str) -> Path:
    """The path as given, made absolute without resolving symlinks (see the module docstring)."""
    return Path(os.path.abspath(Path(python).expanduser()))


def find_toolchain(options: dict[str, Any] | None = None) -> Toolchain | None:
    """The toolchain the options, the environment or PATH name, or ``None``."""
    python, origin = _python_option(options)
    if python:
        path = _interpreter(python)
        # Not resolved: a venv's bin/python is a symlink to the base interpreter, and the
        # packages live beside the link, not beside its target.
        return Toolchain((str(path), "-c", LAUNCH), path.parent, f"{origin} ({path})")
    exe = shutil.which("hb_mapper")
    if exe:
        return Toolchain((exe,), Path(exe).parent, f"hb_mapper on PATH ({exe})")
    return None


def missing_reason(options: dict[str, Any] | None = None) -> str | None:
    """Why the toolchain cannot be used (a skip reason that says how to provide it), or ``None``."""
    python, origin = _python_option(options)
    if python:
        path = _interpreter(python)
        if not path.is_file() or not os.access(path, os.X_OK):
            return f"{origin} names {path}, which is not an executable Python interpreter; {HOW_TO}"
        return None
    if shutil.which("hb_mapper") is None:
        return f"the Horizon toolchain (hb_mapper) is not reachable: {HOW_TO}"
    return None
