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


class SessionSpy:
    """Counts the session calls made while a runner times a model (wraps the real methods)."""

    def __init__(self, monkeypatch):
        import onnxruntime as ort

        self.calls = {"run": 0, "run_with_iobinding": 0}
        for name in self.calls:
            real = getattr(ort.InferenceSession, name)
            monkeypatch.setattr(ort.InferenceSession, name, self._counting(name, real))

    def _counting(self, name, real):
        def wrapper(sess, *args, **kwargs):
            self.calls[name] += 1
            return real(sess, *args, **kwargs)
        return wrapper


def test_onnxruntime_times_only_the_inference_on_pre_bound_buffers(tmp_path, monkeypatch):
    """Like-for-like with LiteRT's invoke(): the timed call is run_with_iobinding on inputs and outputs
    bound once (sess.run would copy inputs and allocate outputs on every timed call)."""
    pytest.importorskip("onnxruntime")
    tiny_onnx(tmp_path / "tiny.onnx")
    spy = SessionSpy(monkeypatch)
    out = OnnxRuntimeRunner().run(ctx_for(tmp_path / "tiny.onnx", "onnx", tmp_path, threads=1, warmup=2, runs=7))
    assert spy.calls == {"run": 0, "run_with_iobinding": 2 + 7}  # static shapes: no probing run
    p50 = next(f for f in out.figures if f.metric == "latency_p50_ms")
    assert len(p50.samples) == 7 and p50.extra["warmup"] == 2
    assert "run_with_iobinding" in p50.extra["timed_region"]


def test_bound_inference_writes_the_real_outputs(tmp_path):
    """The bound call computes what sess.run computes (into the pre-bound output buffer), also for
    a model with a dynamic batch dimension, where one untimed run learns the output shape."""
    pytest.importorskip("onnxruntime")
    import onnx
    import onnxruntime as ort
    from zoo_bench.builtin.host import bound_inference

    w = tiny_onnx(tmp_path / "tiny.onnx")
    model = onnx.load(tmp_path / "tiny.onnx")
    for value in (*model.graph.input, *model.graph.output):
        value.type.tensor_type.shape.dim[0].dim_param = "N"
    onnx.save(model, tmp_path / "dyn.onnx")
    x = np.random.default_rng(3).normal(size=(1, 2, 2, 3)).astype(np.float32)
    for name, expected_probes in (("tiny.onnx", 0), ("dyn.onnx", 1)):
        sess = ort.InferenceSession(str(tmp_path / name), providers=["CPUExecutionProvider"])
        infer = bound_inference(sess, {"x": x})
        infer()
        assert infer.probes == expected_probes
        np.testing.assert_allclose(infer.outputs[0], x.reshape(1, -1) @ w, rtol=1e-5)
