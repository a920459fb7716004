"""The cross erosion/dilation by shifted operations equals scipy's, bit for bit (masks, borders, thin images)."""

from __future__ import annotations

import numpy as np
import pytest
from paqshot_server.imaging.morphology import (
    all_within,
    any_within,
    depth_at_least,
    dilate4,
    dilate8,
    distance_at_most,
    erode4,
    erode8,
    filled,
    grey_dilate8,
    grey_erode8,
    squared_bound,
    squared_distances,
    within,
)
from scipy import ndimage

FOUR = ndimage.generate_binary_structure(2, 1)
EIGHT = ndimage.generate_binary_structure(2, 2)
SHAPES = [(60, 80), (1, 30), (25, 1), (2, 2), (1, 1), (7, 5)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("iterations", [1, 2, 4])
def test_erosion_equals_scipy(shape: tuple[int, int], iterations: int) -> None:
    rng = np.random.default_rng(iterations)
    for density in (0.5, 0.9, 1.0):
        mask = rng.random(shape) < density
        for border in (True, False):
            want = ndimage.binary_erosion(mask, FOUR, iterations=iterations, border_value=int(border))
            assert np.array_equal(erode4(mask, iterations, border=border), want), (density, border)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("iterations", [1, 2, 4, 8])  # 8: exposure.clipping's ring
def test_dilation_equals_scipy(shape: tuple[int, int], iterations: int) -> None:
    rng = np.random.default_rng(10 + iterations)
    for density in (0.0, 0.02, 0.3):
        mask = rng.random(shape) < density
        assert np.array_equal(dilate4(mask, iterations), ndimage.binary_dilation(mask, FOUR, iterations=iterations))
        within = rng.random(shape) < 0.7
        want = ndimage.binary_dilation(mask, FOUR, iterations=iterations, mask=within)
        assert np.array_equal(dilate4(mask, iterations, within=within), want), density


def test_the_input_is_left_alone() -> None:
    mask = np.zeros((5, 5), bool)
    mask[2, 2] = True
    before = mask.copy()
    dilate4(mask, 2)
    erode4(mask, 2)
    assert np.array_equal(mask, before)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("radius", [1, 3, 7, 40])
def test_line_dilation_and_erosion_equal_scipy(shape: tuple[int, int], radius: int) -> None:
    rng = np.random.default_rng(radius)
    for density in (0.05, 0.6, 0.97, 1.0):
        mask = rng.random(shape) < density
        for axis in (0, 1):
            line = np.zeros((2 * radius + 1, 1) if axis == 0 else (1, 2 * radius + 1), bool)
            line[...] = True
            assert np.array_equal(any_within(mask, radius, axis), ndimage.binary_dilation(mask, line)), axis
            want = ndimage.binary_erosion(mask, line, border_value=0)
            assert np.array_equal(all_within(mask, radius, axis), want), (axis, density)


@pytest.mark.parametrize("shape", SHAPES)
def test_filling_holes_equals_scipy(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(20)
    for density in (0.0, 0.3, 0.5, 0.7, 1.0):
        for _ in range(5):
            mask = rng.random(shape) < density
            assert np.array_equal(filled(mask), ndimage.binary_fill_holes(mask)), density
            # the same pattern in a part of a larger grid: away from its edges, or reaching one or two of them
            for top, left in ((3, 4), (0, 6), (5, 0), (0, 0)):
                placed = np.zeros((shape[0] + 8, shape[1] + 10), bool)
                placed[top : top + shape[0], left : left + shape[1]] = mask
                assert np.array_equal(filled(placed), ndimage.binary_fill_holes(placed)), (density, top, left)
    ring = np.zeros((9, 9), bool)
    ring[2:7, 2:7] = True
    ring[4, 4] = False  # a hole
    ring[3, 6] = False  # a notch open to the outside through a 4-neighbour
    assert filled(ring)[4, 4] and not filled(ring)[3, 6]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("iterations", [1, 3])
def test_square_erosion_dilation_and_opening_equal_scipy(shape: tuple[int, int], iterations: int) -> None:
    rng = np.random.default_rng(30 + iterations)
    for density in (0.02, 0.5, 0.9, 1.0):
        mask = rng.random(shape) < density
        assert np.array_equal(erode8(mask, iterations), ndimage.binary_erosion(mask, EIGHT, iterations=iterations))
        assert np.array_equal(dilate8(mask, iterations), ndimage.binary_dilation(mask, EIGHT, iterations=iterations))
        assert np.array_equal(dilate8(erode8(mask)), ndimage.binary_opening(mask, EIGHT)), density
        opened = dilate4(erode4(mask, iterations, border=False), iterations)
        assert np.array_equal(opened, ndimage.binary_opening(mask, iterations=iterations)), density


@pytest.mark.parametrize("shape", [*SHAPES, (200, 300)])
def test_within_a_radius_equals_scipys_distance_transform(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(40)
    for density in (0.001, 0.05, 0.6):
        # both ways within() measures: the disc up to DISC_MAX_RADIUS (200; the clean-up's ring 0.12 x 640), the
        # transform beyond
        for radius in (0.0, 0.5, 1.0, 2**0.5, 2.5, 5.000000000000001, 9.6, 19.2, 20.0, 24.0, 40.0, 76.8, 200.0, 200.5):
            mask = rng.random(shape) < density
            if not mask.any():
                mask[rng.integers(shape[0]), rng.integers(shape[1])] = True
            want = ndimage.distance_transform_edt(~mask) <= radius
            assert np.array_equal(within(mask, radius), want), (density, radius)
    assert not within(np.zeros(shape, bool), 5.0).any()


@pytest.mark.parametrize("shape", [(1, 7), (37, 53), (120, 90)])
def test_distances_compared_squared_in_integers_equal_scipys_transform(shape: tuple[int, int]) -> None:
    # The clean-up's 77 px ring, the fringe's 20 px, the selection's reach: no float64 plane, no square root.
    rng = np.random.default_rng(41)
    radii = (0.0, 0.5, 1.0, 2**0.5, 2.0, 2.5, 5.000000000000001, 9.6, 19.2, 20.0, 0.12 * 640)
    for density in (0.002, 0.05, 0.6):
        free = rng.random(shape) >= density
        free.flat[rng.integers(free.size)] = False
        distance, indices = ndimage.distance_transform_edt(free, return_indices=True)
        squared, nearest = squared_distances(free)
        assert np.array_equal(np.sqrt(squared.astype(np.float64)), distance)
        assert np.array_equal(nearest, indices)
        for radius in radii:
            assert np.array_equal(distance_at_most(free, radius), distance <= radius), (density, radius)


def test_the_squared_bound_is_the_last_integer_whose_root_is_within() -> None:
    for radius in (0.0, 0.3, 1.0, 2.0, 2**0.5, 20.0, 76.8, 1e4 + 0.5):
        bound = squared_bound(radius)
        assert np.sqrt(np.float64(bound)) <= radius < np.sqrt(np.float64(bound + 1))
    assert squared_bound(-1.0) == -1


@pytest.mark.parametrize("shape", [*SHAPES, (120, 90)])
def test_depth_at_least_a_radius_equals_scipys_distance_transform(shape: tuple[int, int]) -> None:
    # The clean-up's hole width (3 px) and radii around it, on masks from specks to solid (no False pixel: scipy's).
    rng = np.random.default_rng(42)
    radii = (0.0, 0.5, 1.0, 2**0.5, 1.5, 2.0, 2.5, 3.0, 3.2, 4.0, 5.000000000000001, 7.5)
    for density in (0.3, 0.8, 0.97, 0.999, 1.0):
        mask = rng.random(shape) < density
        transform = ndimage.distance_transform_edt(mask)
        for radius in radii:
            assert np.array_equal(depth_at_least(mask, radius), transform >= radius), (density, radius)
    blob = np.zeros((40, 50), bool)
    blob[5:12, 3:45] = True  # 7 rows: its middle row is 4 px from the rim, no pixel 5 px away
    assert depth_at_least(blob, 4.0).any() and not depth_at_least(blob, 4.5).any()


@pytest.mark.parametrize("shape", [*SHAPES, (37, 53)])
def test_grey_dilation_and_erosion_by_the_square_equal_scipys(shape: tuple[int, int]) -> None:
    # The product selection's labels (int32) and the same with its "no region" value above every label.
    rng = np.random.default_rng(50)
    for dtype in (np.int32, np.int64, np.float32):
        values = rng.integers(0, 9, shape).astype(dtype)
        assert np.array_equal(grey_dilate8(values), ndimage.grey_dilation(values, footprint=EIGHT)), dtype
        assert np.array_equal(grey_erode8(values), ndimage.grey_erosion(values, footprint=EIGHT)), dtype
        assert grey_dilate8(values).dtype == dtype
