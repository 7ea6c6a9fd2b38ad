"""The host CPU target ``cpu`` and its runners: LiteRT (TFLite) and ONNX Runtime.

Both runners time the inference alone on this machine after a warm-up and mark every figure
``measured-host``: LiteRT's ``invoke()`` with the inputs set once before, ONNX Runtime's
``run_with_iobinding()`` with input and output buffers bound once before (no input copy, no
output allocation in the timed region). docs/metrics.md ("Timed region") says the same.
They also ``predict`` (float outputs for float inputs, quantizing the input and dequantizing the
output of integer models), which the accuracy evaluator uses.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from .. import hookimpl
from ..components import Artifact, ModelSpec, Runner, StageContext, StageOutput, Target
from ..errors import UsageError
from ..options import Option
from ..plan import Planner, StageRef
from ..timing import latency_figures, time_calls
from ..tools import dist_version, missing_module

RUN_OPTIONS = {
    "threads": Option("int", default=1, min=1, max=256, help="CPU threads the runtime may use"),
    "warmup": Option("int", default=5, min=0, help="untimed inferences before timing"),
    "runs": Option("int", default=50, min=1, help="timed inferences"),
}


def _run_settings(options: dict[str, Any]) -> tuple[int, int, int]:
    """(threads, warmup, runs) of a stage's typed options (declared defaults filled in)."""
    return options["threads"], options["warmup"], options["runs"]


def random_input(shape: tuple[int, ...], dtype: np.dtype, seed: int = 0) -> np.ndarray:
    """A fixed pseudo-random input for timing (values in the dtype's usual range)."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
    return rng.uniform(-1.0, 1.0, size=shape).astype(dtype)


class HostRuntimeRunner(Runner):
    """A runner backed by one Python runtime package installed on this host."""

    options = RUN_OPTIONS
    #: distribution name (for its version) and import name (to check it is there)
    distribution: ClassVar[str] = ""
    module: ClassVar[str] = ""

    def tool_versions(self) -> dict[str, str]:
        return {self.distribution: dist_version(self.distribution)}

    def unavailable_reason(self, target: Target | None = None, options: dict[str, Any] | None = None) -> str | None:
        if missing_module(self.module):
            return f"{self.distribution} is not installed (pip install 'zoo-bench[host]')"
        return None


class LiteRtRunner(HostRuntimeRunner):
    """Runs .tflite models with the LiteRT interpreter on this CPU."""

    name = "litert"
    accepts = ("tflite",)
    distribution = "ai-edge-litert"
    module = "ai_edge_litert"

    def _interpreter(self, path: str, threads: int):
        from ai_edge_litert.interpreter import Interpreter

        try:
            interp = Interpreter(model_path=path, num_threads=threads)
            interp.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise UsageError(f"LiteRT cannot load {path}: {exc}") from exc
        return interp

    def run(self, ctx: StageContext) -> StageOutput:
        threads, warmup, runs = _run_settings(ctx.options)
        interp = self._interpreter(str(ctx.input.path), threads)
        for detail in interp.get_input_details():
            interp.set_tensor(detail["index"], random_input(tuple(detail["shape"]), detail["dtype"]))
        samples = time_calls(interp.invoke, warmup, runs)
        version = self.tool_versions()["ai-edge-litert"]
        extra = {"threads": threads, "warmup": warmup, "runtime": "LiteRT interpreter (default XNNPACK delegate)",
                 "timed_region": "Interpreter.invoke()"}
        return StageOutput(figures=latency_figures(samples, "measured-host", "litert", version, extra))

    def predict(self, artifact: Artifact, batch: np.ndarray, options: dict[str, Any]) -> np.ndarray:
        interp = self._interpreter(str(artifact.path), options.get("threads", 1))
        (inp,) = interp.get_input_details()
        out = interp.get_output_details()[0]
        results = []
        for x in batch:
            x = x[None, ...]
            if np.issubdtype(inp["dtype"], np.integer):
                scale, zero = inp["quantization"]
                info = np.iinfo(inp["dtype"])
                x = np.clip(np.round(x / scale + zero), info.min, info.max)
            interp.set_tensor(inp["index"], x.astype(inp["dtype"]))
            interp.invoke()
            y = interp.get_tensor(out["index"]).astype(np.float32)
            if np.issubdtype(out["dtype"], np.integer):
                scale, zero = out["quantization"]
                y = (y - zero) * scale
            results.append(y.reshape(-1))
        return np.stack(results)


class OnnxRuntimeRunner(HostRuntimeRunner):
    """Runs .onnx models (float or QDQ int8) with ONNX Runtime's CPU provider."""

    name = "onnxruntime"
    accepts = ("onnx",)
    distribution = "onnxruntime"
    module = "onnxruntime"

    def _session(self, path: str, threads: int):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        try:
            return ort.InferenceSession(path, sess_options=opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for bad files
            raise UsageError(f"ONNX Runtime cannot load {path}: {exc}") from exc

    def run(self, ctx: StageContext) -> StageOutput:
        threads, warmup, runs = _run_settings(ctx.options)
        sess = self._session(str(ctx.input.path), threads)
        feeds = {}
        for i in sess.get_inputs():
            shape = tuple(d if isinstance(d, int) else 1 for d in i.shape)
            dtype = np.float32 if "float" in i.type else np.int8 if "int8" in i.type else np.uint8
            feeds[i.name] = random_input(shape, dtype)
        infer = bound_inference(sess, feeds)
        samples = time_calls(infer, warmup, runs)
        version = self.tool_versions()["onnxruntime"]
        extra = {"threads": threads, "warmup": warmup + infer.probes, "runtime": "ONNX Runtime CPUExecutionProvider",
                 "timed_region": "InferenceSession.run_with_iobinding() on pre-bound input and output buffers"}
        return StageOutput(figures=latency_figures(samples, "measured-host", "onnxruntime", version, extra))

    def predict(self, artifact: Artifact, batch: np.ndarray, options: dict[str, Any]) -> np.ndarray:
        sess = self._session(str(artifact.path), options.get("threads", 1))
        name = sess.get_inputs()[0].name
        return np.concatenate([sess.run(None, {name: x[None, ...].astype(np.float32)})[0] for x in batch])


#: ONNX element types -> numpy dtypes, to allocate output buffers before the first run.
_ORT_DTYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(double)": np.float64,
               "tensor(int8)": np.int8, "tensor(uint8)": np.uint8, "tensor(int32)": np.int32,
               "tensor(int64)": np.int64, "tensor(bool)": np.bool_}


@dataclass
class BoundInference:
    """An ONNX Runtime session with its inputs and outputs bound once: calling it runs the
    inference only, writing into ``outputs`` (``sess.run`` would also copy the inputs in and
    allocate and copy the outputs out on every call). ``probes`` counts the untimed runs it took
    to learn the output shapes (0 when the model declares them all)."""

    sess: Any
    binding: Any
    outputs: list[np.ndarray]
    probes: int
    held: list[Any] = field(repr=False)  # the bound OrtValues wrap numpy memory: keep them alive

    def __call__(self) -> None:
        self.sess.run_with_iobinding(self.binding)


def bound_inference(sess: Any, feeds: dict[str, np.ndarray]) -> BoundInference:
    """Bind ``feeds`` and output buffers of ``sess`` once (see :class:`BoundInference`)."""
    import onnxruntime as ort

    binding = sess.io_binding()
    held = []
    for name, array in feeds.items():
        value = ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(array))
        held.append(value)
        binding.bind_ortvalue_input(name, value)
    metas = sess.get_outputs()
    probes = 0
    if all(m.type in _ORT_DTYPES and all(isinstance(d, int) for d in m.shape) for m in metas):
        outputs = [np.empty(tuple(m.shape), dtype=_ORT_DTYPES[m.type]) for m in metas]
    else:
        outputs = [np.empty_like(np.asarray(y)) for y in sess.run(None, feeds)]  # dynamic shapes: ask once
        probes = 1
    for meta, buffer in zip(metas, outputs, strict=True):
        value = ort.OrtValue.ortvalue_from_numpy(buffer)
        held.append(value)
        binding.bind_ortvalue_output(meta.name, value)
    return BoundInference(sess, binding, outputs, probes, held)


class HostCpuTarget(Target):
    """This machine's CPU: float and int8 models with LiteRT and ONNX Runtime."""

    def plan(self, model: ModelSpec, p: Planner) -> list[StageRef]:
        src = p.source()
        fmt = model.native_format
        if fmt == "keras":
            flt = p.export(src, "tflite")
            q8 = p.quantize(src, "tflite_int8", input_type="uint8", output_type="float32")
            runner = "litert"
        elif fmt in ("torch", "onnx"):
            flt = p.export(src, "onnx") if fmt == "torch" else src
            q8 = p.quantize(flt, "onnx_qdq", activation_type="uint8")
            runner = "onnxruntime"
        elif fmt == "tflite":  # a model file given as is: run it (int8 or float as the file holds) and score it
            return [p.run(src, "litert"), p.evaluate(src, runner="litert")]
        else:
            raise UsageError(f"target cpu cannot run models of format {fmt!r}")
        leaves = [p.run(flt, runner), p.run(q8, runner)]
        leaves.append(p.evaluate(flt, q8, runner=runner))
        return leaves


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@hookimpl
def zoo_bench_register_runners(register):
    register(LiteRtRunner())
    register(OnnxRuntimeRunner())


@hookimpl
def zoo_bench_register_targets(register):
    register(HostCpuTarget(
        id="cpu",
        vendor="host",
        device_class="CPU",
        description=f"this machine's CPU ({cpu_count()} cores) with LiteRT and ONNX Runtime",
        defaults=(("threads", 1), ("warmup", 5), ("runs", 50)),
    ))
