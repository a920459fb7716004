"""A product cut by the photo's frame, told from one that comes close or touches it at a glancing angle."""

from __future__ import annotations

import numpy as np
import pytest
from paqshot_server.imaging.framecut import frame_cut


def disc(size: tuple[int, int], centre: tuple[float, float], radius: float) -> np.ndarray:
    """float32 (h, w) matte of a disc (1 inside, 0 outside)."""
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w]
    return ((yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 <= radius**2).astype(np.float32)


def test_a_wheel_cut_in_half_by_the_bottom_edge_is_a_cut() -> None:
    # The wheel's chord on the frame is its diameter: the whole of the product's width.
    assert frame_cut(disc((300, 400), (300, 200), 80)) == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize("gap", [1, 3, 10])
def test_a_product_that_comes_close_is_no_cut(gap: int) -> None:
    assert frame_cut(disc((300, 400), (150, 80 + gap), 80)) == 0.0


def test_a_round_product_touching_the_frame_at_a_glancing_angle_is_no_cut() -> None:
    # A big disc overlapping the left side by 2 px: a 56 px chord (a fifth of its height), whose ends leave the
    # frame almost along it (the chord widens inward).
    matte = disc((400, 500), (200, 140 - 2), 140)
    assert matte[:, 0].sum() > 40
    assert frame_cut(matte) == 0.0


def test_a_box_cut_by_the_right_side_is_a_cut_on_that_side() -> None:
    matte = np.zeros((300, 400), np.float32)
    matte[100:220, 250:] = 1.0  # 120 px tall, its right end past the frame
    assert frame_cut(matte) == pytest.approx(1.0)


def test_a_leg_reaching_the_frame_counts_as_its_share_of_the_product() -> None:
    matte = np.zeros((300, 400), np.float32)
    matte[50:200, 100:300] = 1.0  # a seat 200 px wide ...
    matte[200:, 120:140] = 1.0  # ... on a 20 px leg cut by the bottom edge
    assert frame_cut(matte) == pytest.approx(20 / 200)


def test_nothing_and_a_sliver_are_no_cut() -> None:
    assert frame_cut(np.zeros((50, 50), np.float32)) == 0.0
    matte = np.zeros((100, 100), np.float32)
    matte[0, 20:60] = 1.0  # a one-pixel line along the top: nothing of it reaches inward
    assert frame_cut(matte) == 0.0


def test_a_cut_split_by_a_seam_of_backdrop_is_one_cut() -> None:
    # breaker12 B12-4: the skate cut at 80 % of its height met the frame in runs of 42 and 376 px apart by 2 px;
    # each run's inner end ran on into the other, so neither left the frame steeply (frame_cut 0.0).
    matte = np.zeros((300, 400), np.float32)
    matte[100:, 100:300] = 1.0
    matte[-1, 140:142] = 0.0  # a 2 px seam in the last row
    assert frame_cut(matte) == pytest.approx(1.0)


def test_a_toe_cut_through_its_slanted_side_is_a_cut() -> None:
    # breaker12 B12-4: the skate with its left 20 % cut off: the cut leaves the frame square at the sole and at a
    # slant along the toe's round top. One steep end and one slanted end are a cut.
    matte = np.zeros((400, 500), np.float32)
    for x in range(60):
        matte[100 : 200 + round(2.5 * x), x] = 1.0  # the toe: the frame's run is 100 px, its underside slants
    matte[100:350, 60:300] = 1.0
    assert frame_cut(matte) == pytest.approx(100 / 250)


def test_several_thin_rails_cut_by_the_frame_count_together() -> None:
    # breaker12 B12-4: a chair's back cut by the top edge ends in three thin rails, each under a tenth of its width.
    matte = np.zeros((300, 400), np.float32)
    matte[120:280, 100:300] = 1.0
    for x in (110, 190, 270):
        matte[:120, x : x + 10] = 1.0
    assert frame_cut(matte) == pytest.approx(30 / 200)


@pytest.mark.parametrize("gap", [0, 3])
def test_a_loop_cut_by_the_frame_is_a_cut_and_one_short_of_it_is_not(gap: int) -> None:
    # breaker13 B13-18: a chair's armrest loop cut by the right side is solid at the frame (its bend) and opens
    # inward into two arms, so nothing of it was under the run's middle a few pixels in (frame_cut 0.0).
    matte = np.zeros((300, 400), np.float32)
    matte[60:260, 60:300] = 1.0  # the seat ...
    matte[100:150, 300 : 400 - gap] = 1.0  # ... and its armrest loop, out to the frame
    matte[112:138, 300 : 398 - gap] = 0.0  # the loop's opening, from 2 px inside the bend
    assert frame_cut(matte) == (pytest.approx(50 / 200) if gap == 0 else 0.0)
