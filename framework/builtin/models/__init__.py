"""Built-in model sources (Keras applications, timm, local model files)."""
