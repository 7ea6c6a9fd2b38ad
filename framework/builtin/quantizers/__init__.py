"""Built-in quantizers (TFLite converter full-integer int8, ONNX Runtime static QDQ)."""
