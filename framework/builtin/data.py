"""Image data for accuracy and calibration: folder data sets, per-model preprocessing.

A data set is a folder with one sub-folder per class (the common ``ImageFolder`` layout).
Sub-folder names map to class indices like this (see docs/models.md):

1. all names are integers (``0``, ``281``, ``967``): the integer is the class index, so a
   folder of ImageNet images labelled ``281/`` scores against a 1000-class model's output 281;
2. else all names are ImageNet synset ids (``n02123045``): the index of the synset in
   ImageNet-1k order (timm's ``imagenet_synsets.txt``, read without importing timm);
3. otherwise the sorted order of the names (0, 1, 2, ...), as Keras and torchvision do.

Images are taken in a fixed order, round-robin over the classes, so ``max_images`` keeps
every class represented and the float and int8 models always see the same images.
Preprocessing follows :class:`~zoo_bench.components.Preprocess`: resize the short side,
centre crop, ``(x - mean) / std``, NHWC or NCHW.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..components import Preprocess
from ..errors import UsageError

if TYPE_CHECKING:
    import numpy as np

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm")
#: Seed of the random calibration fallback (documented so runs are reproducible).
RANDOM_CALIBRATION_SEED = 0


@dataclass(frozen=True)
class LabelledImage:
    path: Path
    label: int
    class_name: str


def _imagenet_synsets() -> list[str] | None:
    spec = importlib.util.find_spec("timm")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "_info" / "imagenet_synsets.txt"
    return path.read_text().split() if path.is_file() else None


def class_indices(names: list[str]) -> tuple[dict[str, int], str]:
    """Class folder name -> index, and the rule used (``integer``, ``imagenet-synset``, ``sorted``)."""
    if names and all(n.isdigit() for n in names):
        return {n: int(n) for n in names}, "integer"
    if names and all(len(n) == 9 and n[0] == "n" and n[1:].isdigit() for n in names):
        synsets = _imagenet_synsets()
        if synsets and all(n in synsets for n in names):
            order = {s: i for i, s in enumerate(synsets)}
            return {n: order[n] for n in names}, "imagenet-synset"
    return {n: i for i, n in enumerate(sorted(names))}, "sorted"


def list_images(folder: str | Path, max_images: int | None = None) -> tuple[list[LabelledImage], str]:
    """The labelled images of a class-per-folder data set, round-robin over classes."""
    root = Path(folder)
    if not root.is_dir():
        raise UsageError(f"data set {str(root)!r} is not a folder")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise UsageError(f"data set {root} has no class sub-folders (expected DIR/<class>/<image>)")
    index, rule = class_indices(classes)
    per_class = [
        [LabelledImage(p, index[c], c) for p in sorted((root / c).rglob("*")) if p.suffix.lower() in IMAGE_SUFFIXES]
        for c in classes
    ]
    ordered: list[LabelledImage] = []
    for i in range(max((len(items) for items in per_class), default=0)):
        ordered.extend(items[i] for items in per_class if i < len(items))
    if not ordered:
        raise UsageError(f"data set {root} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    return (ordered[:max_images] if max_images else ordered), rule


def _resample(name: str) -> int:
    from PIL import Image

    return {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC, "nearest": Image.NEAREST,
            "lanczos": Image.LANCZOS}.get(name, Image.BILINEAR)


#: Pillow modes of 16-bit integer images (PNG, TIFF): scaled by 255 / 65535, never clipped.
SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N")


def to_rgb8(image):
    """A PIL image in 8-bit RGB, scaled from its real bit depth or range, never clipped.

    ``convert("RGB")`` clips a 16-bit image at 255 (most pixels become white) and rounds a
    float image in [0, 1] to 0 or 1 (black): those are converted here instead. A 16-bit image
    is scaled by 255 / 65535; a float image in [0, 1] by 255, one in [0, 255] is kept; any other
    float range, and 32-bit integer images, are refused with :class:`UsageError`.
    """
    import numpy as np
    from PIL import Image

    mode = image.mode
    if mode in SIXTEEN_BIT_MODES or (mode == "I" and image.format == "PNG"):  # PNG holds at most 16 bits
        pixels = np.asarray(image).astype(np.float64) * (255.0 / 65535.0)
    elif mode == "F":
        pixels = np.asarray(image).astype(np.float64)
        if not np.isfinite(pixels).all():
            raise UsageError("float image holds NaN or infinite pixels; convert it to 8-bit RGB")
        low, high = float(pixels.min()), float(pixels.max())
        if low >= 0.0 and high <= 1.0:
            pixels = pixels * 255.0
        elif not (low >= 0.0 and high <= 255.0):
            raise UsageError(f"float image with pixel values in [{low:g}, {high:g}]: zoo-bench reads float images "
                             "in [0, 1] or [0, 255] only; convert it to 8-bit RGB")
    elif mode in ("I", "I;32", "I;32L", "I;32B"):
        raise UsageError(f"{mode} image (32-bit integer pixels): its range is unknown; convert it to 8-bit RGB")
    else:
        return image.convert("RGB")
    gray = Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8), mode="L")
    return gray.convert("RGB")


def preprocess_pil(image, pre: Preprocess) -> np.ndarray:
    """One PIL image -> float32 array (H, W, 3) or (3, H, W), no batch axis."""
    import numpy as np

    image = to_rgb8(image)
    w, h = image.size
    scale = pre.resize / min(w, h)
    image = image.resize((max(pre.crop, round(w * scale)), max(pre.crop, round(h * scale))),
                         _resample(pre.interpolation))
    w, h = image.size
    left, top = (w - pre.crop) // 2, (h - pre.crop) // 2
    image = image.crop((left, top, left + pre.crop, top + pre.crop))
    pixels = np.asarray(image, dtype=np.float32)
    if pre.channel_order == "BGR":
        pixels = pixels[..., ::-1]
    x = (pixels - np.asarray(pre.mean, np.float32)) / np.asarray(pre.std, np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1) if pre.layout == "NCHW" else x)


def preprocess_array(pixels: np.ndarray, pre: Preprocess) -> np.ndarray:
    """An RGB uint8 array (H, W, 3), e.g. ``skimage.data.chelsea()``, preprocessed."""
    from PIL import Image

    return preprocess_pil(Image.fromarray(pixels), pre)


def load_batch(images: list[LabelledImage], pre: Preprocess) -> tuple[np.ndarray, np.ndarray]:
    """Preprocessed images stacked into one float32 batch, and their labels."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    arrays = []
    for item in images:
        try:
            with Image.open(item.path) as image:
                arrays.append(preprocess_pil(image, pre))
        except (UnidentifiedImageError, OSError) as exc:
            raise UsageError(f"cannot read image {item.path}: {exc}") from exc
        except UsageError as exc:
            raise UsageError(f"image {item.path}: {exc}") from exc
    return np.stack(arrays), np.asarray([i.label for i in images], dtype=np.int64)


def calibration_batch(pre: Preprocess, dataset: str | Path | None, count: int) -> tuple[np.ndarray, str]:
    """``count`` preprocessed calibration inputs, and where they came from.

    From the data set folder when one is given (the first ``count`` images in round-robin
    order). Otherwise the documented random fallback: ``count`` images of uniformly random
    pixels in [0, 255] (seed :data:`RANDOM_CALIBRATION_SEED`) put through the same
    preprocessing, so the calibrated input range equals the model's real input range.
    """
    import numpy as np

    if dataset:
        images, _ = list_images(dataset, count)
        batch, _ = load_batch(images, pre)
        return batch, f"dataset {Path(dataset).resolve()} (first {len(batch)} images, round-robin over classes)"
    rng = np.random.default_rng(RANDOM_CALIBRATION_SEED)
    pixels = rng.integers(0, 256, size=(count, pre.crop, pre.crop, 3)).astype(np.float32)
    x = (pixels - np.asarray(pre.mean, np.float32)) / np.asarray(pre.std, np.float32)
    if pre.layout == "NCHW":
        x = x.transpose(0, 3, 1, 2)
    return np.ascontiguousarray(x, dtype=np.float32), f"random pixels (seed {RANDOM_CALIBRATION_SEED}, {count} images)"


def default_preprocess(resolution: int, layout: str = "NHWC") -> Preprocess:
    """Resize and ``(x - 127.5) / 127.5``: for tools that need *some* input (a timing input, a
    workload), never for accuracy or calibration (those refuse an undeclared model:
    :mod:`zoo_bench.builtin.preprocessing`)."""
    return Preprocess(resize=resolution, crop=resolution, layout=layout, declared_by="default (no contract)")
