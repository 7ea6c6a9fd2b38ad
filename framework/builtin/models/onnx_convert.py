"""ONNX -> float TFLite for the targets that take TFLite: onnx2torch, then litert-torch.

Both are converters from PyPI (``onnx2torch`` rebuilds the ONNX graph as a ``torch.fx``
module, ``litert-torch`` lowers that to a TFLite flatbuffer, as for timm models); the input
layout of the ONNX file is kept (an NCHW ONNX model gives an NCHW .tflite). What cannot be
converted: ONNX operators onnx2torch has no converter for (its ``NotImplementedError``
names them: e.g. custom domains, ``Loop``/``If`` control flow, some opset-specific forms) and
torch ops litert-torch cannot lower; either is reported as the stage's skip reason (the model
still reaches the targets that take ONNX directly). docs/models.md, "Formats and targets".
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from ...components import ModelSpec
from ...errors import ToolUnavailable
from ...tools import dist_version

CONVERTER = "onnx2torch+litert-torch"


def converter_version() -> str:
    return f"{dist_version('onnx2torch')}+{dist_version('litert-torch')}"


def onnx_to_torch(path: Path) -> Any:
    """The ONNX file as an eval-mode torch module (onnx2torch), or ToolUnavailable with why."""
    if importlib.util.find_spec("onnx2torch") is None:
        raise ToolUnavailable("ONNX -> TFLite needs onnx2torch (pip install 'zoo-bench[host]')")
    import onnx
    from onnx2torch import convert

    try:
        net = convert(onnx.load(str(path))).eval()
    except NotImplementedError as exc:
        raise ToolUnavailable(f"onnx2torch {dist_version('onnx2torch')} cannot convert {path.name} to torch "
                              f"(so not to TFLite): {_first_line(exc)}; targets that take ONNX still run it") \
            from None
    return static_shape_args(net)


def static_shape_args(net: Any) -> Any:
    """Make the constant axes/shape inputs of Squeeze, Unsqueeze and Reshape Python constants.

    onnx2torch keeps them as tensors read at run time (opset 13 moved them from attributes to
    inputs), which ``torch.export`` (under litert-torch) refuses as data-dependent shapes. A
    constant one (an initializer: a ``get_attr`` node) becomes a fixed argument of the module.
    """
    import torch
    from onnx2torch.node_converters.reshape import OnnxReshape
    from onnx2torch.node_converters.squeeze import OnnxSqueezeDynamicAxes, OnnxSqueezeStaticAxes
    from onnx2torch.node_converters.unsqueeze import OnnxUnsqueezeDynamicAxes, OnnxUnsqueezeStaticAxes

    class StaticReshape(torch.nn.Module):
        def __init__(self, shape: list[int]):
            super().__init__()
            self.shape = shape

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.reshape(x, [x.shape[i] if d == 0 else d for i, d in enumerate(self.shape)])

    changed = False
    for node in list(net.graph.nodes):
        if node.op != "call_module" or len(node.args) != 2 or getattr(node.args[1], "op", None) != "get_attr":
            continue
        module = net.get_submodule(node.target)
        value = [int(v) for v in _attr(net, node.args[1].target).reshape(-1).tolist()]
        if isinstance(module, OnnxSqueezeDynamicAxes):
            replacement: Any = OnnxSqueezeStaticAxes(axes=value)
        elif isinstance(module, OnnxUnsqueezeDynamicAxes):
            replacement = OnnxUnsqueezeStaticAxes(axes=value)
        elif isinstance(module, OnnxReshape):
            replacement = StaticReshape(value)
        else:
            continue
        net.add_submodule(node.target, replacement)
        node.args = (node.args[0],)
        changed = True
    if changed:
        net.graph.eliminate_dead_code()
        net.recompile()
    return net


def _attr(net: Any, target: str) -> Any:
    obj = net
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj


def onnx_to_float_tflite(path: Path, model: ModelSpec, workdir: Path) -> Path:
    """A float .tflite of an ONNX file, batch 1, the ONNX input layout kept."""
    import torch

    if importlib.util.find_spec("litert_torch") is None:
        raise ToolUnavailable("ONNX -> TFLite needs litert-torch (pip install litert-torch)")
    import litert_torch

    net = onnx_to_torch(path)
    out = workdir / f"{model.name}_float.tflite"
    try:
        edge = litert_torch.convert(net, (torch.zeros(model.input_shape),))
    except Exception as exc:  # lowering errors come in many types
        raise ToolUnavailable(f"litert-torch {dist_version('litert-torch')} cannot lower {path.name} "
                              f"(after onnx2torch): {type(exc).__name__}: {_first_line(exc)}") from None
    edge.export(str(out))
    return out


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:300]
