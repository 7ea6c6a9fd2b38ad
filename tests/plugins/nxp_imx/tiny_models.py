"""Builds the small int8 .tflite models the NXP tests compile and run: a Keras conv net (conv,
depthwise conv, pointwise conv, global pooling, dense, softmax) converted with the TFLite converter,
full-integer int8 with a representative data set (NXP's recipe: int8 input and output), and the
same net with a float32 output, whose final DEQUANTIZE Vela leaves on the CPU.

Run as ``python tiny_models.py OUTDIR`` (a subprocess keeps TensorFlow out of the test process).
"""

from __future__ import annotations

import sys
from pathlib import Path


def build(outdir: Path) -> None:
    import numpy as np
    import tensorflow as tf
    from tensorflow import keras

    keras.utils.set_random_seed(0)
    inp = keras.Input((32, 32, 3), batch_size=1)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu6")(inp)
    x = keras.layers.DepthwiseConv2D(3, padding="same", activation="relu6")(x)
    x = keras.layers.Conv2D(16, 1, activation="relu6")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    out = keras.layers.Softmax()(keras.layers.Dense(10)(x))
    model = keras.Model(inp, out)

    def representative():
        rng = np.random.default_rng(0)
        for _ in range(8):
            yield [rng.uniform(-1, 1, (1, 32, 32, 3)).astype(np.float32)]

    for name, output_type in (("tiny_int8", tf.int8), ("tiny_int8_float_out", tf.float32)):
        conv = tf.lite.TFLiteConverter.from_keras_model(model)
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = representative
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = tf.int8
        conv.inference_output_type = output_type
        (outdir / f"{name}.tflite").write_bytes(conv.convert())


if __name__ == "__main__":
    build(Path(sys.argv[1]))
