"""The shadows' blur over the silhouette's box only equals scipy's over the whole plane, in either edge mode."""

from __future__ import annotations

import numpy as np
import pytest
from paqshot_server.imaging.shadow import blur_support
from scipy import ndimage


@pytest.mark.parametrize("sigma", [0.6, 1.7, 7.3, 30.0])
def test_blur_over_the_support_equals_scipys_whole_plane_blur(sigma: float) -> None:
    rng = np.random.default_rng(int(sigma * 10))
    boxes = [(226, 241, 90, 166), (0, 12, 5, 40), (240, 256, 150, 200), (100, 101, 0, 200), (0, 256, 0, 200)]
    for y0, y1, x0, x1 in boxes:  # near the bottom (a floor shadow), at each edge, a single row, everywhere
        plane = np.zeros((256, 200), np.float32)
        plane[y0:y1, x0:x1] = rng.random((y1 - y0, x1 - x0), dtype=np.float32)
        for mode in ("constant", "reflect"):  # the synthetic shadows' mode, the natural shadow's
            expected = ndimage.gaussian_filter(plane, sigma, mode=mode)
            assert np.array_equal(blur_support(plane, sigma, mode), expected), (y0, x0, mode)


def test_an_empty_plane_stays_empty() -> None:
    assert not blur_support(np.zeros((30, 40), np.float32), 3.0).any()
