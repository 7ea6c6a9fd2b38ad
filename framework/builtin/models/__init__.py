"""Built-in model sources: Keras applications, timm, and local model files.

Importing this module must stay cheap (``zoo-bench list`` imports it): the sources import
tensorflow, torch and timm only inside the methods that build and export.
"""

from __future__ import annotations

from ... import hookimpl
from .keras_source import KerasApplicationsSource, LocalKerasSource
from .local import LocalFileSource
from .timm_source import TimmSource
from .torch_builder import TorchBuilderSource

__all__ = ["KerasApplicationsSource", "LocalFileSource", "LocalKerasSource", "TimmSource", "TorchBuilderSource"]


@hookimpl
def zoo_bench_register_model_sources(register):
    """Register the Keras applications, timm and local-file sources (Keras files, ONNX/TFLite)."""
    register(KerasApplicationsSource())
    register(LocalKerasSource())
    register(TimmSource())
    register(LocalFileSource())
    register(TorchBuilderSource())
