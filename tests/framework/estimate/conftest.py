"""Fixtures of the estimator tests: a synthetic points file with its workloads, a tiny int8 model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

TINY_MODELS = Path(__file__).resolve().parents[2] / "plugins" / "nxp_imx" / "tiny_models.py"


def workload(conv: float, dw: float, layers: int, peak: int = 1000, weights: int = 2000) -> dict[str, Any]:
    """A workload dict as build_workloads stores it (MACs per class, bytes, layers, memory)."""
    macs = {"conv": conv, "depthwise": dw, "pointwise": 0.0, "dense": 0.0, "elementwise": 0.0, "pooling": 0.0,
            "other": 0.0}
    # bytes left at 0: the synthetic law does not depend on them (a bytes term must fit to 0)
    return {"macs": macs, "bytes": {k: 0.0 for k in macs}, "ops": {k: 1 for k in macs},
            "layers": layers, "weights_bytes": weights, "peak_bytes": peak, "peak_inplace_bytes": peak,
            "largest_tensor_bytes": peak // 2, "io_bytes": 100, "input_shape": [1, 32, 32, 3]}


def synthetic_points(tmp_path: Path, n: int = 12, noise: float = 0.0) -> tuple[Path, Path]:
    """A points file for target ``board1`` whose latencies follow 2 ms per M MACs + 0.1 ms per layer
    (+ a deterministic relative ``noise``), its workloads file, and one holdout point."""
    models, points, workloads = {}, [], {}
    for i in range(n):
        name = f"net{i}"
        conv, dw, layers = 1e6 * (1 + i), 2e5 * (1 + (i * 7) % 5), 10 + 3 * i
        models[name] = {"builder": "keras_application", "args": {"application": f"Net{i}"}, "resolution": 32}
        workloads[name] = {"definition": models[name], "workload": workload(conv, dw, layers, 1000 * (i + 1)),
                           "baselines": {}}
        ms = 2.0 * (conv + dw) / 1e6 + 0.1 * layers
        ms *= 1 + noise * (1 if i % 2 else -1)
        points.append({"model": name, "target": "board1", "metric": "latency_mean_ms", "value": ms, "unit": "ms",
                       "source": "S", "path": "README.md", "tool_version": "1"})
    models["holdout_net"] = {"builder": "keras_application", "args": {"application": "MobileNetV2", "alpha": 1.0},
                             "resolution": 32}
    workloads["holdout_net"] = {"definition": models["holdout_net"], "workload": workload(5e6, 1e6, 40),
                                "baselines": {}}
    points.append({"model": "holdout_net", "target": "board1", "metric": "latency_mean_ms", "value": 1000.0,
                   "unit": "ms", "source": "S", "path": "README.md", "holdout": True})
    pfile = tmp_path / "published_points.json"
    pfile.write_text(json.dumps({"sources": {"S": {"repo": "example/zoo", "commit": "0" * 40}},
                                 "targets": {"board1": {"board": "Board 1"}}, "models": models, "points": points}))
    wfile = tmp_path / "workloads.json"
    wfile.write_text(json.dumps({"models": workloads}))
    return pfile, wfile


@pytest.fixture(scope="session")
def tiny_int8(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The NXP tests' tiny conv net as int8 .tflite (built in a subprocess: no TensorFlow here)."""
    pytest.importorskip("tensorflow", reason="building the test model needs tensorflow (zoo-bench[host])")
    out = tmp_path_factory.mktemp("tiny_estimate")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, str(TINY_MODELS), str(out)], capture_output=True, text=True,
                          timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out / "tiny_int8.tflite"
