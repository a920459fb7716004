"""Plane-by-plane channel copies and reductions give exactly what numpy's channel-view copies and last-axis
reductions give (they are only faster)."""

from __future__ import annotations

import numpy as np
import pytest
from paqshot_server.imaging.planes import as_pixels, copy_channels, darkest, lightest, rgb_of


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


@pytest.mark.parametrize("shape", [(1, 1, 3), (7, 5, 3), (120, 97, 4), (6, 4, 1), (5, 8, 2)])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_darkest_and_lightest_are_the_last_axis_min_and_max(shape: tuple[int, ...], dtype: type) -> None:
    rng = np.random.default_rng(3)
    pixels = (rng.integers(0, 256, shape) if dtype is np.uint8 else rng.random(shape)).astype(dtype)
    pixels[0, 0] = pixels[0, 0, 0]  # ties between channels
    view = pixels[::2, 1:]  # a strided view, as the exposure sample is
    for got, want in ((darkest(view), view.min(axis=-1)), (lightest(view), view.max(axis=-1))):
        assert got.dtype == want.dtype and got.shape == want.shape
        assert np.array_equal(got, want)
    before = view.copy()
    darkest(view)
    assert np.array_equal(view, before)  # the input is left as it was


def test_as_pixels_moves_whole_pixels_in_masked_copies_and_puts() -> None:
    """A view whose items are whole pixels: a copy masked by a plane and a put by flat pixel index write exactly the
    pixels they name, all their channels, into a crop of a larger image and nothing beside them."""
    rng = np.random.default_rng(3)
    canvas = rng.integers(0, 256, (40, 30, 3), np.uint8)
    layer = rng.integers(0, 256, (20, 10, 3), np.uint8)
    mask = rng.random((20, 10)) > 0.5
    expected = canvas.copy()
    expected[5:25, 7:17][mask] = layer[mask]
    view = as_pixels(canvas[5:25, 7:17])
    assert view.shape == (20, 10) and np.shares_memory(view, canvas)
    np.copyto(view, as_pixels(layer), where=mask)
    assert np.array_equal(canvas, expected)
    at = np.array([0, 31, 599, 1199])
    values = rng.integers(0, 256, (4, 3), np.uint8)
    as_pixels(canvas.reshape(-1, 3)).put(at, as_pixels(values))
    expected.reshape(-1, 3)[at] = values
    assert np.array_equal(canvas, expected)
    rgba = rng.integers(0, 256, (6, 5, 4), np.uint8)
    assert np.array_equal(as_pixels(rgba).view(np.uint8).reshape(6, 5, 4), rgba)


def test_as_pixels_refuses_a_strided_channel_axis() -> None:
    with pytest.raises(ValueError):
        as_pixels(np.zeros((4, 4, 6), np.uint8)[..., ::2])
