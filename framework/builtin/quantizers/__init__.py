"""Built-in quantizers: TFLite full-integer int8 (TFLite converter) and ONNX Runtime static QDQ.

Both drive the real tools; zoo-bench computes no quantization parameter itself. Importing
this module stays cheap: tensorflow, torch and onnxruntime are imported inside the methods.
"""

from __future__ import annotations

from ... import hookimpl
from .onnx_qdq import OnnxQdqQuantizer
from .tflite_int8 import TfliteInt8Quantizer

__all__ = ["OnnxQdqQuantizer", "TfliteInt8Quantizer"]


@hookimpl
def zoo_bench_register_quantizers(register):
    """Register ``tflite_int8`` and ``onnx_qdq``."""
    register(TfliteInt8Quantizer())
    register(OnnxQdqQuantizer())
