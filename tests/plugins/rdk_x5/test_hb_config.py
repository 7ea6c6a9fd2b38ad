"""The hb_mapper YAML and calibration files (plugins/rdk_x5/hb_config.py), checked against the keys
and values of D-Robotics' EfficientNet_B2 config (rdk_model_zoo @ be4f89bd,
samples/vision/classification/EfficientNet/yaml/EfficientNet_B2_config.yaml) and the calibration format
of the zoo's guide (samples/vision/classification/Model quantization deployment.md): float32 NCHW RGB
pixels 0..255, one headerless file per image."""

from __future__ import annotations

import numpy as np
import pytest
from zoo_bench import UsageError
from zoo_bench_rdk_x5 import hb_config

from .conftest import TINY_SPEC

yaml = pytest.importorskip("yaml")

#: the documented keys of D-Robotics' file, per section
DOCUMENTED = {
    "model_parameters": {"onnx_model", "march", "layer_out_dump", "working_dir", "output_model_file_prefix",
                         "node_info", "debug_mode", "remove_node_type"},
    "input_parameters": {"input_name", "input_type_rt", "input_type_train", "input_layout_train", "input_shape",
                         "norm_type", "mean_value", "scale_value"},
    "calibration_parameters": {"cal_data_dir", "cal_data_type", "calibration_type", "optimization"},
    "compiler_parameters": {"compile_mode", "debug", "optimize_level", "jobs"},
}


def test_yaml_uses_only_documented_keys_with_the_rdk_x5_recipe():
    settings = hb_config.settings_for(TINY_SPEC, "./tiny.onnx")
    data = yaml.safe_load(hb_config.config_yaml(settings))
    assert set(data) == set(DOCUMENTED)
    for section, keys in data.items():
        assert set(keys) <= DOCUMENTED[section], section
    assert data["model_parameters"]["march"] == "bayes-e"
    assert data["model_parameters"]["onnx_model"] == "./tiny.onnx"
    assert data["model_parameters"]["output_model_file_prefix"] == "tiny_16x16_nv12"
    inp = data["input_parameters"]
    assert (inp["input_type_rt"], inp["input_type_train"], inp["input_layout_train"], inp["norm_type"]) == \
        ("nv12", "rgb", "NCHW", "data_mean_and_scale")
    # D-Robotics' EfficientNet_B2 values: the same timm ImageNet normalisation as the catalog model
    assert [float(v) for v in inp["mean_value"].split()] == [123.675, 116.28, 103.53]
    assert [float(v) for v in inp["scale_value"].split()] == pytest.approx([0.01712475, 0.017507, 0.01742919],
                                                                             rel=1e-5)
    cal = data["calibration_parameters"]
    assert (cal["cal_data_type"], cal["calibration_type"]) == ("float32", "default")
    assert cal["cal_data_dir"].endswith("_f32")  # hb_mapper warns when the suffix and cal_data_type differ
    comp = data["compiler_parameters"]
    assert (comp["compile_mode"], comp["optimize_level"], comp["debug"]) == ("latency", "O3", False)
    assert data["model_parameters"]["layer_out_dump"] is False


def test_nhwc_models_declare_their_layout_and_others_are_refused():
    from dataclasses import replace

    nhwc = hb_config.settings_for(replace(TINY_SPEC, preprocess=replace(TINY_SPEC.preprocess, layout="NHWC")), "m.onnx")
    assert hb_config.config_values(nhwc)["input_parameters"]["input_layout_train"] == "NHWC"
    with pytest.raises(UsageError, match="NCHW or NHWC"):
        hb_config.settings_for(replace(TINY_SPEC, preprocess=replace(TINY_SPEC.preprocess, layout="CHW")), "m.onnx")
    with pytest.raises(UsageError, match="no preprocessing"):
        hb_config.settings_for(replace(TINY_SPEC, preprocess=None), "m.onnx")


def test_calibration_files_are_headerless_float32_nchw(tmp_path):
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, (3, 3, 16, 16)).astype(np.float32)
    paths = hb_config.write_calibration(batch, tmp_path / "cal")
    assert [p.name for p in paths] == ["calib_0000.rgbchw", "calib_0001.rgbchw", "calib_0002.rgbchw"]
    assert all(p.stat().st_size == 3 * 16 * 16 * 4 for p in paths)
    np.testing.assert_array_equal(hb_config.read_calibration(paths[1], 16, 16)[0], batch[1])
    with pytest.raises(UsageError, match=r"\(N, 3, H, W\)"):
        hb_config.write_calibration(batch.transpose(0, 2, 3, 1), tmp_path / "bad")
