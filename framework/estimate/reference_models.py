"""Float Keras models of the published points that are not in the catalog, from their definitions.

A points file (``published_points.json``) defines each model it cites by a builder name and
arguments (``{"builder": "fd_mobilenet", "args": {"alphas": [...]}, "resolution": 224, ...}``).
The builders below follow the published architectures (the paper or the zoo's own model
definition cited in the points file); weights are random with batch-norm statistics
recalibrated, which is enough for a workload (shapes and operator counts, not accuracy).
Every model is built with a fixed batch of 1 and without a final softmax, like the catalog's.

TensorFlow is imported inside the builders only: this module is imported by the workload
builder command, never by the CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: Stem filters, then (pointwise filters, stride) of each depthwise-separable block of
#: FD-MobileNet (Qin et al. 2018, "FD-MobileNet: Improved MobileNet with a Fast Downsampling Strategy").
FD_MOBILENET_BLOCKS = ((64, 2), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1),
                       (512, 1), (1024, 1))


def _keras():
    import keras

    return keras


def keras_application(inp: Any, classes: int, application: str, **args: Any) -> Any:
    """A ``keras.applications`` model (MobileNet, MobileNetV2, ResNet50, ...) with logits out."""
    keras = _keras()
    app = getattr(keras.applications, application)
    return app(input_tensor=inp, weights=None, classes=classes, classifier_activation=None, **args)


def fd_mobilenet(inp: Any, classes: int, alpha: float = 1.0, alphas: list[float] | None = None) -> Any:
    """FD-MobileNet: a 3x3 stride-2 stem and 11 depthwise-separable blocks, fast downsampling.

    ``alphas`` gives one width multiplier per layer (stem + 11 blocks, as the zoo's "v1" variant
    does); ``alpha`` one for all. A block is a 3x3 depthwise conv with bias, then a 1x1 conv,
    batch norm and ReLU; the head is global average pooling and a 1x1 conv to ``classes``.
    """
    keras = _keras()
    layers = keras.layers
    widths = list(alphas) if alphas else [alpha] * (1 + len(FD_MOBILENET_BLOCKS))
    x = layers.Conv2D(int(32 * widths[0]), 3, strides=2, padding="same", use_bias=False)(inp)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    for (filters, stride), a in zip(FD_MOBILENET_BLOCKS, widths[1:], strict=True):
        x = layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=True)(x)
        x = layers.Conv2D(int(filters * a), 1, use_bias=False)(x)
        x = layers.ReLU()(layers.BatchNormalization()(x))
    x = layers.GlobalAveragePooling2D(keepdims=True)(x)
    x = layers.Conv2D(classes, 1)(x)
    return keras.Model(inp, layers.Reshape((classes,))(x))


def squeezenet_v11(inp: Any, classes: int) -> Any:
    """SqueezeNet 1.1 (Iandola et al. 2016, v1.1 of the reference repository): 3x3/64 stem, eight
    fire modules, a 1x1 conv to ``classes`` with ReLU and global average pooling."""
    keras = _keras()
    layers = keras.layers

    def fire(x: Any, squeeze: int, expand: int) -> Any:
        s = layers.Conv2D(squeeze, 1, activation="relu")(x)
        left = layers.Conv2D(expand, 1, activation="relu")(s)
        right = layers.Conv2D(expand, 3, padding="same", activation="relu")(s)
        return layers.Concatenate()([left, right])

    x = layers.Conv2D(64, 3, strides=2, activation="relu")(inp)
    x = layers.MaxPooling2D(3, strides=2)(x)
    x = fire(fire(x, 16, 64), 16, 64)
    x = layers.MaxPooling2D(3, strides=2)(x)
    x = fire(fire(x, 32, 128), 32, 128)
    x = layers.MaxPooling2D(3, strides=2)(x)
    for squeeze, expand in ((48, 192), (48, 192), (64, 256), (64, 256)):
        x = fire(x, squeeze, expand)
    x = layers.Conv2D(classes, 1, activation="relu")(x)
    return keras.Model(inp, layers.GlobalAveragePooling2D()(x))


def cifar_resnet_v1(inp: Any, classes: int, depth: int = 8) -> Any:
    """ResNet v1 for 32x32 inputs (He et al. 2016, section 4.2): depth 6n+2, stages of 16/32/64
    filters with n basic blocks each, 1x1 stride-2 projections; ResNet-8 (n=1) is MLPerf Tiny's
    image-classification model."""
    keras = _keras()
    layers = keras.layers
    if (depth - 2) % 6:
        raise ValueError(f"cifar ResNet depth must be 6n+2, not {depth}")
    n = (depth - 2) // 6

    def conv_bn(x: Any, filters: int, stride: int = 1, relu: bool = True) -> Any:
        x = layers.Conv2D(filters, 3, strides=stride, padding="same")(x)
        x = layers.BatchNormalization()(x)
        return layers.ReLU()(x) if relu else x

    x = conv_bn(inp, 16)
    for stage, filters in enumerate((16, 32, 64)):
        for block in range(n):
            stride = 2 if stage > 0 and block == 0 else 1
            y = conv_bn(x, filters, stride)
            y = conv_bn(y, filters, relu=False)
            if stride > 1:
                x = layers.Conv2D(filters, 1, strides=stride)(x)
            x = layers.ReLU()(layers.Add()([x, y]))
    x = layers.AveragePooling2D(pool_size=x.shape[1])(x)
    return keras.Model(inp, layers.Dense(classes)(layers.Flatten()(x)))


#: The architectures the core builds; plugins add their own through ``EstimatorData.builders``
#: (hook ``zoo_bench_register_estimator_data``), so this list is never closed.
BUILDERS: dict[str, Callable[..., Any]] = {
    "keras_application": keras_application,
    "fd_mobilenet": fd_mobilenet,
    "squeezenet_v11": squeezenet_v11,
    "cifar_resnet_v1": cifar_resnet_v1,
}


def build_keras(definition: dict[str, Any], builders: dict[str, Callable[..., Any]] | None = None) -> Any:
    """The float Keras model of a points-file definition, batch 1, BN recalibrated.

    ``builders``: the plugins' builders (default: every registered one), added to the core's."""
    from ..builtin.models.common import recalibrate_keras_bn
    from .data import registered_builders

    keras = _keras()
    builder = definition["builder"]
    known = {**BUILDERS, **(registered_builders() if builders is None else builders)}
    if builder not in known:
        raise ValueError(f"unknown builder {builder!r} (known: {', '.join(sorted(known))})")
    res = int(definition["resolution"])
    height = int(definition.get("height", res))
    inp = keras.Input((height, res, int(definition.get("channels", 3))), batch_size=1, name="input")
    net = known[builder](inp, int(definition.get("classes", 1000)), **definition.get("args", {}))
    low, high = definition.get("input_range", (-1.0, 1.0))
    recalibrate_keras_bn(net, low=low, high=high)
    return net
