"""Local ONNX and TFLite files given as ``--model path/to/model.{onnx,tflite}``.

The ``source`` stage copies the file into the cache (so every later stage sees a stable,
hashed input) and counts what it can: parameters are the elements of the weight tensors
(ONNX initializers, TFLite constant buffers), the size is the file size. The input
resolution, the number of classes (the output's last dimension) and, for .tflite, int8 or
float come from the file. Preprocessing is never assumed: it is declared by ``--preprocess``,
a ``<file>.zoo-bench.toml`` beside the model, or the ONNX metadata entry
``zoo_bench.preprocess`` (:mod:`zoo_bench.builtin.preprocessing`); without one the accuracy
and calibration stages refuse the model. The weights are the user's (``weights="user"``).

An ONNX file whose input height and width are dynamic is never run at 1x1: its spec says
resolution 0, the planner takes ``--resolution N`` or the resolution of the catalog model of
the same name (or refuses), and the source stage writes a copy with that size fixed, so every
later stage sees a static shape. A batch fixed above 1 is refused (zoo-bench times and scores
one image per inference). An ONNX model exports to a float .tflite with onnx2torch and
litert-torch (:mod:`.onnx_convert`) for the targets that take TFLite.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ...components import Artifact, ModelSource, ModelSpec, StageContext, StageOutput
from ...errors import UsageError
from .. import preprocessing
from .common import dist_version, source_figures


def _load_onnx(path: Path):
    import onnx

    try:
        return onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf DecodeError and friends
        raise UsageError(f"{path} is not a readable ONNX model: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _graph_input(model, path: Path):
    """The first graph input that is not an initializer (the image), or a UsageError."""
    if not model.graph.node:  # a 0-byte file parses as an empty ModelProto
        raise UsageError(f"{path} is not an ONNX model (its graph is empty)")
    initializers = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    if not inputs:
        raise UsageError(f"{path}: every graph input is an initializer (a weight); the model has no image input")
    return inputs[0]


def _onnx_facts(path: Path) -> dict[str, Any]:
    """Input dims (``None`` where the file leaves a dim dynamic), layout, output classes and the
    preprocessing its metadata declares."""
    model = _load_onnx(path)
    graph_input = _graph_input(model, path)
    dims = tuple(d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None
                 for d in graph_input.type.tensor_type.shape.dim)
    out_dims = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None
                for d in model.graph.output[0].type.tensor_type.shape.dim] if model.graph.output else []
    return {"dims": dims, "layout": "NCHW" if len(dims) == 4 and dims[1] in (1, 3) else "NHWC",
            "classes": out_dims[-1] if out_dims else None,
            "declared": ("metadata", preprocessing.onnx_metadata(model))}


def _hw_axes(layout: str) -> tuple[int, int]:
    return (2, 3) if layout == "NCHW" else (1, 2)


def fix_onnx_resolution(src: Path, dest: Path, resolution: int, layout: str) -> None:
    """Write ``src`` to ``dest`` with its dynamic input height and width set to ``resolution``.

    A dim named by a symbol (``dim_param``, e.g. ``height``) is fixed wherever that symbol
    appears (inputs, outputs, value_info), as onnxruntime's ``make_dynamic_shape_fixed`` does;
    the batch dim stays as it is (the accuracy stage feeds batches).
    """
    import onnx

    model = _load_onnx(src)
    dims = _graph_input(model, src).type.tensor_type.shape.dim
    symbols = set()
    for axis in _hw_axes(layout):
        if dims[axis].dim_param:
            symbols.add(dims[axis].dim_param)
        dims[axis].dim_value = resolution  # also clears dim_param (a oneof)
    batch_symbol = dims[0].dim_param
    symbols.discard(batch_symbol)
    graph = model.graph
    for value in (*graph.input, *graph.output, *graph.value_info):
        for dim in value.type.tensor_type.shape.dim:
            if dim.dim_param and dim.dim_param in symbols:
                dim.dim_value = resolution
    onnx.save(model, str(dest))


def _tflite_facts(path: Path) -> dict[str, Any]:
    from ai_edge_litert.interpreter import Interpreter

    try:
        interp = Interpreter(model_path=str(path))
    except (ValueError, RuntimeError) as exc:
        raise UsageError(f"{path} is not a readable TFLite model: {_first_line(exc)}") from None
    details = interp.get_input_details()
    if not details:
        raise UsageError(f"{path}: the model has no input")
    signature = details[0].get("shape_signature", details[0]["shape"])
    dims = tuple(int(d) if int(d) > 0 else None for d in signature)
    outputs = interp.get_output_details()
    classes = int(outputs[0]["shape"][-1]) if outputs and len(outputs[0]["shape"]) else None
    return {"dims": dims, "layout": "NCHW" if len(dims) == 4 and dims[1] in (1, 3) else "NHWC",
            "classes": classes, "declared": ("metadata", None)}  # TFLite metadata is not read


def _shape_text(dims: tuple[int | None, ...]) -> str:
    return "(" + ", ".join("?" if d is None else str(d) for d in dims) + ")"


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
    """Local ONNX and TFLite model files (run as they are; ONNX also exported to TFLite)."""

    name = "local_file"
    export_formats = ("tflite",)

    def models(self) -> Iterable[ModelSpec]:
        return []

    def tool_versions(self) -> dict[str, str]:
        return {"onnx": dist_version("onnx"), "ai-edge-litert": dist_version("ai-edge-litert"),
                "onnx2torch": dist_version("onnx2torch"), "litert-torch": dist_version("litert-torch")}

    def spec_for_path(self, path: Path) -> ModelSpec | None:
        """The spec of a local file. An ONNX input with a dynamic height/width gets resolution 0:
        the planner fills it from ``--resolution`` or the catalog, or refuses (never 1x1)."""
        fmt = {".onnx": "onnx", ".tflite": "tflite"}.get(path.suffix.lower())
        if fmt is None:
            return None
        facts = _onnx_facts(path) if fmt == "onnx" else _tflite_facts(path)
        dims, layout = facts["dims"], facts["layout"]
        if len(dims) != 4:
            raise UsageError(f"{path}: input shape {_shape_text(dims)} is not an image batch (N, C, H, W) "
                             "or (N, H, W, C)")
        if dims[0] is not None and dims[0] != 1:
            raise UsageError(f"{path}: the input batch is fixed at {dims[0]} {_shape_text(dims)}; zoo-bench times "
                             "and scores one image per inference: export the model with batch 1 or a dynamic batch")
        height, width = (dims[a] for a in _hw_axes(layout))
        dynamic = height is None or width is None
        if dynamic and fmt == "tflite":
            raise UsageError(f"{path}: the input height/width is dynamic {_shape_text(dims)}; export the "
                             "TFLite model with a fixed input size")
        resolution = 0 if dynamic else int(height)
        precision = _precision(path, fmt)
        builder: tuple[tuple[str, Any], ...] = (("path", str(path.resolve())), ("layout", layout),
                                                ("precision", precision))
        return ModelSpec(
            name=path.stem, source=self.name, family="local", resolution=resolution, native_format=fmt,
            classes=int(facts["classes"] or 0), weights="user",
            preprocess=preprocessing.declared(path, resolution, layout, facts["declared"]),
            builder=builder + ((("dynamic_hw", True),) if dynamic else ()),
            description=f"local {precision} {fmt} file {path.name}",
        )

    def build(self, model: ModelSpec, ctx: StageContext) -> StageOutput:
        src = Path(model.builder_args()["path"])
        if not src.is_file():
            raise UsageError(f"model file {src} does not exist")
        dest = ctx.workdir / src.name
        fmt = model.native_format
        layout = model.builder_args().get("layout", "NHWC")
        if model.builder_args().get("dynamic_hw"):
            if model.resolution < 1:
                raise UsageError(f"{src}: the input height/width is dynamic; give --resolution N")
            fix_onnx_resolution(src, dest, model.resolution, layout)  # every later stage sees a fixed size
        else:
            shutil.copyfile(src, dest)
        meta: dict[str, Any] = {"weights": "user", "weights_file": str(src), "layout": layout,
                                "classes": model.classes}
        tool = "onnx" if fmt == "onnx" else "ai-edge-litert"
        figures = source_figures(count_file_params(dest, fmt), None, dest, tool, dist_version(tool), "",
                                 {"weights": "user", "format": fmt})
        return StageOutput(Artifact(dest, fmt, precision=_precision(dest, fmt), meta=meta), figures)

    def export(self, fmt: str, ctx: StageContext) -> StageOutput:
        """ONNX -> float .tflite (onnx2torch + litert-torch), for targets that take TFLite."""
        from .onnx_convert import CONVERTER, converter_version, onnx_to_float_tflite

        if fmt != "tflite" or ctx.input.format != "onnx":
            raise UsageError(f"{self.name} exports ONNX files to tflite only, not {ctx.input.format} to {fmt!r}")
        path = onnx_to_float_tflite(ctx.input.path, ctx.model, ctx.workdir)
        version = converter_version()
        figures = [f for f in source_figures(0, None, path, CONVERTER, version, "") if f.metric == "model_size_kib"]
        return StageOutput(Artifact(path, "tflite", meta={**ctx.input.meta, "converter": f"{CONVERTER} {version}"}),
                           figures)


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
