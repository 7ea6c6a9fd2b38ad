"""A Keras model as an ONNX model for the Horizon flow (tf2onnx, opset 11 by default).

The ONNX keeps the Keras model's layout (NHWC input, batch 1): hb_mapper is told so with
``input_layout_train: NHWC`` and folds the layout change into its preprocessing node. TensorFlow
and tf2onnx are imported here only (not by the CLI).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def keras_to_onnx(net: Any, path: Path, opset: int) -> str:
    """Write ``net`` (a Keras model with one image input) to ``path``; returns how it was made."""
    import tensorflow as tf
    import tf2onnx

    shape = tuple(int(d) if d is not None else 1 for d in net.inputs[0].shape)
    spec = (tf.TensorSpec(shape, tf.float32, name="input"),)
    tf2onnx.convert.from_keras(net, input_signature=spec, opset=opset, output_path=str(path))
    return f"tf2onnx {tf2onnx.__version__} from_keras (opset {opset}); TensorFlow {tf.__version__}"
