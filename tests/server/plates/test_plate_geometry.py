"""Placement maths on a plate: the plate covers the output, the product stands on the floor line, an explicit
``placement`` is honoured exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from paqshot_server.imaging.options import ProductPlacement
from paqshot_server.imaging.plates.geometry import EDGE_SHARE, FLOOR_IN_FRAME, fit_plate, plate_pixels, stand_product
from PIL import Image

FULL = (0.0, 1.0)


def test_an_explicit_placement_is_exact() -> None:
    fit = fit_plate((1000, 1000), (1000, 1000), 0.7, FULL)
    stand = stand_product(
        (50, 20, 250, 420), fit, (1000, 1000), fill=0.5, centre_x=0.5, placement=ProductPlacement(0.5, 0.8, 0.4)
    )
    # scale = min(0.4 * 1000 / 200, 0.4 * 1000 / 400) = 1.0: a 200 x 400 box, centred at x 500, base at row 800
    assert stand.placement.dest_box == (400, 400, 600, 800)
    assert stand.placement.scale == pytest.approx(1.0)
    assert stand.floor_y == 800  # the contact line defaults to the base
    assert stand.describe() == {"x": 0.5, "y": 0.8, "scale": 0.4, "floor_y": 0.8}


def test_floor_y_alone_sets_the_base_and_a_separate_floor_lifts_the_product() -> None:
    fit = fit_plate((800, 600), (800, 600), 0.7, FULL)
    only_floor = stand_product(
        (0, 0, 100, 100), fit, (800, 600), fill=0.5, centre_x=0.5, placement=ProductPlacement(floor_y=0.9)
    )
    assert only_floor.placement.dest_box[3] == 540 and only_floor.floor_y == 540
    floating = stand_product(
        (0, 0, 100, 100), fit, (800, 600), fill=0.5, centre_x=0.5, placement=ProductPlacement(y=0.8, floor_y=0.9)
    )
    assert floating.placement.dest_box[3] == 480 and floating.floor_y == 540


def test_the_layout_rules_stand_the_product_on_the_plates_floor_line() -> None:
    fit = fit_plate((1536, 1024), (1024, 1024), 0.75, FULL)  # 3:2 plate, 1:1 output: full height kept
    assert fit.floor_y == pytest.approx(768)
    stand = stand_product((0, 0, 300, 600), fit, (1024, 1024), fill=0.5, centre_x=0.4)
    x0, y0, x1, y1 = stand.placement.dest_box
    assert y1 == 768 and stand.floor_y == 768
    assert y1 - y0 == 512  # fill 0.5 of the limiting side (the height here)
    assert (x0 + x1) / 2 == pytest.approx(0.4 * 1024, abs=1)


def test_a_high_floor_shrinks_the_product_rather_than_lifting_it_off() -> None:
    fit = fit_plate((1000, 1000), (1000, 1000), 0.3, FULL)
    stand = stand_product((0, 0, 100, 400), fit, (1000, 1000), fill=0.6, centre_x=0.5)
    _x0, y0, _x1, y1 = stand.placement.dest_box
    assert y1 == 300
    assert y0 >= EDGE_SHARE * 1000 - 1  # room above it


def test_the_product_stays_inside_the_placement_area() -> None:
    fit = fit_plate((1000, 1000), (1000, 1000), 0.8, (0.6, 0.95))
    stand = stand_product((0, 0, 100, 100), fit, (1000, 1000), fill=0.2, centre_x=0.5)
    x0, _y0, x1, _y1 = stand.placement.dest_box
    assert x0 >= 600 and x1 <= 950


def test_a_wide_plate_on_a_tall_output_keeps_the_floor_in_frame() -> None:
    fit = fit_plate((1600, 900), (576, 1024), 0.97, FULL)
    left, top, right, bottom = fit.crop
    assert bottom <= 900 + 1e-6 and top >= -1e-6 and right <= 1600 + 1e-6 and left >= -1e-6
    assert (right - left) / (bottom - top) == pytest.approx(576 / 1024, rel=1e-6)
    assert fit.floor_y / 1024 <= FLOOR_IN_FRAME[1] + 1e-6 or bottom == pytest.approx(900)
    image = Image.new("RGB", (1600, 900), (90, 120, 150))
    assert plate_pixels(image, fit, (576, 1024)).shape == (1024, 576, 3)


@given(
    bw=st.integers(1, 2000),
    bh=st.integers(1, 2000),
    width=st.integers(64, 2048),
    height=st.integers(64, 2048),
    floor=st.floats(0.2, 0.98),
    fill=st.floats(0.05, 0.9),
    centre=st.floats(0.0, 1.0),
)
def test_any_product_stands_exactly_on_the_floor_inside_the_frame(bw, bh, width, height, floor, fill, centre) -> None:
    fit = fit_plate((width, height), (width, height), floor, FULL)
    stand = stand_product((0, 0, bw, bh), fit, (width, height), fill=fill, centre_x=centre)
    x0, y0, x1, y1 = stand.placement.dest_box
    assert y1 == round(fit.floor_y) == stand.floor_y
    edge = EDGE_SHARE * min(width, height)
    if x1 - x0 > 1 and y1 - y0 > 1:  # a product shrunk to a pixel has nowhere to go
        assert y0 >= min(edge, fit.floor_y) - 1.5
        assert x0 >= edge - 1.5 and x1 <= width - edge + 1.5
