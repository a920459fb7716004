"""The shadow on a plate comes from the product's matte and the plate's light, never from the photo."""

from __future__ import annotations

import io

import numpy as np
from paqshot_server.imaging.compose import layer_from_cutout
from paqshot_server.imaging.cutout import cutout
from paqshot_server.imaging.layout import Placement
from paqshot_server.imaging.options import ProductPlacement, RenderOptions
from paqshot_server.imaging.plates.plate import Light, LoadedPlate, PlateInfo
from paqshot_server.imaging.plates.render import render_on_plate
from paqshot_server.imaging.plates.shadow import plate_shadow
from PIL import Image, ImageDraw
from plate_support import photo_on, plate_image

CANVAS = (400, 400)


def _standing(product: Image.Image) -> tuple:
    cut = cutout(product)
    box = cut.bbox
    scale = 200 / (box[3] - box[1])
    pw, ph = round((box[2] - box[0]) * scale), 200
    placement = Placement(CANVAS, box, scale, (200 - pw // 2, 300 - ph, 200 - pw // 2 + pw, 300))
    return layer_from_cutout(cut, placement), placement


def _darkness_centre_x(shade: np.ndarray, rows: slice) -> float:
    dark = 1.0 - shade[rows]
    return float((dark.sum(axis=0) * np.arange(shade.shape[1])).sum() / dark.sum())


def test_the_cast_shadow_falls_away_from_the_light(bottle_rgba) -> None:
    layer, placement = _standing(bottle_rgba)
    below = slice(260, 320)  # the floor around the base
    from_left = plate_shadow(layer, CANVAS, placement.dest_box, 300, Light(-90.0, 0.2, "given"))
    from_right = plate_shadow(layer, CANVAS, placement.dest_box, 300, Light(90.0, 0.2, "given"))
    assert _darkness_centre_x(from_left, below) > 200 + 20
    assert _darkness_centre_x(from_right, below) < 200 - 20
    soft = plate_shadow(layer, CANVAS, placement.dest_box, 300, Light(-90.0, 0.9, "given"))
    beside = (slice(270, 300), slice(280, 380))  # where the hard light's shadow lies, right of the product
    assert (1 - soft[beside]).mean() < 0.5 * (1 - from_left[beside]).mean()
    overhead = plate_shadow(layer, CANVAS, placement.dest_box, 300, Light(None, 0.5, "given"))
    assert (1 - overhead[beside]).mean() < 0.01  # only the contact shadow, under the product


def test_the_shadow_is_a_function_of_the_matte_alone(bottle_rgba) -> None:
    """Two photos with the same matte, one with a dark shadow painted where its alpha is 0: same output bytes."""
    rgba = np.asarray(bottle_rgba).copy()
    shadowed = rgba.copy()
    transparent = shadowed[..., 3] == 0
    shadowed[transparent, :3] = 20  # the photo's old shadow (and any background) lives here
    options = RenderOptions(style="studio_packshot", long_side=384, output_format="png", harmonize=False)
    plate = [
        LoadedPlate(PlateInfo(None, floor_y=0.75, light=Light(-60.0, 0.3, "given")), plate_image("kitchen_marble"))
    ]
    clean = render_on_plate(Image.fromarray(rgba, "RGBA"), options, plate)
    dirty = render_on_plate(Image.fromarray(shadowed, "RGBA"), options, plate)
    assert clean.images[0].data == dirty.images[0].data


def test_the_photos_own_shadow_never_reaches_the_plate() -> None:
    """An opaque photo whose product casts a dark shadow to the left; the plate's light is from the left, so the
    product's new shadow falls right: left of the product the plate stays as it was."""
    photo = photo_on((238, 238, 236))
    ImageDraw.Draw(photo).polygon([(90, 340), (10, 330), (10, 350), (90, 352)], fill=(120, 120, 118))
    plate = plate_image("kitchen_marble")
    info = PlateInfo(None, floor_y=0.78, light=Light(-80.0, 0.25, "given"))
    options = RenderOptions(
        style="studio_packshot",
        long_side=512,
        output_format="png",
        harmonize=False,
        placement=ProductPlacement(x=0.5, y=0.78, scale=0.5),
    )
    result = render_on_plate(photo, options, [LoadedPlate(info, plate)])
    out = np.asarray(Image.open(io.BytesIO(result.images[0].data)).convert("RGB"), dtype=np.float32)
    x0, _y0, x1, y1 = result.meta["product_box"]  # type: ignore[misc]
    bare = render_on_plate(photo, RenderOptions(**{**options.__dict__, "shadow": "none"}), [LoadedPlate(info, plate)])
    plain = np.asarray(Image.open(io.BytesIO(bare.images[0].data)).convert("RGB"), dtype=np.float32)
    width = x1 - x0
    left = (slice(y1 - 12, y1 + 2), slice(max(0, x0 - width), x0 - 12))
    right = (slice(y1 - 12, y1 + 2), slice(x1 + 12, min(512, x1 + width)))
    assert np.abs(out[left] - plain[left]).mean() < 2.0  # nothing of the old shadow on the left
    assert (plain[right] - out[right]).mean() > 8.0  # the new one, cast from the matte, on the right
