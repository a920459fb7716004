"""Interleaved images (..., C) handled plane by plane: copies between channel counts (RGB into RGBA, RGB out of
RGBA) and each pixel's darkest or lightest channel.

numpy copies a channel view such as ``rgba[..., :3]`` (3 of every 4 values) one element at a time through its
general strided loop; one channel plane at a time it runs its fast 2-D loops: a megapixel RGB copy takes
~0.8 ms instead of ~4 ms. A reduction over the last axis (``rgb.min(axis=2)``) loops per pixel over its three
values: 15 ms for a 640 x 480 RGB image against 0.3 ms for the planes' element-wise minimum (one core; session
13, docs/progress/issue-10-quality.md, "Cut-out speed, session 13"). The values are the same.
"""

from __future__ import annotations

import numpy as np


def copy_channels(dst: np.ndarray, src: np.ndarray) -> None:
    """``dst[...] = src`` for arrays (..., C) of the same shape (``dst`` may be a channel view), plane by plane.

    Raises:
        ValueError: the shapes differ.
    """
    if dst.shape != src.shape:
        raise ValueError(f"cannot copy channels of {src.shape} into {dst.shape}")
    for k in range(src.shape[-1]):
        dst[..., k] = src[..., k]


def rgb_of(pixels: np.ndarray) -> np.ndarray:
    """A new C-contiguous (..., 3) array of the first three channels of ``pixels`` (..., C >= 3), same dtype."""
    out = np.empty((*pixels.shape[:-1], 3), pixels.dtype)
    copy_channels(out, pixels[..., :3])
    return out


def as_pixels(pixels: np.ndarray) -> np.ndarray:
    """A view (...) of ``pixels`` (..., C) whose items are whole pixels (numpy void, C values each): a masked copy
    (``np.copyto`` with a (..., ) mask) or a ``put`` of pixels then moves one item a pixel, not C strided values.

    Raises:
        ValueError: the channel axis is not contiguous (numpy cannot view it so).
    """
    return pixels.view(np.dtype((np.void, pixels.shape[-1] * pixels.itemsize)))[..., 0]


def darkest(pixels: np.ndarray) -> np.ndarray:
    """Each pixel's smallest channel value: ``pixels.min(axis=-1)`` for an array (..., C >= 1), same dtype and
    values (a new array), computed plane by plane."""
    return _across(np.minimum, pixels)


def lightest(pixels: np.ndarray) -> np.ndarray:
    """Each pixel's largest channel value: ``pixels.max(axis=-1)`` for an array (..., C >= 1), same dtype and
    values (a new array), computed plane by plane."""
    return _across(np.maximum, pixels)


def _across(pick: np.ufunc, pixels: np.ndarray) -> np.ndarray:
    out = pixels[..., 0].copy()
    for k in range(1, pixels.shape[-1]):
        pick(out, pixels[..., k], out=out)
    return out
