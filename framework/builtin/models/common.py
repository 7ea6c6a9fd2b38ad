"""Helpers the built-in model sources share: counting, figures, weights options.

Counting conventions (docs/models.md):

- ``params``: learnable parameters of the built model (Keras ``trainable_weights``, torch
  ``parameters()``); batch-norm running statistics are not parameters. Method
  ``measured-host`` (counted here).
- ``macs``: multiply-accumulates of convolutions and dense/linear layers for one image
  (Keras: from layer shapes; torch: ``torch.utils.flop_counter`` FLOPs / 2). Element-wise
  ops, pooling and batch norm are not counted. Method ``model-estimate``.
- ``model_size_kib``: size of the saved native artifact. Method ``measured-host``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...components import Figure, StageContext
from ...errors import UsageError
from ...options import Option
from ...tools import dist_version  # noqa: F401  (re-exported for the model and quantizer modules)

#: Options every built-in source reads.
SOURCE_OPTIONS = {
    "weights": Option("str", help="pretrained | random | PATH of a local weights file "
                                  "(default: pretrained when available offline, else random)"),
}


def weights_files(options: dict[str, Any]) -> list[Path]:
    """The local weights file named by ``-s weights=PATH`` (its content enters the cache key)."""
    value = options.get("weights")
    if value in (None, "", "pretrained", "random"):
        return []
    path = Path(str(value)).expanduser()
    return [path.resolve()] if path.is_file() else []


def tensorflow_version() -> str:
    """Version of the installed TensorFlow distribution (``tensorflow`` or ``tensorflow-cpu``)."""
    for dist in ("tensorflow", "tensorflow-cpu"):
        version = dist_version(dist)
        if version != "not installed":
            return version
    return "not installed"


def weights_choice(ctx: StageContext) -> str:
    """``pretrained``, ``random`` or a path, from the ``weights`` option (default: the spec's)."""
    value = ctx.options.get("weights")
    if value in (None, ""):
        return ctx.model.weights
    value = str(value)
    if value in ("pretrained", "random"):
        return value
    path = Path(value).expanduser()
    if not path.is_file():
        raise UsageError(f"weights file {value!r} does not exist (use -s weights=PATH, pretrained or random)")
    return str(path.resolve())


def no_pretrained(model_name: str) -> UsageError:
    return UsageError(
        f"no pretrained weights for {model_name} are available offline (zoo-bench never downloads from a hub); "
        "give a local file with -s weights=PATH or use -s weights=random")


def source_figures(params: int, macs: int | None, artifact: Path, tool: str, tool_version: str,
                   macs_tool: str, extra: dict[str, Any] | None = None) -> list[Figure]:
    """The three figures of a build stage: counted params, analytic MACs, artifact size."""
    extra = dict(extra or {})
    figures = [
        Figure("params", float(params), "count", "measured-host", tool, tool_version,
               extra={**extra, "counted": "learnable parameters of the built model"}),
        Figure("model_size_kib", artifact.stat().st_size / 1024.0, "KiB", "measured-host", tool, tool_version,
               extra={**extra, "file": artifact.name}),
    ]
    if macs is not None:
        figures.insert(1, Figure("macs", float(macs), "count", "model-estimate", macs_tool, tool_version,
                                 extra={**extra, "counted": "conv and dense multiply-accumulates, one image"}))
    return figures


# --- Keras -------------------------------------------------------------------------------
def keras_params(model: Any) -> int:
    """Learnable parameters of a Keras model."""
    return int(sum(int(w.numpy().size) for w in model.trainable_weights))


def keras_macs(model: Any) -> int:
    """Conv, depthwise-conv and dense MACs of a built Keras model (batch 1)."""
    import keras

    def walk(layer: Any):
        sub = getattr(layer, "layers", None)
        if sub:
            for s in sub:
                yield from walk(s)
        else:
            yield layer

    total = 0
    for layer in walk(model):
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.Dense)):
            out = layer.output.shape
            inp = layer.input.shape
            kernel = layer.kernel.shape
            if isinstance(layer, keras.layers.DepthwiseConv2D):
                per_out = kernel[0] * kernel[1]  # one input channel per output channel
                total += int(out[1] * out[2] * out[3] * per_out)
            elif isinstance(layer, keras.layers.Conv2D):
                total += int(out[1] * out[2] * out[3] * kernel[0] * kernel[1] * kernel[2])
            else:
                positions = 1
                for d in inp[1:-1]:
                    positions *= int(d)
                total += int(positions * kernel[0] * kernel[1])
    return total


def recalibrate_keras_bn(model: Any, seed: int = 0, low: float = -1.0, high: float = 1.0) -> None:
    """Batch-norm statistics of a random-weight model from one training-mode pass.

    Without it every moving mean/variance is 0/1 while activations grow or vanish layer by
    layer, and int8 calibration ends with near-zero scales (TOOLCHAIN.md).
    """
    import keras
    import numpy as np

    bns = [layer for layer in _all_layers(model) if isinstance(layer, keras.layers.BatchNormalization)]
    saved = [layer.momentum for layer in bns]
    for layer in bns:
        layer.momentum = 0.0
    shape = tuple(int(d) for d in model.inputs[0].shape)
    x = np.random.default_rng(seed).uniform(low, high, size=shape).astype("float32")
    model(x, training=True)
    for layer, momentum in zip(bns, saved, strict=True):
        layer.momentum = momentum


def _all_layers(model: Any):
    for layer in model.layers:
        if getattr(layer, "layers", None):
            yield from _all_layers(layer)
        else:
            yield layer


# --- torch -------------------------------------------------------------------------------
def torch_params(model: Any) -> int:
    return int(sum(p.numel() for p in model.parameters()))


def torch_macs(model: Any, input_shape: tuple[int, ...]) -> int:
    """FLOPs of convolutions and matmuls from ``torch.utils.flop_counter``, halved."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(torch.zeros(input_shape))
    return int(counter.get_total_flops() // 2)


def recalibrate_torch_bn(model: Any, input_shape: tuple[int, ...], seed: int = 0) -> None:
    """Torch counterpart of :func:`recalibrate_keras_bn` (momentum 1, one training pass)."""
    import torch

    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in bns]
    for m in bns:
        m.momentum = 1.0
    gen = torch.Generator().manual_seed(seed)
    model.train()
    with torch.no_grad():
        model(torch.rand(input_shape, generator=gen) * 2.0 - 1.0)
    model.eval()
    for m, momentum in zip(bns, saved, strict=True):
        m.momentum = momentum
