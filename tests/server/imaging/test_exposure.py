"""Badly exposed photos: the model's copy stretched, and products clipped like their backdrop measured."""

from __future__ import annotations

import numpy as np
import pytest
from paqshot_server.imaging.exposure import Levels, clipping, levels


def photo(backdrop: int, product: int) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 RGB 200 x 300 photo, float32 matte): a flat grey 100 px product square on a flat grey backdrop."""
    rgb = np.full((200, 300, 3), backdrop, np.uint8)
    matte = np.zeros((200, 300), np.float32)
    matte[50:150, 100:200] = 1.0
    rgb[matte == 1.0] = product
    return rgb, matte


def test_a_well_exposed_photo_is_left_alone() -> None:
    rgb, _ = photo(230, 20)
    assert levels(rgb).identity
    assert levels(rgb).apply(rgb) is rgb


def test_an_under_exposed_photo_is_stretched_from_black() -> None:
    rgb, _ = photo(34, 3)  # x 0.15 of a 230 backdrop and a 20 product
    view = levels(rgb)
    assert view == Levels(0.0, 34.0) and view.kind == "under"
    stretched = view.apply(rgb)
    assert int(stretched[0, 0, 0]) == 255 and int(stretched[100, 150, 0]) == round(3 * 255 / 34)


def test_an_over_exposed_photo_is_stretched_to_white() -> None:
    rgb, _ = photo(255, 140)  # + 120 on a 200 backdrop and a 20 product
    view = levels(rgb)
    assert view == Levels(140.0, 255.0) and view.kind == "over"
    assert int(view.apply(rgb)[100, 150, 0]) == 0


def test_a_hazy_photo_is_stretched_at_both_ends() -> None:
    # breaker12 B12-2: a veil of light (0.55 x photo + 0.45 x 190) squeezes a photo into 86-215, neither dark nor
    # bright: main left it alone.
    rgb, _ = photo(230, 20)
    hazy = np.round(0.55 * rgb.astype(np.float32) + 0.45 * 190).astype(np.uint8)
    view = levels(hazy)
    assert view == Levels(float(hazy.min()), float(hazy.max())) and view.kind == "flat"
    stretched = view.apply(hazy)
    assert int(stretched.min()) == 0 and int(stretched.max()) == 255


@pytest.mark.parametrize("grey", [20, 200])
def test_a_flat_photo_is_left_alone(grey: int) -> None:
    rgb, _ = photo(grey, grey + 8)  # a few levels of one grey: nothing to spread, and a stretch would erase it
    assert levels(rgb).identity


def test_a_product_clipped_like_its_backdrop_is_measured() -> None:
    rgb, matte = photo(255, 120)
    rgb[50:80, 100:150] = 255  # 15 % of the product as white as the backdrop, no edge between them
    assert clipping(rgb, matte).white == pytest.approx(30 * 50 / 100**2, abs=0.01)
    assert clipping(rgb, matte).black == 0.0


def test_a_white_product_with_an_edge_on_a_white_backdrop_is_no_clipping() -> None:
    rgb, matte = photo(255, 120)  # breaker12 B12-10: a white product on a pure-white studio backdrop, cut out cleanly
    rgb[52:148, 102:198] = 255  # pure white inside a 2 px outline: the matte's edge follows an edge in the photo
    assert clipping(rgb, matte).white == 0.0
    rgb[50:52, 100:200] = 255  # the outline gone along the top: there the model had nothing to follow
    assert clipping(rgb, matte).white > 0.9


def test_a_highlight_on_a_backdrop_that_is_not_clipped_is_no_clipping() -> None:
    rgb, matte = photo(235, 120)
    rgb[60:80, 110:150] = 255
    assert clipping(rgb, matte) == clipping(rgb, np.zeros_like(matte))  # all 0


def test_a_black_product_part_on_a_black_backdrop_is_measured() -> None:
    rgb, matte = photo(0, 60)
    rgb[100:150, 100:200] = 2
    assert clipping(rgb, matte).black == pytest.approx(0.5, abs=0.02)
