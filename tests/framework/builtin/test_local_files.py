"""Local model files given as --model: .keras/.h5, .onnx, .tflite and .pt state_dicts."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from zoo_bench.errors import UsageError

from tests.framework.hardening import tiny_onnx


def needs(*modules: str) -> pytest.MarkDecorator:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    return pytest.mark.skipif(bool(missing), reason=f"not installed: {', '.join(missing)}")


@pytest.fixture(scope="module")
def tiny_keras(tmp_path_factory) -> Path:
    keras = pytest.importorskip("keras")
    inp = keras.Input((40, 40, 3))
    x = keras.layers.Conv2D(4, 3, strides=2)(inp)
    x = keras.layers.BatchNormalization()(x)
    out = keras.layers.Dense(3)(keras.layers.GlobalAveragePooling2D()(x))
    path = tmp_path_factory.mktemp("local") / "tiny.keras"
    keras.Model(inp, out).save(path)
    return path


@needs("keras", "tensorflow", "ai_edge_litert", "onnx")
def test_keras_file_builds_and_exports(tiny_keras: Path, registry, make_ctx):
    spec = registry.model_from_path(tiny_keras)
    assert (spec.source, spec.native_format, spec.resolution, spec.family, spec.classes, spec.weights) == (
        "local_keras", "keras", 40, "local", 3, "user")
    source = registry.sources[spec.source]
    built = source.build(spec, make_ctx(spec, "source"))
    params = next(f.value for f in built.figures if f.metric == "params")
    assert params == 3 * 3 * 3 * 4 + 4 + 2 * 4 + 4 * 3 + 3  # conv, bn gamma/beta, dense
    flt = source.export("tflite", make_ctx(spec, "export:tflite", {"source": built.artifact})).artifact
    tflite_spec = registry.model_from_path(flt.path)
    assert (tflite_spec.source, tflite_spec.native_format, tflite_spec.resolution) == ("local_file", "tflite", 40)
    copied = registry.sources["local_file"].build(tflite_spec, make_ctx(tflite_spec, "source")).artifact
    assert copied.precision == "float32" and copied.path.read_bytes() == flt.path.read_bytes()


@needs("torch", "timm", "onnx", "onnxsim")
def test_torch_state_dict_matches_its_architecture(tmp_path: Path, registry, make_ctx):
    import torch
    from zoo_bench.builtin.models import catalog
    from zoo_bench.builtin.models.timm_source import export_onnx, make_timm_model

    lite1 = next(s for s in catalog.timm_specs() if s.name == "efficientnet_lite1_240")
    net = make_timm_model(lite1, classes=5)
    path = tmp_path / "my_lite1.pt"
    torch.save(net.state_dict(), path)
    spec = registry.model_from_path(path)
    assert (spec.native_format, spec.classes, spec.resolution) == ("torch", 5, 240)
    assert spec.builder_args()["timm_name"] == "tf_efficientnet_lite1"
    built = registry.sources["timm"].build(spec, make_ctx(spec, "source")).artifact
    assert built.meta["weights"] == "user" and built.meta["weights_file"] == str(path.resolve())

    onnx_path = export_onnx(net, lite1, tmp_path)
    onnx_spec = registry.model_from_path(onnx_path)
    assert (onnx_spec.native_format, onnx_spec.resolution, onnx_spec.input_shape) == ("onnx", 240, (1, 3, 240, 240))
    assert onnx_spec.preprocess is None  # the file declares none: never guessed


@needs("torch")
def test_pickled_module_is_refused(tmp_path: Path, registry):
    import torch

    path = tmp_path / "module.pt"
    torch.save(torch.nn.Linear(2, 2), path)  # a whole module, not a state_dict
    with pytest.raises(UsageError, match="weights_only"):
        registry.model_from_path(path)


def test_missing_file_is_a_usage_error(tmp_path: Path, registry):
    with pytest.raises(UsageError, match="does not exist"):
        registry.model_from_path(tmp_path / "nope.onnx")


@needs("onnx")
def test_empty_or_weight_only_onnx_is_a_usage_error(tmp_path: Path, registry):
    """Before: a 0-byte .onnx and an ONNX whose inputs are all initializers raised IndexError."""
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    with pytest.raises(UsageError, match="not an ONNX model"):
        registry.model_from_path(empty)
    weights_only = tiny_onnx(tmp_path / "weights_only.onnx", [1, 3, 16, 16], all_initializers=True)
    with pytest.raises(UsageError, match="every graph input is an initializer"):
        registry.model_from_path(weights_only)


@needs("onnx", "onnxruntime")
def test_dynamic_height_width_is_sized_never_1x1(tmp_path: Path, registry, make_ctx):
    """Before: dynamic H/W became 1 and the model was benchmarked on a 1x1 input, recorded as resolution 1."""
    import onnxruntime as ort
    from zoo_bench.plan import resolve_models

    dyn = tiny_onnx(tmp_path / "dyn.onnx", ["N", 3, "H", "W"])
    with pytest.raises(UsageError, match="dynamic; give --resolution N"):
        resolve_models([str(dyn)], registry)
    (spec,) = resolve_models([str(dyn)], registry, resolution=48, preprocess="symmetric")
    assert (spec.resolution, spec.preprocess.resize, spec.preprocess.crop, spec.input_shape) == \
        (48, 48, 48, (1, 3, 48, 48))
    built = registry.sources[spec.source].build(spec, make_ctx(spec, "source")).artifact
    shape = ort.InferenceSession(str(built.path), providers=["CPUExecutionProvider"]).get_inputs()[0].shape
    assert shape[1:] == [3, 48, 48] and not isinstance(shape[0], int)  # batch stays dynamic for accuracy batches
    assert dyn.read_bytes() != built.path.read_bytes()  # the user's file is not touched

    named = tiny_onnx(tmp_path / "mobilenet_v2_0.35_128.onnx", [1, 3, "H", "W"])
    (from_catalog,) = resolve_models([str(named)], registry)
    assert from_catalog.resolution == 128  # the catalog model of the same name
    assert from_catalog.name != "mobilenet_v2_0.35_128"  # ... but a job of its own, never labelled as it


@needs("onnx")
def test_resolution_for_fixed_models_only_is_refused(tmp_path: Path, registry):
    from zoo_bench.plan import resolve_models

    fixed = tiny_onnx(tmp_path / "fixed.onnx", [1, 3, 32, 32])
    with pytest.raises(UsageError, match="no chosen model has one"):
        resolve_models([str(fixed)], registry, resolution=64)
    (spec,) = resolve_models([str(fixed), str(tiny_onnx(tmp_path / "d.onnx", [1, 3, "h", "w"]))], registry,
                             resolution=64)[:1]
    assert spec.resolution == 32  # a fixed-size file keeps its own size
