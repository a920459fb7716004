"""The fidelity promise on a plate: exact product pixels with ``harmonize: false``; with harmonising, one global
diagonal transform in linear light, bounded and recorded, that the recorded gains undo."""

from __future__ import annotations

import io

import numpy as np
import pytest
from paqshot_server.imaging.colour import to_linear, to_srgb8
from paqshot_server.imaging.compose import layer_from_cutout
from paqshot_server.imaging.cutout import cutout
from paqshot_server.imaging.layout import Placement
from paqshot_server.imaging.options import RenderOptions
from paqshot_server.imaging.plates import harmonize
from paqshot_server.imaging.plates.plate import Light, LoadedPlate, PlateInfo
from paqshot_server.imaging.plates.render import render_on_plate
from PIL import Image
from plate_support import photo_on, plate_image

INFO = PlateInfo(None, floor_y=0.78, light=Light(-45.0, 0.4, "given"))


def _render(photo: Image.Image, plate: str = "office_desk", **fields: object):  # type: ignore[no-untyped-def]
    options = RenderOptions(style="studio_packshot", long_side=512, output_format="png", **fields)  # type: ignore[arg-type]
    result = render_on_plate(photo, options, [LoadedPlate(INFO, plate_image(plate))])
    pixels = np.asarray(Image.open(io.BytesIO(result.images[0].data)).convert("RGB"))
    box = tuple(result.meta["source_box"])  # type: ignore[arg-type]
    placement = Placement((512, 512), box, float(result.meta["scale"]), tuple(result.meta["product_box"]))  # type: ignore[arg-type]
    layer = layer_from_cutout(cutout(photo), placement)
    solid = layer.alpha >= 1.0
    h, w = layer.alpha.shape
    shown = pixels[layer.y : layer.y + h, layer.x : layer.x + w]
    return result, shown[solid], layer.rgb[solid]


def test_harmonize_false_keeps_every_product_pixel_exact(bottle_rgba) -> None:
    result, shown, original = _render(photo_on((250, 236, 205)), "cafe_table", harmonize=False)
    assert np.array_equal(shown, original)
    assert result.meta["backdrop"]["harmonize"]["applied"] is False  # type: ignore[index]


def test_harmonising_is_one_recorded_global_transform_within_its_bounds() -> None:
    warm = photo_on((250, 232, 196))  # shot under warm light: its white background is yellowish
    result, shown, original = _render(warm, "office_desk")  # a cool, daylit plate
    facts = result.meta["backdrop"]["harmonize"]  # type: ignore[index]
    assert facts["applied"] is True and facts["reference"] == "photo background"
    gains = np.asarray(facts["gains"], np.float32)
    # Every product pixel is the photo's pixel times the same three gains in linear light, nothing else.
    assert np.array_equal(shown, to_srgb8(to_linear(original) * gains))
    wb = np.asarray(facts["white_balance"])
    assert np.all(np.abs(wb - 1) <= harmonize.WB_LIMIT + 1e-9)
    assert abs(facts["exposure_ev"]) <= harmonize.EV_LIMIT + 1e-9
    assert wb[2] > 1 > wb[0]  # the warm cast is pulled toward the cool plate: blue up, red down
    assert not np.array_equal(shown, original)


def test_the_recorded_gains_undo_the_transform_to_within_rounding() -> None:
    values = np.arange(256, dtype=np.uint8)
    for gain in (
        (1 - harmonize.WB_LIMIT) * 2**-harmonize.EV_LIMIT,
        (1 + harmonize.WB_LIMIT) * 2**harmonize.EV_LIMIT,
        1.0 + 0.5 * harmonize.WB_LIMIT,
    ):
        out = to_srgb8(to_linear(values) * np.float32(gain))
        back = to_srgb8(to_linear(out) / np.float32(gain)).astype(int)
        unclipped = out < 255
        assert np.abs(back[unclipped] - values[unclipped].astype(int)).max() <= 1, gain


def test_a_photo_without_a_background_is_not_harmonised(bottle_rgba) -> None:
    canvas = np.asarray(plate_image("kitchen_marble"))
    rgba = np.asarray(bottle_rgba)
    full = np.full_like(rgba[..., 3], 255)  # a cut-out filling its frame: nothing says what light it was shot in
    assert harmonize.measure(rgba[..., :3], full, canvas, (0, 0, 10, 10)) == harmonize.IDENTITY


@pytest.mark.parametrize("plate", ["office_desk", "kitchen_marble"])
def test_gains_stay_in_bounds_on_every_plate(plate: str) -> None:
    canvas = np.asarray(plate_image(plate))
    photo = np.asarray(photo_on((110, 150, 235)))  # a strongly blue backdrop: the worst case for grey-world
    alpha = np.where(np.all(photo == (110, 150, 235), axis=2), 0, 255).astype(np.uint8)
    found = harmonize.measure(photo, alpha, canvas, (300, 200, 400, 400))
    assert found.applied
    assert all(abs(g - 1) <= harmonize.WB_LIMIT + 1e-9 for g in found.white_balance)
    assert abs(found.exposure_ev) <= harmonize.EV_LIMIT + 1e-9
