"""Copies between interleaved images of different channel counts (RGB into RGBA, RGB out of RGBA), plane by plane.

numpy copies a channel view such as ``rgba[..., :3]`` (3 of every 4 values) one element at a time through its
general strided loop; one channel plane at a time it runs its fast 2-D loops: a megapixel RGB copy takes
~0.8 ms instead of ~4 ms. The values are the same.
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
