"""A user's own model, fast checks: the input contract, facts from the file, names, side branches,
the run summary (issue 19 and issue 16's "Model files")."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from zoo_bench.builtin import preprocessing
from zoo_bench.builtin.accuracy import confusion_matrix, wilson_interval
from zoo_bench.components import ModelSpec
from zoo_bench.errors import ToolUnavailable, UsageError
from zoo_bench.plan import Planner, StageSpec, side_branch_outcome
from zoo_bench.records import JobResult, Record
from zoo_bench.summary import answer, grouped_skips, summary_text

from tests.framework.hardening import tiny_onnx


def needs(*modules: str) -> pytest.MarkDecorator:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    return pytest.mark.skipif(bool(missing), reason=f"not installed: {', '.join(missing)}")


# --- the contract ---------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "low", "high", "order"), [
    ("raw", 0.0, 255.0, "RGB"), ("unit", 0.0, 1.0, "RGB"), ("symmetric", -1.0, 1.0, "RGB"),
    ("range=-1:1,order=BGR", -1.0, 1.0, "BGR"), ("range=0:1", 0.0, 1.0, "RGB"),
])
def test_preprocess_text_gives_the_declared_value_range(text, low, high, order):
    pre = preprocessing.parse(preprocessing.parse_text(text), 32, "NHWC", "--preprocess")
    lo = (0.0 - pre.mean[0]) / pre.std[0]
    hi = (255.0 - pre.mean[0]) / pre.std[0]
    assert (lo, hi, pre.channel_order, pre.declared_by) == (pytest.approx(low), pytest.approx(high), order,
                                                          "--preprocess")
    assert f"[{low:.4g}, {high:.4g}]" in preprocessing.describe(pre)


@pytest.mark.parametrize("text", ["range=1:0", "mean=1/2", "order=GRB", "nonsense", "crop=0", "colour=red",
                                  "std=0", "layout=HWC"])
def test_a_bad_contract_is_a_usage_error(text):
    with pytest.raises(UsageError):
        preprocessing.parse(preprocessing.parse_text(text), 32, "NHWC", "--preprocess")


def test_an_undeclared_model_is_refused_with_how_to_declare_it():
    spec = ModelSpec(name="mine", source="local_file", family="local", resolution=32, native_format="onnx")
    with pytest.raises(ToolUnavailable, match="declares no input preprocessing.*--preprocess.*zoo-bench.toml"):
        preprocessing.require(spec, "accuracy evaluation")


def test_keras_rescaling_or_normalization_at_the_input_declares_raw_pixels():
    def model(*layers: str) -> dict:
        return {"class_name": "Functional", "config": {"layers": [
            {"class_name": "InputLayer", "config": {}},
            *({"class_name": c, "config": {"scale": 0.00392156862745098}} for c in layers)]}}

    assert "Rescaling(scale=0.0039" in preprocessing.keras_input_scaling(model("RandomFlip", "Rescaling", "Conv2D"))
    assert preprocessing.keras_input_scaling(model("Normalization", "Conv2D")) == "keras Normalization at the input"
    assert preprocessing.keras_input_scaling(model("Conv2D", "Rescaling")) is None  # not at the input
    nested = {"class_name": "Sequential", "config": {"layers": [model("Rescaling"), {"class_name": "Dense"}]}}
    assert preprocessing.keras_input_scaling(nested) is not None


@needs("onnx")
def test_config_file_and_onnx_metadata_declare_the_contract(tmp_path: Path, registry):
    import onnx

    path = tiny_onnx(tmp_path / "net.onnx", [1, 3, 16, 16])
    spec = registry.model_from_path(path)
    assert spec.preprocess is None and spec.classes == 5 and spec.weights == "user"
    model = onnx.load(str(path))
    model.metadata_props.add(key="zoo_bench.preprocess", value="imagenet")
    onnx.save(model, str(path))
    pre = registry.model_from_path(path).preprocess
    assert pre.mean == (123.675, 116.28, 103.53) and pre.layout == "NCHW" and "ONNX metadata" in pre.declared_by
    (tmp_path / "net.onnx.zoo-bench.toml").write_text('[preprocess]\nrange = [0, 1]\nresize = 20\ncrop = 16\n')
    pre = registry.model_from_path(path).preprocess  # the file beside it wins over the metadata
    assert (pre.std[0], pre.resize, pre.crop, pre.declared_by) == (255.0, 20, 16, "net.onnx.zoo-bench.toml")


def test_bgr_models_get_bgr_pixels():
    from zoo_bench.builtin.data import preprocess_array

    pixels = np.zeros((8, 8, 3), np.uint8)
    pixels[..., 0] = 200  # red
    pre = preprocessing.parse({"preset": "raw", "order": "BGR"}, 8, "NHWC", "test")
    x = preprocess_array(pixels, pre)
    assert x[0, 0].tolist() == [0.0, 0.0, 200.0]


# --- facts and names ------------------------------------------------------------------------
@needs("onnx")
def test_a_fixed_batch_above_one_is_refused(tmp_path: Path, registry):
    with pytest.raises(UsageError, match="batch is fixed at 8"):
        registry.model_from_path(tiny_onnx(tmp_path / "b8.onnx", [8, 3, 16, 16]))


@needs("onnx")
def test_two_files_with_one_stem_are_two_jobs_with_distinct_names(tmp_path: Path, registry):
    from zoo_bench.plan import resolve_models

    (tmp_path / "v1").mkdir()
    (tmp_path / "v2").mkdir()
    a = tiny_onnx(tmp_path / "v1" / "tinycnn.onnx", [1, 3, 16, 16])
    b = tiny_onnx(tmp_path / "v2" / "tinycnn.onnx", [1, 3, 16, 16])
    models = resolve_models([str(a), str(b), str(a)], registry, preprocess="raw")
    assert [m.name for m in models] == ["tinycnn", "v2-tinycnn"]
    assert all(m.preprocess.declared_by == "--preprocess" for m in models)
    with pytest.raises(UsageError, match="no model given is a file"):
        resolve_models(["mobilenet_v2_0.35_128"], registry, preprocess="raw")


def test_h5_without_a_model_config_is_one_line(tmp_path: Path, registry):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "weights_only.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("w", data=np.zeros(3))
    with pytest.raises(UsageError, match="no model config"):
        registry.model_from_path(path)


# --- side branches --------------------------------------------------------------------------
@dataclass
class _Result:
    spec: StageSpec
    status: str
    reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def test_a_side_branch_that_fails_is_skipped_and_its_own_conversion_with_it(cpu_target):
    spec = ModelSpec(name="m", source="local_file", family="local", resolution=8, native_format="onnx")
    p = Planner(spec, cpu_target)
    src = p.source()
    q8 = p.quantize(src, "onnx_qdq")
    main = p.run(q8, "onnxruntime")
    own = p.quantize(src, "tflite_int8")
    est = p.side_branch(p.run(own, "fake_estimate", label="estimate"))
    shared = p.side_branch(p.run(q8, "other_estimate", label="estimate2"))
    stages = {s.id: s for s in p.ordered()}
    assert {i for i, s in stages.items() if s.side} == {own, est, shared}  # q8 serves the main path
    done = {i: _Result(s, "ok") for i, s in stages.items()}
    done[own].status, done[own].reason = "failed", "cannot convert"
    done[main].status = "ok"
    side_branch_outcome(done)
    assert (done[own].status, done[own].reason) == ("skipped", "side branch, not run: cannot convert")
    assert main in stages


def test_an_int8_model_file_labels_its_runs_int8(cpu_target):
    spec = ModelSpec(name="m", source="local_file", family="local", resolution=8, native_format="tflite",
                     builder=(("precision", "int8"),))
    leaves = cpu_target.plan(spec, p := Planner(spec, cpu_target))
    assert "run:litert:int8" in leaves and "evaluate:accuracy" in leaves
    assert p.stages["source"].variant == "int8"


# --- accuracy figures -----------------------------------------------------------------------
def test_wilson_interval_and_confusion_matrix():
    low, high = wilson_interval(30, 36)
    assert 67.5 < low < 69 and 91.5 < high < 93
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == pytest.approx(100.0)
    matrix = confusion_matrix(np.array([0, 2, 7, 1]), np.array([0, 0, 1, 1]), {"a": 0, "b": 1})
    assert matrix == [[1, 0, 1], [0, 1, 1]]  # 2 and 7 are not data-set classes: "other"


# --- the run summary ------------------------------------------------------------------------
def _rec(metric: str, value: float | None, method: str = "model-estimate", status: str = "ok", **kw) -> Record:
    return Record(metric=metric, value=value, method=method, status=status, variant=kw.pop("variant", "int8"), **kw)


def test_summary_shows_one_best_grounded_figure_per_quantity_and_groups_skips():
    import json

    verdict = json.dumps({"verdict": "needs external", "internal_kib": 992.0, "need_kib": 1450.0})
    records = [
        _rec("activation_ram_kib", 46.0, extra=json.dumps({"fitted_on": ["a", "b"]})),  # fitted estimator
        _rec("activation_ram_kib", 63.0, tool="tflm"),                                  # planner on this model
        _rec("total_ram_kib", 1450.0, tool="tflm"),
        _rec("fits_internal_ram", 0.0, extra=verdict),
        _rec("latency_mean_ms", 217.0, extra=json.dumps({"interval": [180.0, 260.0]})),
        _rec("latency_p50_ms", 30.0, method="measured-host", variant="float32",
             samples=[29.0, 30.0, 31.0, 30.0, 30.0, 32.0]),
        _rec("stage_seconds", None, status="skipped", stage="run:board", reason="no board"),
        _rec("stage_seconds", None, status="skipped", stage="run:after", reason="x",
             extra=json.dumps({"blocked_by": "run:board"})),
    ]
    result = JobResult("mynet@stm32h7", "ok", records)
    line = answer(result)
    assert line.latency.startswith("30 ms [") and "host" in line.latency  # measured beats estimated
    assert line.ram == "1,450 KiB (146% of 992) model est."
    assert line.fit == "RAM needs external"
    other = JobResult("mynet@imx93", "ok", [_rec("stage_seconds", None, status="skipped", stage="run:board",
                                                  reason="no board")])
    assert grouped_skips([result, other]) == {"no board": ["mynet@stm32h7 run:board", "mynet@imx93 run:board"]}
    per_target = [JobResult(f"m@{t}", "ok", [_rec("stage_seconds", None, status="skipped", stage="run:b",
                                                   reason=f"no board for target {t}: write boards.toml")])
                  for t in ("imx93", "imx8mp")]
    assert grouped_skips(per_target) == {"no board for target <target>: write boards.toml": ["m@imx93 run:b",
                                                                                             "m@imx8mp run:b"]}
    text = summary_text([result, other])
    assert text.count("no board") == 1 and "skipped (2): no board" in text
    assert answer(JobResult("m@t", "ok", [_rec("activation_ram_kib", 63.0),
                                          _rec("activation_ram_kib", 46.0,
                                               extra=json.dumps({"fitted_on": ["a"]}))])).ram.startswith("63 KiB")


# --- a PyTorch module by its builder --------------------------------------------------------
@needs("torch")
def test_torch_builder_is_a_documented_entry_and_builds(tmp_path: Path, registry, make_ctx, monkeypatch):
    from zoo_bench.plan import resolve_models

    (tmp_path / "zb_user_nets.py").write_text(
        "import torch\n"
        "def tiny():\n"
        "    torch.manual_seed(0)\n"
        "    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.AdaptiveAvgPool2d(1),\n"
        "                               torch.nn.Flatten(), torch.nn.Linear(4, 6))\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match="torch:PACKAGE.MODULE:FUNCTION"):
        resolve_models(["torch:bad name"], registry)
    with pytest.raises(UsageError, match="no module 'zb_nowhere'"):
        resolve_models(["torch:zb_nowhere:tiny"], registry)
    with pytest.raises(UsageError, match="give --resolution"):
        resolve_models(["torch:zb_user_nets:tiny"], registry)
    (spec,) = resolve_models(["torch:zb_user_nets:tiny"], registry, resolution=16, preprocess="imagenet")
    assert (spec.name, spec.input_shape, spec.weights, spec.preprocess.declared_by) == (
        "tiny", (1, 3, 16, 16), "user", "--preprocess")
    source = registry.sources[spec.source]
    built = source.build(spec, make_ctx(spec, "source"))
    assert built.artifact.meta["classes"] == 6 and built.artifact.meta["weights"] == "user"
    params = next(f.value for f in built.figures if f.metric == "params")
    assert params == 3 * 4 * 9 + 4 + 4 * 6 + 6
    assert source.load_native(built.artifact, spec)[0].weight.shape == (4, 3, 3, 3)
