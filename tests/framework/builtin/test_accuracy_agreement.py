"""int8_agreement with a known disagreement: 3 of 4 images agree -> 75 %."""

from __future__ import annotations

import numpy as np
import pytest
from zoo_bench import Artifact, ModelSpec, Runner, StageContext, Target, hookimpl
from zoo_bench.builtin.accuracy import AccuracyEvaluator, top1_agreement
from zoo_bench.components import Preprocess
from zoo_bench.options import stage_options
from zoo_bench.plugins import load_registry

#: top-1 class per image (in the evaluator's round-robin order) for each variant
FLOAT_TOP1 = [0, 1, 0, 1]
INT8_TOP1 = [0, 1, 0, 0]  # the fourth image disagrees


def test_top1_agreement_counts_the_disagreement():
    assert top1_agreement(np.array(FLOAT_TOP1), np.array(INT8_TOP1)) == 75.0
    assert top1_agreement(np.array([3, 3]), np.array([3, 3])) == 100.0
    with pytest.raises(ValueError):
        top1_agreement(np.array([1, 2]), np.array([1]))


class ScriptedRunner(Runner):
    """predict() answers with logits whose argmax is the scripted class of each image."""

    name = "scripted"

    def predict(self, artifact, batch, options):
        top1 = INT8_TOP1 if artifact.precision == "int8" else FLOAT_TOP1
        logits = np.zeros((len(batch), 4), np.float32)
        logits[np.arange(len(batch)), top1[: len(batch)]] = 5.0
        return logits


class Plugin:
    @hookimpl
    def zoo_bench_register_runners(self, register):
        register(ScriptedRunner())
        register(AccuracyEvaluator())


def test_the_evaluator_reports_75_percent_agreement(tmp_path):
    pytest.importorskip("PIL")
    from PIL import Image

    data = tmp_path / "data"
    for label in ("0", "1"):
        (data / label).mkdir(parents=True)
        for i in range(2):
            Image.new("RGB", (10, 10), (40 * i, 80, 120)).save(data / label / f"{i}.png")
    registry = load_registry([("scripted", Plugin())], entry_points=False)
    evaluator = registry.component("run", "accuracy")
    model = ModelSpec(name="m", source="none", family="m", resolution=8, native_format="tflite", classes=4,
                      preprocess=Preprocess(resize=8, crop=8))  # a declared contract: never guessed
    files = {p: tmp_path / f"{p}.tflite" for p in ("float32", "int8")}
    for path in files.values():
        path.write_bytes(b"\0")
    options = stage_options(evaluator, {}, {"dataset": str(data)}, {"runner": "scripted"})
    ctx = StageContext(model=model, target=Target(id="t", vendor="v", device_class="CPU"), stage_id="evaluate",
                       options=options, workdir=tmp_path,
                       inputs={f"q:{p}": Artifact(f, "tflite", precision=p) for p, f in files.items()},
                       registry=registry)
    figures = {f.metric: f for f in evaluator.run(ctx).figures}
    assert figures["int8_agreement"].value == 75.0
    assert figures["int8_agreement"].extra["n_images"] == 4
    # labels round-robin 0, 1, 0, 1: float top-1 hits all four, int8 misses the last
    assert figures["top1_float"].value == 100.0 and figures["top1_int8"].value == 75.0
