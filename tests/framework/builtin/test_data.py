"""Data set loading, class-index rules, preprocessing and the calibration fallback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from zoo_bench.builtin import data
from zoo_bench.components import Preprocess
from zoo_bench.errors import UsageError

PIL = pytest.importorskip("PIL")


def _dataset(root: Path, classes: dict[str, int]) -> Path:
    from PIL import Image

    for name, count in classes.items():
        (root / name).mkdir(parents=True)
        for i in range(count):
            Image.fromarray(np.full((40, 60, 3), 10 * i, np.uint8)).save(root / name / f"{i}.png")
    return root


def test_integer_folders_are_class_indices():
    assert data.class_indices(["967", "281"]) == ({"967": 967, "281": 281}, "integer")


def test_synset_folders_map_to_imagenet_order():
    pytest.importorskip("timm")
    index, rule = data.class_indices(["n01440764", "n15075141"])  # first and last ImageNet-1k synsets
    assert (index, rule) == ({"n01440764": 0, "n15075141": 999}, "imagenet-synset")


def test_other_folders_use_sorted_order():
    assert data.class_indices(["tulips", "daisy", "roses"]) == ({"daisy": 0, "roses": 1, "tulips": 2}, "sorted")


def test_list_images_round_robin_and_max(tmp_path: Path):
    root = _dataset(tmp_path / "ds", {"b": 3, "a": 1})
    images, rule = data.list_images(root)
    assert rule == "sorted"
    assert [(i.class_name, i.path.name) for i in images] == [("a", "0.png"), ("b", "0.png"), ("b", "1.png"),
                                                             ("b", "2.png")]
    assert [i.label for i in data.list_images(root, max_images=2)[0]] == [0, 1]


def test_list_images_errors(tmp_path: Path):
    with pytest.raises(UsageError, match="not a folder"):
        data.list_images(tmp_path / "missing")
    (tmp_path / "empty" / "cls").mkdir(parents=True)
    with pytest.raises(UsageError, match="no images"):
        data.list_images(tmp_path / "empty")


@pytest.mark.parametrize("layout, shape", [("NHWC", (24, 24, 3)), ("NCHW", (3, 24, 24))])
def test_preprocess_resize_crop_normalise(layout: str, shape: tuple[int, ...]):
    pixels = np.zeros((50, 100, 3), np.uint8)
    pixels[:, :, 0] = 255
    pre = Preprocess(resize=32, crop=24, mean=(127.5, 0.0, 0.0), std=(127.5, 1.0, 1.0), layout=layout)
    x = data.preprocess_array(pixels, pre)
    assert x.shape == shape and x.dtype == np.float32
    red = x[..., 0] if layout == "NHWC" else x[0]
    assert np.allclose(red, 1.0) and np.allclose(x[..., 1] if layout == "NHWC" else x[1], 0.0)


def test_calibration_from_dataset_and_random_fallback(tmp_path: Path):
    pre = Preprocess(resize=16, crop=16, layout="NCHW")
    root = _dataset(tmp_path / "ds", {"0": 2, "1": 2})
    batch, origin = data.calibration_batch(pre, root, 3)
    assert batch.shape == (3, 3, 16, 16) and "dataset" in origin
    rand1, origin1 = data.calibration_batch(pre, None, 5)
    rand2, _ = data.calibration_batch(pre, None, 5)
    assert rand1.shape == (5, 3, 16, 16) and "random" in origin1
    assert np.array_equal(rand1, rand2)  # seeded: the same calibration every run
    assert -1.0 <= rand1.min() < -0.9 and 0.9 < rand1.max() <= 1.0  # covers the preprocessed range


def _gray_ramp_batch(tmp_path: Path, name: str, pixels: np.ndarray) -> np.ndarray:
    """Save ``pixels`` (one 16x16 gray ramp) as ``name`` in a one-class data set and load it back."""
    from PIL import Image

    (tmp_path / "ds" / "0").mkdir(parents=True)
    Image.fromarray(pixels).save(tmp_path / "ds" / "0" / name)
    images, _ = data.list_images(tmp_path / "ds")
    pre = Preprocess(resize=16, crop=16, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    batch, _ = data.load_batch(images, pre)
    return batch[0, ..., 0]  # 0-255 after an identity normalisation


@pytest.mark.parametrize("name, pixels", [
    ("ramp16.png", (np.arange(256).reshape(16, 16) * 257).astype(np.uint16)),   # 0..65535, 16-bit gray PNG
    ("ramp16.tif", (np.arange(256).reshape(16, 16) * 257).astype(np.uint16)),   # 16-bit TIFF
    ("ramp01.tif", (np.arange(256).reshape(16, 16) / 255.0).astype(np.float32)),  # float TIFF in [0, 1]
    ("ramp255.tif", np.arange(256).reshape(16, 16).astype(np.float32)),          # float TIFF in [0, 255]
])
def test_16_bit_and_float_images_are_scaled_not_clipped(tmp_path: Path, name: str, pixels: np.ndarray):
    """Before: convert("RGB") clipped 16-bit pixels at 255 and rounded [0, 1] floats to 0 or 1."""
    got = _gray_ramp_batch(tmp_path, name, pixels)
    assert np.allclose(got, np.arange(256).reshape(16, 16), atol=1.0)


@pytest.mark.parametrize("name, pixels, match", [
    ("wide.tif", np.linspace(-5.0, 900.0, 256, dtype=np.float32).reshape(16, 16), r"\[-5, 900\]"),
    ("i32.tif", (np.arange(256).reshape(16, 16) * 100_000).astype(np.int32), "32-bit integer"),
])
def test_images_of_unknown_range_are_refused(tmp_path: Path, name: str, pixels: np.ndarray, match: str):
    with pytest.raises(UsageError, match=match) as err:
        _gray_ramp_batch(tmp_path, name, pixels)
    assert name in str(err.value) and "8-bit" in str(err.value)
