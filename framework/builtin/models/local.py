"""Local ONNX and TFLite files given as ``--model path/to/model.{onnx,tflite}``.

The ``source`` stage copies the file into the cache (so every later stage sees a stable,
hashed input) and counts what it can: parameters are the elements of the weight tensors
(ONNX initializers, TFLite constant buffers), the size is the file size. The input
resolution comes from the file; preprocessing defaults to resize to the input size and
``(x - 127.5) / 127.5``, the most common convention of exported classifiers.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ...components import Artifact, ModelSource, ModelSpec, Preprocess, StageContext, StageOutput
from ...errors import UsageError
from .common import dist_version, source_figures


def _onnx_input(path: Path) -> tuple[tuple[int, ...], str]:
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf DecodeError and friends
        raise UsageError(f"{path} is not a readable ONNX model: {exc}") from exc
    initializers = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    dims = tuple(d.dim_value or 1 for d in inputs[0].type.tensor_type.shape.dim)
    return dims, "NCHW" if len(dims) == 4 and dims[1] in (1, 3) else "NHWC"


def _tflite_input(path: Path) -> tuple[tuple[int, ...], str]:
    from ai_edge_litert.interpreter import Interpreter

    try:
        interp = Interpreter(model_path=str(path))
    except (ValueError, RuntimeError) as exc:
        raise UsageError(f"{path} is not a readable TFLite model: {exc}") from exc
    dims = tuple(int(d) for d in interp.get_input_details()[0]["shape"])
    return dims, "NCHW" if len(dims) == 4 and dims[1] in (1, 3) else "NHWC"


def count_file_params(path: Path, fmt: str) -> int:
    """Elements of the weight tensors stored in an ONNX or TFLite file."""
    import numpy as np

    if fmt == "onnx":
        import onnx

        model = onnx.load(str(path))
        return int(sum(int(np.prod(i.dims)) for i in model.graph.initializer))
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(path))
    total = 0
    for detail in interp.get_tensor_details():
        try:  # constant tensors are readable before any invoke; activations are not
            interp.get_tensor(detail["index"])
        except ValueError:
            continue
        if detail["name"] and len(detail["shape"]) > 0 and not detail["name"].startswith("serving_default"):
            total += int(np.prod(detail["shape"]))
    return total


class LocalFileSource(ModelSource):
    """Local ONNX and TFLite model files (run as they are)."""

    name = "local_file"

    def models(self) -> Iterable[ModelSpec]:
        return []

    def tool_versions(self) -> dict[str, str]:
        return {"onnx": dist_version("onnx"), "ai-edge-litert": dist_version("ai-edge-litert")}

    def spec_for_path(self, path: Path) -> ModelSpec | None:
        fmt = {".onnx": "onnx", ".tflite": "tflite"}.get(path.suffix.lower())
        if fmt is None:
            return None
        dims, layout = _onnx_input(path) if fmt == "onnx" else _tflite_input(path)
        if len(dims) != 4:
            raise UsageError(f"{path}: input shape {dims} is not an image batch (N, C, H, W) or (N, H, W, C)")
        resolution = dims[2] if layout == "NCHW" else dims[1]
        return ModelSpec(
            name=path.stem, source=self.name, family="local", resolution=int(resolution), native_format=fmt,
            weights="pretrained", preprocess=Preprocess(resize=int(resolution), crop=int(resolution), layout=layout),
            builder=(("path", str(path.resolve())),), description=f"local {fmt} file {path.name}",
        )

    def build(self, model: ModelSpec, ctx: StageContext) -> StageOutput:
        src = Path(model.builder_args()["path"])
        if not src.is_file():
            raise UsageError(f"model file {src} does not exist")
        dest = ctx.workdir / src.name
        shutil.copyfile(src, dest)
        fmt = model.native_format
        meta: dict[str, Any] = {"weights": "pretrained", "weights_file": str(src), "layout": model.preprocess.layout
                                if model.preprocess else "NHWC"}
        tool = "onnx" if fmt == "onnx" else "ai-edge-litert"
        figures = source_figures(count_file_params(dest, fmt), None, dest, tool, dist_version(tool), "")
        return StageOutput(Artifact(dest, fmt, precision=_precision(dest, fmt), meta=meta), figures)


def _precision(path: Path, fmt: str) -> str:
    """``int8`` for a quantized file (QDQ nodes / integer input), else ``float32``."""
    if fmt == "onnx":
        import onnx

        ops = {n.op_type for n in onnx.load(str(path), load_external_data=False).graph.node}
        return "int8" if "QuantizeLinear" in ops or "QLinearConv" in ops else "float32"
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter

    details = Interpreter(model_path=str(path)).get_tensor_details()
    return "int8" if any(np.issubdtype(d["dtype"], np.integer) and d["quantization"][0] for d in details) \
        else "float32"
