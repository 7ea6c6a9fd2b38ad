"""The model catalog: names, families, card parameter counts, builders (cheap: no files written)."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from zoo_bench.builtin.models import catalog
from zoo_bench.plan import resolve_models


def needs(*modules: str) -> pytest.MarkDecorator:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    return pytest.mark.skipif(bool(missing), reason=f"not installed: {', '.join(missing)}")

CATALOG = catalog.keras_specs() + catalog.timm_specs()
#: The builder checks build one network per family of each builder (the constants of catalog.COUNTED
#: were counted on every builder; the code paths are one per family). Building all 18 networks
#: again takes minutes of CI for constants that change only with catalog.py, Keras or timm:
#: ZOO_BENCH_TEST_ALL_MODELS=1 builds them all (do it when you change one of those).
ALL_MODELS = os.environ.get("ZOO_BENCH_TEST_ALL_MODELS") == "1"
REPRESENTATIVES = {"resnet50_v2_224", "mobilenet_v2_0.35_128", "efficientnet_v2B0_224", "efficientnet_lite0_224",
                   "efficientnet_b2_224"}


def builder_cases(source: str) -> list:
    return [s for s in CATALOG if s.source == source and (ALL_MODELS or s.name in REPRESENTATIVES)]
ISSUE_NAMES = {
    "resnet50_v2_224", "mobilenet_v2_0.35_128", "mobilenet_v2_0.35_224", "mobilenet_v2_1.0_128",
    "mobilenet_v2_1.0_224", "efficientnet_v2B0_224", "efficientnet_v2B1_240", "efficientnet_v2B2_260",
    "efficientnet_v2B3_300", "efficientnet_v2S_384", "efficientnet_lite0_224", "efficientnet_lite1_240",
    "efficientnet_lite2_260", "efficientnet_lite3_280", "efficientnet_lite4_300", "efficientnet_b2_224",
    "efficientnet_b3_224", "efficientnet_b4_224",
}


def test_catalog_lists_the_issue_models(registry):
    assert ISSUE_NAMES <= set(registry.models())
    assert {s.name for s in CATALOG} == ISSUE_NAMES
    assert all(s.params and s.macs and s.preprocess for s in CATALOG)


@pytest.mark.parametrize("family, expected", [
    ("resnet50_v2", "resnet50_v2_224"), ("mobilenet_v2_0.35", "mobilenet_v2_0.35_224"),
    ("efficientnet_lite0", "efficientnet_lite0_224"), ("efficientnet_v2S", "efficientnet_v2S_384"),
    ("efficientnet_b2", "efficientnet_b2_224"),
])
def test_family_name_selects_default(registry, family: str, expected: str):
    assert [m.name for m in resolve_models([family], registry)] == [expected]


def test_efficientnet_lite_resolutions_are_the_official_ones():
    """tensorflow/tpu efficientnet_lite_builder.py: lite0..4 at 224, 240, 260, 280, 300."""
    lite = {s.family: s.resolution for s in catalog.timm_specs() if s.family.startswith("efficientnet_lite")}
    assert lite == {"efficientnet_lite0": 224, "efficientnet_lite1": 240, "efficientnet_lite2": 260,
                    "efficientnet_lite3": 280, "efficientnet_lite4": 300}


def test_the_catalog_needs_nothing_outside_the_repository():
    text = Path(catalog.__file__).read_text()
    assert not re.search(r"(?<![\w.])/(work|home|tmp|shared)/", text)
    assert "seeds" not in text


def test_mobilenet_names_outside_the_catalog_parse():
    spec = catalog.parse_mobilenet_name("mobilenet_v2_0.5_160")
    assert spec is not None and spec.resolution == 160 and spec.builder_args()["alpha"] == 0.5
    assert catalog.parse_mobilenet_name("mobilenet_v2_0.6_160") is None  # no such Keras width
    assert catalog.parse_mobilenet_name("resnet50_v2_224") is None


def test_every_catalog_model_has_counted_figures_and_each_family_a_representative():
    assert set(catalog.COUNTED) == {s.name for s in CATALOG}

    def family(spec):
        return re.match(r"resnet50_v2|mobilenet_v2|efficientnet_v2|efficientnet_lite|efficientnet_b", spec.family)[0]

    assert {family(s) for s in CATALOG if s.name in REPRESENTATIVES} == {family(s) for s in CATALOG}


def test_catalog_params_agree_with_the_cards():
    """The cards' figures vs the learnable parameters counted on the builders (COUNTED)."""
    for name, card in catalog.CARD_PARAMS.items():
        counted = catalog.COUNTED[name][0]
        assert abs(counted - card) / card < 0.02, f"{name}: counted {counted} vs card {card}"


def test_importing_plugins_loads_no_framework():
    code = ("import sys, zoo_bench.builtin.models, zoo_bench.builtin.quantizers, zoo_bench.builtin.accuracy;"
            "print(sorted(m for m in ('tensorflow', 'torch', 'timm', 'keras', 'onnx', 'onnxruntime') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@needs("keras", "tensorflow")
@pytest.mark.parametrize("spec", builder_cases(catalog.KERAS), ids=lambda s: s.name)
def test_keras_builder_counts(spec):
    from zoo_bench.builtin.models.common import keras_macs, keras_params
    from zoo_bench.builtin.models.keras_source import make_keras_model

    net = make_keras_model(spec)
    assert tuple(net.outputs[0].shape) == (1, 1000)
    assert (keras_params(net), keras_macs(net)) == catalog.COUNTED[spec.name]


@needs("torch", "timm")
@pytest.mark.parametrize("spec", builder_cases(catalog.TIMM), ids=lambda s: s.name)
def test_timm_builder_counts(spec):
    from zoo_bench.builtin.models.common import torch_macs, torch_params
    from zoo_bench.builtin.models.timm_source import make_timm_model

    net = make_timm_model(spec)
    assert (torch_params(net), torch_macs(net, spec.input_shape)) == catalog.COUNTED[spec.name]


@needs("keras", "tensorflow", "torch", "timm")
@pytest.mark.parametrize("name", ["mobilenet_v2_0.35_128", "efficientnet_lite0_224"])
def test_classes_rebuilds_the_head(registry, name: str):
    from zoo_bench.builtin.models.common import keras_params, torch_params
    from zoo_bench.builtin.models.keras_source import make_keras_model
    from zoo_bench.builtin.models.timm_source import make_timm_model

    (spec,) = resolve_models([name], registry, classes=5)
    assert spec.classes == 5 and spec.params is None
    if spec.native_format == "keras":
        net = make_keras_model(spec)
        params, features = keras_params(net), net.layers[-1].kernel.shape[0]
    else:
        net = make_timm_model(spec)
        params, features = torch_params(net), net.get_classifier().in_features
    assert params == catalog.COUNTED[name][0] - 995 * (features + 1)


def test_unknown_model_suggests(registry):
    from zoo_bench.errors import UsageError

    with pytest.raises(UsageError, match="efficientnet_lite0_224"):
        resolve_models(["efficientnet_lite0_244"], registry)


def test_replace_keeps_spec_hashable():
    spec = replace(CATALOG[0], classes=39)
    assert hash(spec) != hash(CATALOG[0])
