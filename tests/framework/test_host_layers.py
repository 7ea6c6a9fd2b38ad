"""Host per-layer rows from LiteRT (zoo_bench.builtin.host.litert_layers): each operator of the loaded model
with its output tensor size and its weights; no time (LiteRT's Python interpreter has no op profiler)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from zoo_bench.builtin.host import litert_layers
from zoo_bench.layers import clean_layers

TINY = Path(__file__).resolve().parents[1] / "plugins" / "nxp_imx" / "tiny_models.py"


@pytest.fixture(scope="module")
def tiny_int8(tmp_path_factory) -> Path:
    pytest.importorskip("tensorflow", reason="building the test model needs tensorflow (zoo-bench[host])")
    out = tmp_path_factory.mktemp("tiny")
    proc = subprocess.run([sys.executable, str(TINY), str(out)], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out / "tiny_int8.tflite"


def test_every_operator_with_its_output_and_weights_bytes(tiny_int8):
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(tiny_int8))
    interp.allocate_tensors()
    layers = clean_layers(litert_layers(interp))
    ops = [r["op"] for r in layers]
    assert ops[:3] == ["CONV_2D", "DEPTHWISE_CONV_2D", "CONV_2D"] and "FULLY_CONNECTED" in ops
    first = layers[0]
    assert first["placement"] == "host" and first["memory_kind"] == "output tensor"
    assert first["memory_bytes"] == 32 * 32 * 8  # int8 output of the first conv, 1x32x32x8
    # 8 filters of 3x3x3 int8 weights and 8 int32 biases
    assert '"weights_bytes": 248' in first["extra"]
    assert all(r["time_ms"] is None and r["cycles"] is None for r in layers)  # nothing timed per operator
