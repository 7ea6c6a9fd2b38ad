"""RGB <-> NV12 (plugins/rdk_x5/nv12.py): layout, bounded round-trip error, clear refusals."""

from __future__ import annotations

import numpy as np
import pytest
from zoo_bench import UsageError
from zoo_bench_rdk_x5.nv12 import nv12_round_trip, nv12_to_rgb, rgb_to_nv12, round_trip_batch


def test_layout_is_y_plane_then_interleaved_uv_at_half_resolution():
    rgb = np.zeros((4, 6, 3), np.uint8)
    rgb[:, :, 0] = 255  # pure red: Y = 76, U = 85, V = 255 in BT.601 full range
    nv12 = rgb_to_nv12(rgb)
    assert nv12.dtype == np.uint8 and nv12.size == 4 * 6 * 3 // 2
    assert (nv12[:24] == 76).all()
    uv = nv12[24:].reshape(2, 3, 2)
    assert (uv[..., 0] == 85).all() and (uv[..., 1] == 255).all()


def test_grey_and_flat_blocks_survive_within_one_level():
    rng = np.random.default_rng(1)
    grey = np.repeat(rng.integers(0, 256, (8, 10, 1)), 3, axis=2).astype(np.uint8)
    assert np.abs(nv12_round_trip(grey).astype(int) - grey).max() <= 1
    # colour constant over each 2x2 block: chroma subsampling loses nothing, only rounding
    blocks = rng.integers(0, 256, (4, 5, 3)).astype(np.uint8).repeat(2, axis=0).repeat(2, axis=1)
    assert np.abs(nv12_round_trip(blocks).astype(int) - blocks).max() <= 2


def test_round_trip_error_on_a_photo_is_small():
    skimage = pytest.importorskip("skimage.data")
    photo = skimage.chelsea()[:300, :450]
    err = np.abs(nv12_round_trip(photo).astype(int) - photo)
    # measured here: mean 0.66, 99th percentile 5 (chroma of sharp colour edges is averaged)
    assert err.mean() < 1.5
    assert np.percentile(err, 99) <= 8


@pytest.mark.parametrize("shape", [(5, 6, 3), (6, 7, 3), (0, 4, 3)])
def test_odd_or_empty_sizes_are_refused_clearly(shape):
    with pytest.raises(UsageError, match="even height and width"):
        rgb_to_nv12(np.zeros(shape, np.uint8))


def test_wrong_shapes_and_sizes_are_refused():
    with pytest.raises(UsageError, match=r"\(H, W, 3\)"):
        rgb_to_nv12(np.zeros((4, 4), np.uint8))
    with pytest.raises(UsageError, match="has 24 bytes, got 23"):
        nv12_to_rgb(np.zeros(23, np.uint8), 4, 4)


def test_batch_round_trip_keeps_layout_and_normalisation():
    mean, std = (123.675, 116.28, 103.53), (58.395, 57.12, 57.375)
    rng = np.random.default_rng(2)
    pixels = rng.integers(0, 256, (2, 8, 8, 3)).astype(np.float32).repeat(2, axis=1).repeat(2, axis=2)
    nchw = ((pixels - np.float32(mean)) / np.float32(std)).transpose(0, 3, 1, 2)
    out = round_trip_batch(nchw, mean, std, "NCHW")
    assert out.shape == nchw.shape and out.dtype == np.float32
    # 2x2-constant colours: at most ~2 pixel levels of change, i.e. 2 / std in normalised units
    assert np.abs(out - nchw).max() <= 2.5 / 57.12
