"""The host runners on real (tiny) models: ONNX Runtime times and predicts; bad files are usage errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from zoo_bench.builtin.host import HostCpuTarget, LiteRtRunner, OnnxRuntimeRunner, random_input
from zoo_bench.components import Artifact, ModelSpec, StageContext
from zoo_bench.errors import UsageError
from zoo_bench.options import stage_options


def tiny_onnx(path: Path) -> np.ndarray:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = np.random.default_rng(0).normal(size=(12, 5)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Flatten", ["x"], ["f"]), helper.make_node("MatMul", ["f", "w"], ["y"])],
        "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 2, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])], [numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return w


def ctx_for(path: Path, fmt: str, tmp_path: Path, **options) -> StageContext:
    spec = ModelSpec(name="tiny", source="test", family="tiny", resolution=2, native_format=fmt)
    target = HostCpuTarget(id="cpu", vendor="host", device_class="CPU")
    typed = stage_options(OnnxRuntimeRunner(), {}, options, {})  # both host runners declare the same options
    return StageContext(spec, target, "run:onnxruntime:float32", typed, {"x": Artifact(path, fmt)}, tmp_path)


def test_onnxruntime_runner_times_and_predicts(tmp_path):
    pytest.importorskip("onnxruntime")
    w = tiny_onnx(tmp_path / "tiny.onnx")
    runner = OnnxRuntimeRunner()
    out = runner.run(ctx_for(tmp_path / "tiny.onnx", "onnx", tmp_path, threads=1, warmup=1, runs=7))
    figs = {f.metric: f for f in out.figures}
    assert len(figs["latency_p50_ms"].samples) == 7
    assert 0 < figs["latency_p50_ms"].value <= figs["latency_p99_ms"].value
    assert figs["latency_p50_ms"].method == "measured-host" and figs["latency_p50_ms"].tool == "onnxruntime"
    x = np.random.default_rng(1).normal(size=(3, 2, 2, 3)).astype(np.float32)
    y = runner.predict(Artifact(tmp_path / "tiny.onnx", "onnx"), x, {})
    np.testing.assert_allclose(y, x.reshape(3, -1) @ w, rtol=1e-5)


@pytest.mark.parametrize("runner_cls, name", [(OnnxRuntimeRunner, "bad.onnx"), (LiteRtRunner, "bad.tflite")])
def test_runners_refuse_a_corrupt_file_with_a_usage_error(runner_cls, name, tmp_path):
    bad = tmp_path / name
    bad.write_bytes(b"\x00garbage" * 10)
    with pytest.raises(UsageError, match="cannot load"):
        runner_cls().run(ctx_for(bad, name.split(".")[1], tmp_path, runs=1, warmup=0))


def test_random_input_covers_the_dtype_range():
    x = random_input((1, 64, 64, 3), np.int8)
    assert x.dtype == np.int8 and x.min() == -128 and x.max() == 127
    assert random_input((2, 3), np.float32).dtype == np.float32


def test_cpu_target_plans_float_and_int8_runs_and_accuracy():
    from zoo_bench.plan import Planner

    target = HostCpuTarget(id="cpu", vendor="host", device_class="CPU")
    keras = ModelSpec(name="k", source="keras_applications", family="k", resolution=8, native_format="keras")
    p = Planner(keras, target)
    target.plan(keras, p)
    assert list(p.stages) == ["source", "export:tflite", "quantize:tflite_int8", "run:litert:float32",
                              "run:litert:int8", "evaluate:accuracy"]
    assert p.stages["run:litert:int8"].variant == "int8"
    torch = ModelSpec(name="t", source="timm", family="t", resolution=8, native_format="torch")
    p = Planner(torch, target)
    target.plan(torch, p)
    assert "quantize:onnx_qdq" in p.stages and p.stages["quantize:onnx_qdq"].inputs == ("export:onnx",)
