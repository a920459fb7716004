"""Layout maths: exact canvas ratios, fill, padding, anchors (property-tested)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paqshot_server.errors import InvalidRequest
from paqshot_server.imaging.layout import DEFAULT_FILL, exact_canvas_size, place
from paqshot_server.imaging.options import ASPECT_RATIOS, parse_aspect_ratio


@pytest.mark.parametrize("ratio", ASPECT_RATIOS)
@pytest.mark.parametrize("long_side", [256, 1000, 1024, 1600, 2000, 2048, 2500, 3000])
def test_long_side_is_exact_and_short_side_rounded(ratio: str, long_side: int) -> None:
    """The size rule: the requested long side exactly, the short side within half a pixel of the ratio."""
    w, h = exact_canvas_size(ratio, long_side)
    rw, rh = parse_aspect_ratio(ratio)
    assert max(w, h) == long_side
    assert (w >= h) == (rw >= rh)
    exact_short = long_side * min(rw, rh) / max(rw, rh)
    assert abs(min(w, h) - exact_short) <= 0.5


def test_canvas_examples() -> None:
    assert exact_canvas_size("1:1", 1024) == (1024, 1024)
    assert exact_canvas_size("16:9", 1024) == (1024, 576)
    assert exact_canvas_size("9:16", 1024) == (576, 1024)
    assert exact_canvas_size("4:3", 1024) == (1024, 768)
    assert exact_canvas_size("3:2", 1024) == (1024, 683)  # was 1023x682: the long side shrank below the request
    assert exact_canvas_size("2:3", 1024) == (683, 1024)
    assert exact_canvas_size("2:3", 2048) == (1365, 2048)


boxes = st.tuples(st.integers(0, 3000), st.integers(0, 3000), st.integers(1, 3000), st.integers(1, 3000)).map(
    lambda t: (t[0], t[1], t[0] + t[2], t[1] + t[3])
)
canvases = st.tuples(st.integers(64, 2048), st.integers(64, 2048))


@settings(max_examples=300, deadline=None)
@given(box=boxes, canvas=canvases)
def test_default_fill_centres_and_fits(box: tuple[int, int, int, int], canvas: tuple[int, int]) -> None:
    p = place(box, canvas)
    w, h = canvas
    left, top, right, bottom = p.dest_box
    pw, ph = right - left, bottom - top
    # fits inside the fill area (rounding: one pixel)
    assert pw <= DEFAULT_FILL * w + 1 and ph <= DEFAULT_FILL * h + 1
    # the limiting side is filled
    assert max(pw / (DEFAULT_FILL * w), ph / (DEFAULT_FILL * h)) >= 1 - 2 / min(DEFAULT_FILL * w, DEFAULT_FILL * h)
    # centred to within a pixel
    assert abs((left + right) - w) <= 2 and abs((top + bottom) - h) <= 2
    # aspect ratio kept (one pixel of rounding on each side)
    bw, bh = box[2] - box[0], box[3] - box[1]
    assert abs(pw - bw * p.scale) <= 0.5 + 1e-9 or pw == 1
    assert abs(ph - bh * p.scale) <= 0.5 + 1e-9 or ph == 1


@settings(max_examples=300, deadline=None)
@given(box=boxes, canvas=canvases, ratio=st.floats(0.0, 0.45))
def test_padding_ratio_is_a_margin_on_every_side(
    box: tuple[int, int, int, int], canvas: tuple[int, int], ratio: float
) -> None:
    w, h = canvas
    margin = ratio * min(w, h)
    if 2 * margin >= min(w, h) - 1:
        with pytest.raises(InvalidRequest):
            place(box, canvas, padding=ratio)
        return
    p = place(box, canvas, padding=ratio)
    left, top, right, bottom = p.dest_box
    assert left >= margin - 1 and top >= margin - 1
    assert right <= w - margin + 1 and bottom <= h - margin + 1
    # touches the margins on the limiting axis
    assert min(left - margin, top - margin) <= 1.0 or min(w - margin - right, h - margin - bottom) <= 1.0


@given(box=boxes, px=st.integers(1, 30))
def test_padding_in_pixels(box: tuple[int, int, int, int], px: int) -> None:
    p = place(box, (512, 256), padding=float(px))
    left, top, right, bottom = p.dest_box
    assert left >= px - 1 and top >= px - 1 and right <= 512 - px + 1 and bottom <= 256 - px + 1


@given(
    box=boxes,
    anchor=st.tuples(st.floats(0, 1), st.floats(0, 1)),
    offset=st.tuples(st.integers(-100, 100), st.integers(-100, 100)),
)
def test_anchor_and_offset_move_without_rescaling(
    box: tuple[int, int, int, int], anchor: tuple[float, float], offset: tuple[int, int]
) -> None:
    base = place(box, (800, 600))
    moved = place(box, (800, 600), anchor=anchor, offset=offset)
    assert moved.scale == base.scale
    size = lambda b: (b[2] - b[0], b[3] - b[1])  # noqa: E731
    assert size(moved.dest_box) == size(base.dest_box)


def test_anchor_corners_and_explicit_scale() -> None:
    p = place((0, 0, 100, 50), (1000, 1000), padding=10.0, anchor=(0.0, 1.0))
    assert p.dest_box[0] == 10 and p.dest_box[3] == 990
    q = place((0, 0, 100, 50), (1000, 1000), scale=2.0)
    assert (q.dest_box[2] - q.dest_box[0], q.dest_box[3] - q.dest_box[1]) == (200, 100)


def test_map_box_keeps_the_mapping() -> None:
    p = place((100, 100, 300, 200), (1000, 1000))
    assert p.map_box((100, 100, 300, 200)) == p.dest_box
    inner = p.map_box((150, 120, 250, 180))
    assert p.dest_box[0] < inner[0] < inner[2] < p.dest_box[2]


@pytest.mark.parametrize("bad", [-0.1, 0.5, 0.7, 600.0])
def test_bad_padding_is_invalid_request(bad: float) -> None:
    with pytest.raises(InvalidRequest):
        place((0, 0, 10, 10), (1024, 1024), padding=bad)


def test_default_long_side_is_2048_in_the_engine_and_the_settings() -> None:
    from paqshot_server.imaging.options import RenderOptions
    from paqshot_server.settings import Settings

    assert RenderOptions().long_side == Settings().output_long_side == 2048
