"""Host emulation of the RDK X5 input path (plugins/rdk_x5/emulation.py): ONNX Runtime on NV12
round-tripped inputs, through the accuracy evaluator, marked as emulation."""

from __future__ import annotations

import numpy as np
import pytest
from zoo_bench import Artifact, UsageError
from zoo_bench.builtin.host import OnnxRuntimeRunner
from zoo_bench_rdk_x5.emulation import RdkNv12OnnxRuntime
from zoo_bench_rdk_x5.nv12 import round_trip_batch

from .conftest import TINY_PRE

pytest.importorskip("onnxruntime")


def _batch() -> np.ndarray:
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (3, 16, 16, 3)).astype(np.float32)
    x = (pixels - np.float32(TINY_PRE.mean)) / np.float32(TINY_PRE.std)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def test_predict_runs_the_model_on_what_the_bpu_would_see(tiny_onnx):
    art, batch = Artifact(tiny_onnx, "onnx"), _batch()
    got = RdkNv12OnnxRuntime().predict(art, batch, {"preprocess": TINY_PRE})
    seen = round_trip_batch(batch, TINY_PRE.mean, TINY_PRE.std, "NCHW")
    np.testing.assert_allclose(got, OnnxRuntimeRunner().predict(art, seen, {}), rtol=1e-6)
    plain = OnnxRuntimeRunner().predict(art, batch, {})
    assert not np.allclose(got, plain)  # random pixels lose their chroma detail in NV12


def test_predict_needs_the_preprocessing(tiny_onnx):
    with pytest.raises(UsageError, match="preprocessing"):
        RdkNv12OnnxRuntime().predict(Artifact(tiny_onnx, "onnx"), _batch(), {})


def test_accuracy_rows_say_emulation(tiny_onnx, make_ctx, tmp_path):
    pil = pytest.importorskip("PIL.Image")
    from zoo_bench.builtin.accuracy import AccuracyEvaluator
    from zoo_bench.plugins import load_registry

    for label, colour in (("0", (240, 20, 20)), ("1", (20, 20, 240))):
        (tmp_path / "ds" / label).mkdir(parents=True)
        for i in range(2):
            pil.new("RGB", (20, 18), tuple(c + i for c in colour)).save(tmp_path / "ds" / label / f"{i}.png")
    ctx = make_ctx(Artifact(tiny_onnx, "onnx"), options={"dataset": str(tmp_path / "ds"),
                                                          "runner": "rdk_nv12_onnxruntime"},
                   component=AccuracyEvaluator())
    ctx.registry = load_registry()
    figs = {f.metric: f for f in AccuracyEvaluator().run(ctx).figures}
    assert "top1_float" in figs and set(figs) <= {"top1_float", "top5_float"}  # top-5 only for > 5 classes
    top1 = figs["top1_float"]
    assert top1.method == "measured-host" and top1.tool == "rdk_nv12_onnxruntime"
    assert "NV12" in top1.extra["emulation"] and top1.extra["n_images"] == 4
    assert 0 <= top1.value <= 100
