"""Artifact formats: the contract between the component that writes an artifact and the ones
that read it.

An :class:`~zoo_bench.components.Artifact` names its ``format``; a component lists the formats
it takes in ``accepts`` (a quantizer also names the one it ``produces``). :data:`FORMATS` says
what a file of each built-in format is and how a consumer loads it, so a plugin's model source
can feed the built-in quantizers and runners without knowing their code. A format that only a
plugin's components write or read (a vendor compiler's output) is declared by that plugin with
:func:`register_format`. Components call
:func:`check_input` when a stage starts: a mismatch is a :class:`FormatMismatch` (a clear,
one-line ``failed`` reason), never a ``KeyError`` deep inside a converter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .components import Artifact, ModelSource
from .errors import UsageError

if TYPE_CHECKING:
    from .components import StageContext


@dataclass(frozen=True)
class ArtifactFormat:
    """One format: what the file is, how a consumer loads it, and the ``meta`` keys it must carry."""

    name: str
    file: str
    loaded_by: str
    meta: tuple[str, ...] = ()


FORMATS: dict[str, ArtifactFormat] = {f.name: f for f in (
    ArtifactFormat("keras", "a Keras model file (.keras or .h5), batch 1, logits out",
                   "keras.models.load_model(path, compile=False)"),
    ArtifactFormat("torch", "a file the model's own source can load (the built-in timm source: a state_dict "
                            "saved with torch.save)",
                   "the model's source: ModelSource.load_native(artifact, model) returns an eval-mode "
                   "torch.nn.Module taking ModelSpec.input_shape"),
    ArtifactFormat("onnx", "an ONNX model, batch 1 (float32, or int8 in QDQ form when precision is int8)",
                   "onnx.load(path) / onnxruntime.InferenceSession(path)"),
    ArtifactFormat("tflite", "a TFLite flatbuffer (float32, or full-integer int8 when precision is int8)",
                   "a LiteRT / TFLite interpreter"),
)}


def register_format(fmt: ArtifactFormat) -> None:
    """Declare a plugin's own artifact format (a vendor binary, a toolchain project folder).

    Call it when the plugin module is imported; registering the same name twice with another
    definition is a plugin bug (``ValueError``)."""
    known = FORMATS.get(fmt.name)
    if known is not None and known != fmt:
        raise ValueError(f"artifact format {fmt.name!r} is already defined differently")
    FORMATS[fmt.name] = fmt


class FormatMismatch(UsageError):
    """An artifact does not meet the format contract of the component it was given to."""


def check_input(component: Any, ctx: StageContext, hint: str = "") -> Artifact:
    """Check every input artifact of a stage against ``component.accepts`` and its format's
    contract; returns the first input (``ctx.input``).

    Raises :class:`FormatMismatch` naming the component, the format and the stage that produced
    it. ``hint`` is appended to a wrong-format message (how to get an accepted format).
    """
    label = f"{component.kind}:{component.name}"
    accepts = tuple(getattr(component, "accepts", ()) or ())
    for ref, artifact in ctx.inputs.items():
        if accepts and artifact.format not in accepts:
            more = f"; {hint}" if hint else ""
            raise FormatMismatch(f"{label} accepts {', '.join(accepts)} artifacts, not {artifact.format!r} "
                                 f"(from stage {ref}){more}")
        fmt = FORMATS.get(artifact.format)
        missing = [key for key in (fmt.meta if fmt else ()) if key not in artifact.meta]
        if missing:
            raise FormatMismatch(f"the {artifact.format} artifact of stage {ref} lacks meta {', '.join(missing)} "
                                 f"that the {artifact.format} format requires")
        if not artifact.path.exists():
            raise FormatMismatch(f"the {artifact.format} artifact of stage {ref} has no file at {artifact.path}")
        if artifact.format == "torch":
            native_loader(ctx)
    return ctx.input


def native_loader(ctx: StageContext) -> ModelSource:
    """The model source that loads ``ctx.model``'s native artifact (its ``load_native``)."""
    source_name = ctx.model.source
    source = ctx.registry.sources.get(source_name) if ctx.registry is not None else None
    if source is None:
        raise FormatMismatch(f"model {ctx.model.name}: its source {source_name!r} is not registered here, and only "
                             "it can load the model's native artifact")
    if type(source).load_native is ModelSource.load_native:
        raise FormatMismatch(f"model {ctx.model.name}: source {source_name!r} does not implement "
                             "load_native(artifact, model), which the torch format requires of the source that "
                             "writes it (docs/plugins.md, 'Artifact formats')")
    return source


def load_torch_module(ctx: StageContext) -> Any:
    """The eval-mode ``torch.nn.Module`` of the stage's torch input, rebuilt by the model's source."""
    import torch

    module = native_loader(ctx).load_native(ctx.input, ctx.model)
    if not isinstance(module, torch.nn.Module):
        raise FormatMismatch(f"model {ctx.model.name}: {ctx.model.source}.load_native returned "
                             f"{type(module).__name__}, not a torch.nn.Module")
    return module.eval()
