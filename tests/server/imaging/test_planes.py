"""Plane-by-plane channel copies give exactly what numpy's channel-view copies give (they are only faster)."""

from __future__ import annotations

import numpy as np
import pytest
from paqshot_server.imaging.planes import copy_channels, rgb_of


@pytest.mark.parametrize("shape", [(1, 1, 4), (7, 5, 4), (300, 211, 4), (4, 9, 3), (6, 4)])
def test_rgb_of_is_the_first_three_channels_contiguous(shape: tuple[int, ...]) -> None:
    pixels = np.random.default_rng(1).integers(0, 256, (*shape[:2], shape[2] if len(shape) == 3 else 4), np.uint8)
    view = pixels[1:, ::2]  # a strided view, as a crop of a larger image is
    out = rgb_of(view)
    assert out.flags.c_contiguous and out.dtype == np.uint8
    assert np.array_equal(out, np.ascontiguousarray(view[..., :3]))


def test_copy_channels_fills_a_channel_view_and_nothing_else() -> None:
    rng = np.random.default_rng(2)
    rgb = rng.integers(0, 256, (50, 40, 3), np.uint8)
    rgba = np.full((50, 40, 4), 7, np.uint8)
    expected = rgba.copy()
    expected[..., :3] = rgb
    copy_channels(rgba[..., :3], rgb)
    assert np.array_equal(rgba, expected)
    floats = rng.random((9, 8, 2)).astype(np.float32)
    into = np.zeros((9, 8, 2), np.float32)
    copy_channels(into, floats)
    assert np.array_equal(into, floats)


def test_copy_channels_refuses_different_shapes() -> None:
    with pytest.raises(ValueError, match="cannot copy channels"):
        copy_channels(np.zeros((4, 4, 4), np.uint8), np.zeros((4, 4, 3), np.uint8))
