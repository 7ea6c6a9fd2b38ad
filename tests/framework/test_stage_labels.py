"""A plugin's ``label=`` names its stage (unique per job); a clash is a planning error naming both."""

from __future__ import annotations

import pytest
from zoo_bench.components import ModelSpec, Target
from zoo_bench.plan import Planner, plan_jobs


class _T(Target):
    id = "t1"
    vendor = "test"

    def __init__(self, plan):
        self._plan = plan

    def plan(self, model, p):
        return self._plan(p)


def _planner() -> Planner:
    return Planner(ModelSpec(name="m", family="m", source="src", resolution=8, native_format="keras"), _T(lambda p: []))


def test_a_label_names_compile_quantize_and_run_stages():
    p = _planner()
    src = p.source()
    flt = p.compile(src, "ov", label="float32")
    q8 = p.quantize(src, "q", label="per-tensor")
    int8 = p.compile(q8, "ov", label="int8")
    run = p.run(int8, "r", label="npu")
    assert (flt, q8, int8, run) == ("compile:ov:float32", "quantize:q:per-tensor", "compile:ov:int8", "run:r:npu")
    assert [s.id for s in p.ordered()] == ["source", "compile:ov:float32", "quantize:q:per-tensor",
                                           "compile:ov:int8", "run:r:npu"]


def test_without_a_label_names_are_unchanged():
    p = _planner()
    src = p.source()
    q8 = p.quantize(src, "q")
    assert p.compile(src, "ov") == "compile:ov"
    assert p.compile(q8, "ov").startswith("compile:ov:")  # a hash suffix: give label= to name it
    assert p.run(q8, "r") == "run:r:int8"
    assert p.compile(src, "ov") == "compile:ov"  # the same stage declared twice is one stage


def test_a_label_clash_is_a_planning_error_naming_both():
    def plan(p):
        src = p.source()
        q8 = p.quantize(src, "q")
        p.compile(src, "ov", label="x")
        p.compile(q8, "ov", label="x")

    [job] = plan_jobs([ModelSpec(name="m", family="m", source="src", resolution=8, native_format="keras")], [_T(plan)])
    assert job.plan_error and "two different stages are named 'compile:ov:x'" in job.plan_error
    assert "ov <- source" in job.plan_error and "ov <- quantize:q" in job.plan_error


@pytest.mark.parametrize("label", ["", "a b", "x:y", 3, "a/b"])
def test_a_label_must_be_a_short_name(label):
    p = _planner()
    with pytest.raises(ValueError, match="stage label"):
        p.compile(p.source(), "ov", label=label)
