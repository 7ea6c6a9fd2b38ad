"""The rdk_x5 target's plan: stage chain, board thread counts, host emulation, refusals."""

from __future__ import annotations

from dataclasses import replace

from zoo_bench.plan import Planner

from .conftest import TARGET, TINY_SPEC


def test_plan_of_a_torch_model():
    spec = replace(TINY_SPEC, native_format="torch", source="timm")
    planner = Planner(spec, TARGET)
    leaves = TARGET.plan(spec, planner)
    stages = {s.id: s for s in planner.ordered()}
    assert list(stages) == ["source", "quantize:hb_mapper_setup", "compile:hb_mapper",
                            "run:rdk_board:bpu-1t", "run:rdk_board:bpu-4t", "run:rdk_board:bpu-8t",
                            "run:rdk_estimate:estimate", "export:onnx", "quantize:onnx_qdq", "evaluate:accuracy"]
    # the Horizon flow makes its own opset-11 ONNX from the native model; the estimate corrects hbdk-perf
    assert stages["quantize:hb_mapper_setup"].inputs == ("source",)
    assert stages["run:rdk_estimate:estimate"].inputs == ("compile:hb_mapper",)
    assert stages["compile:hb_mapper"].inputs == ("quantize:hb_mapper_setup",)
    assert [stages[f"run:rdk_board:bpu-{t}t"].options_dict()["threads"] for t in (1, 4, 8)] == [1, 4, 8]
    assert stages["run:rdk_board:bpu-4t"].variant == "int8"
    assert stages["quantize:onnx_qdq"].options_dict() == {"activation_type": "int8"}
    assert stages["evaluate:accuracy"].inputs == ("export:onnx", "quantize:onnx_qdq")
    assert stages["evaluate:accuracy"].options_dict()["runner"] == "rdk_nv12_onnxruntime"
    assert "compile:hb_mapper" in leaves and "evaluate:accuracy" in leaves


def test_keras_models_reach_the_horizon_flow_without_the_host_emulation():
    spec = replace(TINY_SPEC, native_format="keras", source="keras_applications",
                   preprocess=replace(TINY_SPEC.preprocess, layout="NHWC"))
    assert TARGET.supports(spec) is None
    planner = Planner(spec, TARGET)
    TARGET.plan(spec, planner)
    assert list(planner.stages) == ["source", "quantize:hb_mapper_setup", "compile:hb_mapper",
                                    "run:rdk_board:bpu-1t", "run:rdk_board:bpu-4t", "run:rdk_board:bpu-8t",
                                    "run:rdk_estimate:estimate"]


def test_onnx_files_skip_the_export_and_other_formats_are_refused():
    planner = Planner(TINY_SPEC, TARGET)
    TARGET.plan(TINY_SPEC, planner)
    assert planner.stages["quantize:hb_mapper_setup"].inputs == ("source",)
    assert planner.stages["quantize:onnx_qdq"].inputs == ("source",)
    assert "not tflite" in TARGET.supports(replace(TINY_SPEC, native_format="tflite"))
    nchw_only = replace(TINY_SPEC, preprocess=replace(TINY_SPEC.preprocess, layout="NC"))
    assert "layout" in TARGET.supports(nchw_only)
    assert TARGET.supports(TINY_SPEC) is None


def test_every_catalog_model_is_planned_on_rdk_x5():
    from zoo_bench.plugins import get_registry

    models = get_registry().models()
    assert len(models) >= 18
    refused = {name: TARGET.supports(spec) for name, spec in models.items() if TARGET.supports(spec) is not None}
    assert refused == {}
    keras = [spec for spec in models.values() if spec.native_format == "keras"]
    assert keras and all(spec.preprocess.layout == "NHWC" for spec in keras)
