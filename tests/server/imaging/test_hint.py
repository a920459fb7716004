"""Mask hints (review and repair): the matte changes where the hint says and nowhere else; product pixels exact."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from imaging_support import FakeModel, paper_scene, product_photo
from paqshot_server.errors import InvalidRequest
from paqshot_server.imaging.cutout import cutout
from paqshot_server.imaging.hint import (
    BACKGROUND,
    PRODUCT,
    UNKNOWN,
    HintedSegmenter,
    decode_stored_hint,
    encode_hint,
    read_hint,
)
from paqshot_server.imaging.options import RenderOptions
from paqshot_server.imaging.packshot import render_packshot
from paqshot_server.imaging.segment import default_segmenter
from paqshot_server.inference.segmenters import OnnxSegmenter
from PIL import Image

SIZE = (320, 320)
TINY_SEG = Path(__file__).resolve().parents[2] / "fixtures" / "models" / "tiny-seg"


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def strokes() -> np.ndarray:
    """A hint with a 'keep' stroke on background (a shadow the user wants kept) and a 'remove' stroke on product."""
    hint = np.full((SIZE[1], SIZE[0]), UNKNOWN, np.uint8)
    hint[20:40, 20:60] = PRODUCT  # plain background, top left
    hint[100:140, 150:200] = BACKGROUND  # inside the product
    return hint


def test_levels_are_read_with_a_margin_and_transparent_pixels_are_unknown() -> None:
    grey = np.array([[0, 63, 64, 128, 191, 192, 255]], np.uint8)
    assert read_hint(png(Image.fromarray(grey, "L")), (7, 1)).tolist() == [[0, 0, 128, 128, 128, 255, 255]]
    rgba = np.zeros((1, 3, 4), np.uint8)
    rgba[0, 0] = (255, 255, 255, 255)  # an opaque white stroke: product
    rgba[0, 1] = (0, 0, 0, 255)  # an opaque black stroke: background
    rgba[0, 2] = (255, 255, 255, 0)  # not painted: unknown whatever its colour
    assert read_hint(png(Image.fromarray(rgba, "RGBA")), (3, 1)).tolist() == [[255, 0, 128]]


@pytest.mark.parametrize("mode", ["L", "RGB", "1"])
def test_a_colour_keyed_hint_reads_its_keyed_pixels_as_unknown(mode: str) -> None:
    """breaker9 F4's kind in the hint: a tRNS colour key is transparency, as an alpha channel is."""
    grey = np.array([[255, 0, 255, 0]], np.uint8)
    image = Image.fromarray(grey, "L").convert(mode)
    key = {"L": 0, "RGB": (0, 0, 0), "1": 0}[mode]
    out = io.BytesIO()
    image.save(out, "PNG", transparency=key)
    assert read_hint(out.getvalue(), (4, 1)).tolist() == [[255, 128, 255, 128]]


def test_a_hint_drawn_on_a_scaled_preview_is_scaled_to_the_photo() -> None:
    half = strokes()[::2, ::2]
    scaled = read_hint(png(Image.fromarray(half, "L")), SIZE)
    assert scaled.shape == (320, 320) and set(np.unique(scaled)) <= {0, 128, 255}
    assert (scaled[100:140, 150:200] == BACKGROUND).all() and (scaled[20:40, 20:60] == PRODUCT).all()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (png(Image.new("L", (300, 320), 128)), "mask_hint is 300x320 px; it must be 320x320 px"),
        (png(Image.new("L", (640, 640), 128)), "it must be 320x320 px"),
        # the photo's shape within a pixel, but no preview anyone drew on (breaker6, F1: accepted before)
        (png(Image.new("L", (2, 2), 255)), r"mask_hint is 2x2 px; .* at least 128 px on its long side"),
        (png(Image.new("L", (127, 127), 255)), r"mask_hint is 127x127 px; .* at least 128 px"),
        # every pixel background: nothing of the photo would be left (before: a 202, then "no product found")
        (png(Image.new("L", SIZE, 0)), "marks the whole photo as background"),
        (png(Image.new("L", (128, 128), 0)), "marks the whole photo as background"),
        (b"\x89PNG\r\n\x1a\nnot really", "mask_hint must be a PNG image"),
        (io.BytesIO().getvalue(), "mask_hint must be a PNG image"),
    ],
)
def test_a_hint_of_another_size_or_format_is_refused_in_words(data: bytes, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        read_hint(data, SIZE)


def test_the_smallest_preview_accepted_is_128_px_or_the_photo_itself() -> None:
    assert read_hint(png(Image.new("L", (128, 128), 255)), SIZE).shape == (320, 320)
    assert read_hint(png(Image.new("L", (3, 2), 255)), (3, 2)).shape == (2, 3)  # a photo smaller than 256 px


def test_stored_form_round_trips() -> None:
    hint = strokes()
    assert np.array_equal(decode_stored_hint(encode_hint(hint)), hint)


def test_the_matte_changes_where_the_hint_says_and_nowhere_else() -> None:
    photo = product_photo(size=SIZE)
    segmenter = default_segmenter()
    plain = cutout(photo, segmenter)
    unknown_everywhere = cutout(photo, HintedSegmenter(segmenter, np.full((320, 320), UNKNOWN, np.uint8)))
    hint = strokes()
    hinted = cutout(photo, HintedSegmenter(segmenter, hint))

    before, after = plain.alpha8, hinted.alpha8
    assert (before[20:40, 20:60] == 0).all() and (before[100:140, 150:200] == 255).all()  # the hint is needed
    assert (after[hint == PRODUCT] == 255).all() and (after[hint == BACKGROUND] == 0).all()
    elsewhere = hint == UNKNOWN
    assert np.array_equal(after[elsewhere], unknown_everywhere.alpha8[elsewhere])
    assert np.abs(after[elsewhere].astype(int) - before[elsewhere].astype(int)).max() <= 1  # 8-bit rounding only

    rgb = np.asarray(photo)
    opaque = after == 255
    assert np.array_equal(np.asarray(hinted.rgba_image())[opaque][:, :3], rgb[opaque])


def test_a_hint_of_another_size_than_the_photo_is_an_error_not_a_guess() -> None:
    with pytest.raises(ValueError, match="does not match the photo"):
        cutout(product_photo(size=SIZE), HintedSegmenter(default_segmenter(), np.zeros((10, 10), np.uint8)))


def model_segmenter() -> OnnxSegmenter:
    """The ONNX segmenter (the fixture model's folder) answering with the stand-in model of the refinement
    tests: U²-Net's habits, computed from the pixels it is given, so crops behave as with the real model."""
    seg = OnnxSegmenter(TINY_SEG, device="cpu")
    seg.predict = FakeModel()  # type: ignore[method-assign]
    return seg


def test_the_model_segmenter_takes_the_hint_into_its_crop() -> None:
    """A hint that removes one of two products: the closer second look is taken at the product that is left
    (the hint steers the refinement), not at both with the other one erased afterwards."""
    rgb, _truth = paper_scene(size=(640, 480), products=((60, 150, 200, 330), (420, 150, 560, 330)))
    hint = np.full(rgb.shape[:2], UNKNOWN, np.uint8)
    hint[140:340, 400:580] = BACKGROUND  # "the right one is not the product"
    seg = model_segmenter()
    cut = cutout(Image.fromarray(rgb), HintedSegmenter(seg, hint))
    first, second = seg.predict.calls  # type: ignore[attr-defined]
    assert first == (480, 640)
    assert second[1] < 320, f"the second pass looked at {second}: both products"
    assert cut.bbox[2] <= 210 and (cut.alpha8[hint == BACKGROUND] == 0).all()
    assert float(cut.alpha[170:310, 80:180].min()) > 0.97  # the product left is whole


@pytest.mark.parametrize("size", [(800, 600), (2000, 1500)])
def test_the_layout_box_follows_the_hinted_matte_at_every_size(size: tuple[int, int]) -> None:
    """A hint removing the right half of the product: the product's box (``source_box``: the job's
    ``product_box`` and the layout) is the half that is left, whatever the photo's size."""
    w, h = size
    k = w / 800
    box = (round(250 * k), round(150 * k), round(550 * k), round(450 * k))
    rgb, _truth = paper_scene(size=size, products=(box,))
    hint = np.full((h, w), UNKNOWN, np.uint8)
    middle = (box[0] + box[2]) // 2
    hint[:, middle:] = BACKGROUND
    for segmenter in (model_segmenter(), default_segmenter()):
        result = render_packshot(Image.fromarray(rgb), RenderOptions(), segmenter=HintedSegmenter(segmenter, hint))
        x0, y0, x1, y1 = result.meta["source_box"]
        assert abs(x0 - box[0]) <= 3 * k and abs(y0 - box[1]) <= 3 * k and abs(y1 - box[3]) <= 3 * k, segmenter.name
        assert x1 <= middle, (segmenter.name, result.meta["source_box"])
