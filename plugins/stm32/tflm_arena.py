"""The tensor arena TensorFlow Lite Micro's planner needs for a .tflite model.

Run as a child process (``python -m zoo_bench_stm32.tflm_arena MODEL``): TFLM may ``abort()``
(TOOLCHAIN.md: int8 softmax on near-uniform logits), and ``print_allocations`` writes to the
C-level stderr, which only a process of its own can capture cleanly (fd 2 redirected to a file).
The interpreter is only constructed (``AllocateTensors`` runs in the constructor): nothing is
invoked. Its lines (tflite-micro ``recording_micro_allocator.cc``)::

    [RecordingMicroAllocator] Arena allocation total 10016 bytes
    [RecordingMicroAllocator] Arena allocation head 7744 bytes
    [RecordingMicroAllocator] Arena allocation tail 2272 bytes

``head`` is the non-persistent part (the tensors the planner overlays: activations, input and
output), ``tail`` the persistent part (TFLM's own structures). The script prints one JSON line.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

_LINE = re.compile(r"Arena allocation (total|head|tail) (\d+) bytes")
#: Arena sizes tried in turn: the allocation is virtual until touched, so a large one is cheap.
ARENA_SIZES = (64 << 20, 1 << 30)


def parse_allocations(text: str) -> dict[str, int]:
    """``{"total": .., "head": .., "tail": ..}`` from print_allocations output; raises ValueError."""
    found = {key: int(value) for key, value in _LINE.findall(text)}
    if set(found) != {"total", "head", "tail"}:
        raise ValueError("TFLM printed no 'Arena allocation total/head/tail' lines")
    return found


def _measure(model: Path) -> dict[str, int]:
    from tflite_micro import runtime

    data = model.read_bytes()
    last_error = ""
    for size in ARENA_SIZES:
        with tempfile.TemporaryFile() as capture:
            saved = os.dup(2)
            os.dup2(capture.fileno(), 2)
            try:
                interp = runtime.Interpreter.from_bytes(data, arena_size=size)
                interp.print_allocations()
            except RuntimeError as exc:
                last_error = str(exc)
                continue
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
                os.close(saved)
            capture.seek(0)
            return parse_allocations(capture.read().decode(errors="replace"))
    raise RuntimeError(f"TFLM could not allocate the tensors: {last_error}")


def measure(model: Path, timeout_s: float = 600.0) -> dict[str, int]:
    """Run this module in a child process on ``model``; raises RuntimeError with TFLM's last words."""
    proc = subprocess.run([sys.executable, "-m", __spec__.name if __spec__ else "zoo_bench_stm32.tflm_arena",
                           str(model)], capture_output=True, text=True, timeout=timeout_s)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        how = f"killed by signal {-proc.returncode}" if proc.returncode < 0 else f"exit status {proc.returncode}"
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-4:])
        raise RuntimeError(f"TFLM arena measurement failed ({how}): {tail or 'no output'}")
    return json.loads(lines[-1])


def tflm_version() -> str:
    from zoo_bench.tools import dist_version

    return dist_version("tflite-micro")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m zoo_bench_stm32.tflm_arena MODEL.tflite", file=sys.stderr)
        return 2
    print(json.dumps(_measure(Path(argv[0]))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
