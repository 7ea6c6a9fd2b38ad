"""Formats are a checked contract: a quantizer given an artifact it cannot read says why, in one line."""

from __future__ import annotations

import pytest
from zoo_bench import Artifact, ModelSource, ModelSpec, StageContext, Target, hookimpl
from zoo_bench.builtin.quantizers import OnnxQdqQuantizer, TfliteInt8Quantizer
from zoo_bench.formats import FORMATS, FormatMismatch, check_input, native_loader
from zoo_bench.plugins import load_registry


class NoLoaderSource(ModelSource):
    """A torch model source that never implemented load_native."""

    name = "no_loader"


class WithLoaderSource(ModelSource):
    name = "with_loader"

    def load_native(self, artifact, model):
        raise AssertionError("not called by check_input")


class Plugin:
    @hookimpl
    def zoo_bench_register_model_sources(self, register):
        register(NoLoaderSource())
        register(WithLoaderSource())


@pytest.fixture
def ctx_for(tmp_path):
    registry = load_registry([("formats_test", Plugin())], entry_points=False)

    def make(source: str, fmt: str) -> StageContext:
        path = tmp_path / f"model.{fmt}"
        path.write_bytes(b"\0")
        model = ModelSpec(name="m", source=source, family="m", resolution=8, native_format=fmt)
        return StageContext(model=model, target=Target(id="t", vendor="v", device_class="CPU"),
                            stage_id="quantize:x", options={}, inputs={"source": Artifact(path, fmt)},
                            workdir=tmp_path, registry=registry)

    return make


def test_a_torch_model_from_a_source_without_load_native_is_a_clear_error(ctx_for):
    """Before: ``KeyError: 'timm_name'`` from deep inside the timm source."""
    with pytest.raises(FormatMismatch, match="source 'no_loader' does not implement load_native"):
        check_input(TfliteInt8Quantizer(), ctx_for("no_loader", "torch"))
    with pytest.raises(FormatMismatch, match="source 'no_loader' does not implement load_native"):
        TfliteInt8Quantizer().quantize(ctx_for("no_loader", "torch"))


def test_a_source_with_load_native_meets_the_torch_contract(ctx_for):
    ctx = ctx_for("with_loader", "torch")
    assert check_input(TfliteInt8Quantizer(), ctx) is ctx.input
    assert native_loader(ctx).name == "with_loader"


def test_a_format_the_quantizer_does_not_accept_names_both(ctx_for):
    expected = r"quantize:onnx_qdq accepts onnx artifacts, not 'npz' \(from stage source\)"
    with pytest.raises(FormatMismatch, match=expected):
        OnnxQdqQuantizer().quantize(ctx_for("with_loader", "npz"))


def test_every_format_a_builtin_component_names_is_defined(registry):
    named = {fmt for kind in ("quantize", "compile", "run") for comp in registry.components[kind].values()
             for fmt in comp.accepts} | {q.produces for q in registry.components["quantize"].values()}
    named |= {spec.native_format for spec in registry.models().values()}
    assert named <= set(FORMATS)


@pytest.fixture(scope="module")
def registry():
    return load_registry()
