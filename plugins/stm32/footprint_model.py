"""Runtime RAM and code flash of ST's MCU runtime, estimated from ST's published footprints.

Without STEdgeAI (or when it has no Arm toolchain to size the runtime library), zoo-bench has
no way to measure what the X-CUBE-AI runtime takes. This model rests on the seven
(weights, runtime RAM, code flash) points of ST's model-zoo cards listed in
``st_footprints.json`` (STM32H7, STM32Cube.AI 10.0.0; MobileNet v1, FD-MobileNet, SqueezeNet,
ResNet v1-8, ST MNIST; no MobileNet v2 and no vendor-card model among them):

    value = a + b * log2(weights_kib)

fitted by least squares, separately for runtime RAM and code flash. Why weights: the runtime's
code grows with the kernels and layers a model needs and its RAM with the layer count, and of
what zoo-bench knows of a model without the tool, the weight size follows those best on these
points. It is coarse (docs/stm32.md gives its error on the cards' models); rows made with it are
``model-estimate`` with tool :data:`TOOL` and name the points in ``extra.rests_on``.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).with_name("st_footprints.json")
TOOL = "st-footprint-fit"
VERSION = "1"
SOURCE = ("7 STM32H7 footprints of stm32ai-modelzoo @ 6f10965e (STM32Cube.AI 10.0.0): "
          "mobilenet_v1 0.25/1.0 224, mobilenet_v1 0.25 96, fdmobilenet 0.25 224, squeezenet 1.1 224, "
          "resnet_v1_8, st_mnist_v1")


@lru_cache(maxsize=1)
def coefficients() -> dict[str, tuple[float, float]]:
    """``{"runtime_ram_kib": (a, b), "code_flash_kib": (a, b)}`` fitted on the data file's points."""
    points = json.loads(DATA.read_text())["points"]
    xs = [math.log2(p["weights_flash_kib"]) for p in points]
    mean_x = sum(xs) / len(xs)
    sxx = sum((x - mean_x) ** 2 for x in xs)
    fitted = {}
    for key in ("runtime_ram_kib", "code_flash_kib"):
        ys = [p[key] for p in points]
        mean_y = sum(ys) / len(ys)
        b = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sxx
        fitted[key] = (mean_y - b * mean_x, b)
    return fitted


def estimate(weights_kib: float) -> dict[str, float]:
    """Runtime RAM and code flash (KiB) for a model with ``weights_kib`` of weights."""
    x = math.log2(max(weights_kib, 1.0))
    return {key: max(0.0, a + b * x) for key, (a, b) in coefficients().items()}
