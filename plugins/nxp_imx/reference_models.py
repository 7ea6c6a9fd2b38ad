"""Builders of eIQ model-zoo networks the core does not know, for the estimator's reference models.

Registered through ``zoo_bench_register_estimator_data`` (``EstimatorData.builders``); the
workload builder calls them with a Keras input, the number of classes and the definition's
``args``. Keras is imported inside the builder only.
"""

from __future__ import annotations

from typing import Any


def deepface_emotion(inp: Any, classes: int) -> Any:
    """The facial-expression CNN of serengil/deepface (``deepface/extendedmodels/Emotion.py``,
    the model NXP's eIQ zoo benchmarks as Deepface-emotion): 48x48x1 in, a 5x5/64 conv and a 5x5
    stride-2 max pool, two 3x3/64 convs and a 3x3 stride-2 average pool, two 3x3/128 convs and a
    3x3 stride-2 average pool, two 1024-unit dense layers, ``classes`` logits (no softmax, like
    every reference model here); all convs valid-padded with ReLU."""
    import keras

    layers = keras.layers
    x = layers.Conv2D(64, 5, activation="relu")(inp)
    x = layers.MaxPooling2D(5, strides=2)(x)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.AveragePooling2D(3, strides=2)(x)
    x = layers.Conv2D(128, 3, activation="relu")(x)
    x = layers.Conv2D(128, 3, activation="relu")(x)
    x = layers.AveragePooling2D(3, strides=2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(1024, activation="relu")(x)
    x = layers.Dense(1024, activation="relu")(x)
    return keras.Model(inp, layers.Dense(classes)(x))


BUILDERS = {"deepface_emotion": deepface_emotion}
