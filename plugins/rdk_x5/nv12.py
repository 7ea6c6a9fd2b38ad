"""RGB <-> NV12, the runtime input format of models compiled for the RDK X5 BPU.

A ``.bin`` built with ``input_type_rt: nv12`` takes a full-resolution luma plane (Y) followed by
one plane of interleaved chroma pairs (U, V) at half resolution in both directions; the
model's first node (``HZ_PREPROCESS``) turns it back into RGB and applies mean/scale. What a
model sees on the board is therefore an image that went RGB -> NV12 -> RGB once: the chroma
of each 2x2 block is averaged, and every value is rounded to 8 bits twice.

This module does that round trip once, in numpy, for the board inputs and the host emulation.
The colour matrix is BT.601 full range (JFIF): Horizon's documents name BT.601 for the
NV12/YUV444 inputs but the range used by the BPU's own conversion is not documented publicly,
so this is an assumption, written down in docs/rdk_x5.md. Chroma is upsampled by repetition.
"""

from __future__ import annotations

import numpy as np
from zoo_bench.plugin import UsageError

# BT.601 full-range (JFIF) coefficients: Y in [0, 255], U/V centred on 128.
_RGB_TO_YUV = np.array([
    [0.299, 0.587, 0.114],
    [-0.168736, -0.331264, 0.5],
    [0.5, -0.418688, -0.081312],
], dtype=np.float64)
_YUV_TO_RGB = np.linalg.inv(_RGB_TO_YUV)


def _check_rgb(rgb: np.ndarray) -> tuple[int, int]:
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise UsageError(f"NV12 conversion takes an RGB image of shape (H, W, 3), got {tuple(rgb.shape)}")
    h, w = int(rgb.shape[0]), int(rgb.shape[1])
    if h == 0 or w == 0 or h % 2 or w % 2:
        raise UsageError(f"NV12 needs an even height and width (chroma is shared by 2x2 pixels), got {h}x{w}; "
                         "crop or resize the image to even sizes first")
    return h, w


def rgb_to_nv12(rgb: np.ndarray) -> np.ndarray:
    """An RGB image (H, W, 3), uint8 or float in [0, 255], as NV12 bytes: a uint8 array of
    ``H * W * 3 // 2`` values (Y plane, then interleaved U, V at half resolution)."""
    h, w = _check_rgb(rgb)
    x = np.asarray(rgb, dtype=np.float64)
    yuv = x @ _RGB_TO_YUV.T
    y = np.clip(np.rint(yuv[..., 0]), 0, 255).astype(np.uint8)
    # The chroma of each 2x2 block is the mean of its four pixels.
    chroma = yuv[..., 1:].reshape(h // 2, 2, w // 2, 2, 2).mean(axis=(1, 3)) + 128.0
    uv = np.clip(np.rint(chroma), 0, 255).astype(np.uint8)
    return np.concatenate([y.reshape(-1), uv.reshape(-1)])


def nv12_to_rgb(nv12: np.ndarray, height: int, width: int) -> np.ndarray:
    """NV12 bytes of an image of ``height`` x ``width`` back to RGB uint8 (H, W, 3)."""
    _check_rgb(np.empty((height, width, 3), np.uint8))
    data = np.asarray(nv12, dtype=np.uint8).reshape(-1)
    expected = height * width * 3 // 2
    if data.size != expected:
        raise UsageError(f"NV12 data of a {height}x{width} image has {expected} bytes, got {data.size}")
    y = data[:height * width].reshape(height, width).astype(np.float64)
    uv = data[height * width:].reshape(height // 2, width // 2, 2).astype(np.float64) - 128.0
    uv = uv.repeat(2, axis=0).repeat(2, axis=1)
    yuv = np.concatenate([y[..., None], uv], axis=2)
    return np.clip(np.rint(yuv @ _YUV_TO_RGB.T), 0, 255).astype(np.uint8)


def nv12_round_trip(rgb: np.ndarray) -> np.ndarray:
    """What the BPU sees of an RGB image fed as NV12: RGB -> NV12 -> RGB, uint8 (H, W, 3)."""
    h, w = _check_rgb(rgb)
    return nv12_to_rgb(rgb_to_nv12(rgb), h, w)


def round_trip_batch(batch: np.ndarray, mean: tuple[float, ...], std: tuple[float, ...], layout: str) -> np.ndarray:
    """A preprocessed float batch ((x - mean) / std, NCHW or NHWC) put through the NV12 round
    trip: back to pixels (rounded to uint8, as a camera frame is), RGB -> NV12 -> RGB, and
    normalised again. Returns float32 in the batch's layout."""
    x = np.asarray(batch, dtype=np.float32)
    if x.ndim != 4:
        raise UsageError(f"expected a batch (N, C, H, W) or (N, H, W, C), got shape {tuple(x.shape)}")
    nhwc = x.transpose(0, 2, 3, 1) if layout == "NCHW" else x
    m = np.asarray(mean, np.float32)
    s = np.asarray(std, np.float32)
    pixels = np.clip(np.rint(nhwc * s + m), 0, 255).astype(np.uint8)
    seen = np.stack([nv12_round_trip(p) for p in pixels]).astype(np.float32)
    out = (seen - m) / s
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2) if layout == "NCHW" else out, dtype=np.float32)
