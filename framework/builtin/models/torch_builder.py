"""A user's own PyTorch module: ``--model torch:PACKAGE.MODULE:FUNCTION`` (docs/models.md).

``FUNCTION()`` is an importable builder returning an ``nn.Module`` (with its weights: it loads
its own checkpoint, or the weights are random). The module is imported from the folder
``zoo-bench run`` was started in (or ``$PYTHONPATH``); its source file enters the cache key by
content. The input is NCHW, 3 channels, square: the size comes from ``--resolution N``, the
preprocessing from ``--preprocess`` (nothing is guessed). Pickled modules, TorchScript and
``torch.export`` files are not loaded (they unpickle on load; docs/security.md): export the
module to ONNX, or name its builder.

The ``source`` stage saves the module's ``state_dict``; later stages rebuild the module with the
builder and load it back with ``weights_only=True``. Exports: ONNX (``torch.onnx`` + onnxsim)
and float TFLite (litert-torch), as for timm models.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ...components import Artifact, ModelSource, ModelSpec, StageContext, StageOutput, Target
from ...errors import UsageError
from ...tools import missing_module
from .common import dist_version, source_figures, torch_macs, torch_params

PREFIX = "torch:"
_NAME = re.compile(r"^torch:([A-Za-z_][\w.]*):([A-Za-z_]\w*)$")


def _builder(module: str, function: str, search: str) -> Any:
    if search not in sys.path:
        sys.path.insert(0, search)
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        raise UsageError(f"cannot import {module!r} for --model {PREFIX}{module}:{function}: {exc}") from None
    fn = getattr(mod, function, None)
    if not callable(fn):
        raise UsageError(f"{module}.{function} is not a function (--model {PREFIX}{module}:{function})")
    return fn


class TorchBuilderSource(ModelSource):
    """A PyTorch module from an importable builder function (``torch:pkg.mod:fn``)."""

    name = "torch_builder"
    export_formats = ("onnx", "tflite")
    peak_memory_mb = 3000

    def models(self) -> Iterable[ModelSpec]:
        return []

    def tool_versions(self) -> dict[str, str]:
        return {"torch": dist_version("torch"), "onnx": dist_version("onnx"), "onnxsim": dist_version("onnxsim"),
                "litert-torch": dist_version("litert-torch")}

    def unavailable_reason(self, target: Target | None = None, options: dict[str, Any] | None = None) -> str | None:
        missing = missing_module("torch")
        return f"{missing} is not installed (pip install 'zoo-bench[torch]')" if missing else None

    def spec_for_name(self, name: str) -> ModelSpec | None:
        """``torch:pkg.mod:fn``: a spec of resolution 0 (sized by ``--resolution``), no contract."""
        if not name.startswith(PREFIX):
            return None
        match = _NAME.match(name)
        if not match:
            raise UsageError(f"--model {name!r}: give torch:PACKAGE.MODULE:FUNCTION (an importable builder)")
        module, function = match.groups()
        search = os.getcwd()
        if search not in sys.path:
            sys.path.insert(0, search)
        try:
            found = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            found = None
        if found is None or not found.origin or not Path(found.origin).is_file():
            raise UsageError(f"--model {name}: no module {module!r} in {search} or $PYTHONPATH")
        return ModelSpec(
            name=function, source=self.name, family="local", resolution=0, native_format="torch", classes=0,
            weights="user", builder=(("module", module), ("function", function), ("path", found.origin),
                                     ("search", search), ("layout", "NCHW")),
            description=f"PyTorch module built by {module}.{function}()",
        )

    def _net(self, model: ModelSpec) -> Any:
        args = model.builder_args()
        net = _builder(args["module"], args["function"], args["search"])()
        import torch

        if not isinstance(net, torch.nn.Module):
            raise UsageError(f"{args['module']}.{args['function']}() returned {type(net).__name__}, "
                             "not a torch.nn.Module")
        return net.eval()

    def build(self, model: ModelSpec, ctx: StageContext) -> StageOutput:
        import torch

        net = self._net(model)
        with torch.no_grad():
            out = net(torch.zeros(model.input_shape))
        classes = int(out.shape[-1])
        path = ctx.workdir / f"{model.name}.pt"
        torch.save(net.state_dict(), path)
        meta = {"weights": "user", "classes": classes, "input_shape": list(model.input_shape), "layout": "NCHW",
                "builder": f"{model.builder_args()['module']}.{model.builder_args()['function']}"}
        figures = source_figures(torch_params(net), torch_macs(net, model.input_shape), path, "torch",
                                 dist_version("torch"), "torch.utils.flop_counter",
                                 {"weights": "user", "format": "torch", "classes": classes})
        return StageOutput(Artifact(path, "torch", meta=meta), figures)

    def load_native(self, artifact: Artifact, model: ModelSpec) -> Any:
        import torch

        net = self._net(model)
        net.load_state_dict(torch.load(artifact.path, map_location="cpu", weights_only=True))
        return net.eval()

    def export(self, fmt: str, ctx: StageContext) -> StageOutput:
        from .timm_source import export_onnx, export_tflite

        net = self.load_native(ctx.input, ctx.model)
        if fmt == "onnx":
            path = export_onnx(net, ctx.model, ctx.workdir)
            tool, version = "torch.onnx+onnxsim", f"{dist_version('torch')}+{dist_version('onnxsim')}"
        elif fmt == "tflite":
            path = export_tflite(net, ctx.model, ctx.workdir)
            tool, version = "litert-torch", dist_version("litert-torch")
        else:
            raise UsageError(f"{self.name} exports to onnx or tflite, not {fmt!r}")
        figures = [f for f in source_figures(0, None, path, tool, version, "") if f.metric == "model_size_kib"]
        return StageOutput(Artifact(path, fmt, meta={**ctx.input.meta, "converter": f"{tool} {version}"}), figures)
