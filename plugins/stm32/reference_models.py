"""Builders of ST model-zoo networks the core does not know, for the estimator's reference models.

Registered through ``zoo_bench_register_estimator_data`` (``EstimatorData.builders``): the
workload builder (``python -m zoo_bench.estimate.build_workloads``) calls them with a Keras input,
the number of classes and the definition's ``args``. Keras is imported inside the builder only.
"""

from __future__ import annotations

from typing import Any


def mnist_dwsep(inp: Any, classes: int, filters: int = 16) -> Any:
    """A five-layer conv/depthwise net for 28x28 characters: 3x3/2 conv, 3x3 depthwise, 3x3 conv
    (2x filters), 3x3/2 depthwise, 1x1 conv (4x filters), each with batch norm and ReLU, then
    global average pooling and a dense layer."""
    import keras

    layers = keras.layers

    def bn_relu(x: Any) -> Any:
        return layers.ReLU()(layers.BatchNormalization()(x))

    x = bn_relu(layers.Conv2D(filters, 3, strides=2, padding="same")(inp))
    x = bn_relu(layers.DepthwiseConv2D(3, padding="same")(x))
    x = bn_relu(layers.Conv2D(2 * filters, 3, padding="same")(x))
    x = bn_relu(layers.DepthwiseConv2D(3, strides=2, padding="same")(x))
    x = bn_relu(layers.Conv2D(4 * filters, 1)(x))
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inp, layers.Dense(classes)(x))


BUILDERS = {"mnist_dwsep": mnist_dwsep}
